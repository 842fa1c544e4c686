"""JSONL datasets as records that keep their file, line number and raw bytes.

Every input line becomes a Record, broken or not, and an unmodified record is written back
byte-identical. Saving is atomic and refuses to overwrite a file that changed on disk since it was
read.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from punie_tui.core.atomic import atomic_write_bytes
from punie_tui.errors import UnusableInput

SHAPES: tuple[str, ...] = ("messages", "text", "prompt-completion", "raw-distill", "unknown", "broken")

_CHATML_TURN = re.compile(r"<\|im_start\|>([^\n<]*)\n?(.*?)(?:<\|im_end\|>|(?=<\|im_start\|>)|\Z)", re.S)


class DatasetError(UnusableInput):
    """A dataset file that cannot be used at all (missing, a folder, binary, changed on disk)."""


class ExternalChangeError(DatasetError):
    """The file changed on disk since it was read; saving would lose someone else's edits."""


def detect_shape(data: Any) -> str:
    """Name the record shape of one parsed JSONL value (see SHAPES)."""
    if not isinstance(data, dict):
        return "broken"
    if isinstance(data.get("messages"), list):
        return "messages"
    if isinstance(data.get("text"), str):
        return "text"
    if "prompt" in data and "completion" in data:
        return "prompt-completion"
    if "query" in data and isinstance(data.get("tool_calls"), list):
        return "raw-distill"
    return "unknown"


def split_chatml(text: str) -> list[dict[str, Any]]:
    """Split ChatML text (`<|im_start|>role ... <|im_end|>`) into turns; [] if it has no markers."""
    return [
        {"role": role.strip(), "content": content.rstrip("\n")}
        for role, content in _CHATML_TURN.findall(text)
    ]


def _raw_distill_turns(data: dict[str, Any]) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = [{"role": "user", "content": str(data.get("query", ""))}]
    for call in data.get("tool_calls") or []:
        if not isinstance(call, dict):
            continue
        name = call.get("name", call.get("tool"))
        arguments = call.get("arguments", call.get("args", {}))
        turns.append(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"type": "function", "function": {"name": name, "arguments": arguments}}],
            }
        )
        if "result" in call:
            turns.append({"role": "tool", "name": name, "content": str(call["result"])})
    if data.get("answer") is not None:
        turns.append({"role": "assistant", "content": str(data["answer"])})
    return turns


@dataclass(slots=True)
class Record:
    """One line of a JSONL file: where it came from, its exact bytes and what they parse to."""

    path: Path
    line: int
    raw: bytes
    data: dict[str, Any] | None
    error: str | None
    shape: str
    modified: bool = False

    @property
    def text(self) -> str:
        """The line without its terminator, decoded leniently for display."""
        return self.raw.rstrip(b"\r\n").decode("utf-8", errors="replace")

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def broken(self) -> bool:
        return self.data is None

    def turns(self) -> list[dict[str, Any]]:
        """The record as a list of chat turns (`role`, `content`, optional `tool_calls`/`name`)."""
        data = self.data
        if data is None:
            return []
        if self.shape == "messages":
            return [turn for turn in data["messages"] if isinstance(turn, dict)]
        if self.shape == "text":
            turns = split_chatml(data["text"])
            return turns or [{"role": "text", "content": data["text"]}]
        if self.shape == "prompt-completion":
            return [
                {"role": "user", "content": str(data["prompt"])},
                {"role": "assistant", "content": str(data["completion"])},
            ]
        if self.shape == "raw-distill":
            return _raw_distill_turns(data)
        return []


def parse_line(path: Path, line: int, raw: bytes) -> Record:
    """Parse one raw line (with its terminator) into a Record; never raises."""
    body = raw.rstrip(b"\r\n")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Record(path, line, raw, None, f"not UTF-8: byte {exc.start + 1} is 0x{body[exc.start]:02x}", "broken")
    if not text or text.isspace():
        return Record(path, line, raw, None, "blank line (mlx-lm fails on it)", "broken")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Record(path, line, raw, None, f"not JSON: {exc.msg} at column {exc.colno}", "broken")
    if not isinstance(data, dict):
        return Record(path, line, raw, None, f"not a JSON object but a {type(data).__name__}", "broken")
    return Record(path, line, raw, data, None, detect_shape(data))


def split_lines(content: bytes) -> Iterator[bytes]:
    start = 0
    while start < len(content):
        end = content.find(b"\n", start)
        if end == -1:
            yield content[start:]
            return
        yield content[start : end + 1]
        start = end + 1


@dataclass
class Dataset:
    """A JSONL file as read: its records and a digest to detect later changes on disk."""

    path: Path
    records: list[Record]
    digest: str

    @property
    def dirty(self) -> bool:
        return any(record.modified for record in self.records)

    def replace(self, index: int, data: dict[str, Any]) -> Record:
        """Put new content at a record's place; its line keeps its number and terminator."""
        old = self.records[index]
        raw = json.dumps(data, ensure_ascii=False).encode("utf-8") + _ending(old.raw)
        record = Record(old.path, old.line, raw, data, None, detect_shape(data), modified=True)
        self.records[index] = record
        return record

    def to_bytes(self) -> bytes:
        return b"".join(record.raw for record in self.records)

    def save(self, path: Path | None = None, *, backup: bool = True) -> None:
        """Write atomically; refuse when the file changed on disk since it was read. A write the
        system refuses (a folder, no permission, a full disk) is a DatasetError; nothing is lost."""
        target = Path(path) if path is not None else self.path
        if target == self.path and self.path.exists():
            current = _digest(self.path.read_bytes())
            if current != self.digest:
                raise ExternalChangeError(
                    f"{self.path}: changed on disk since it was read; reload it before saving "
                    "(nothing was written)"
                )
        content = self.to_bytes()
        try:
            atomic_write_bytes(target, content, backup=backup)
        except OSError as exc:
            raise DatasetError(f"{target}: cannot write: {exc.strerror or exc} (nothing was written)") from exc
        if target == self.path:
            self.digest = _digest(content)
            for record in self.records:
                record.modified = False


def _ending(raw: bytes) -> bytes:
    return raw[len(raw.rstrip(b"\r\n")) :]


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def read_content(path: Path | str) -> bytes:
    """A JSONL file's bytes; raises DatasetError when it is missing, a folder or not text."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: no such file")
    if path.is_dir():
        raise DatasetError(f"{path}: is a folder, not a JSONL file")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read: {exc.strerror}") from exc
    if b"\x00" in content[:65536]:
        raise DatasetError(f"{path}: not a text file (it contains NUL bytes)")
    return content


def iter_records(path: Path, content: bytes, first_line: int = 1) -> Iterator[Record]:
    """Every line of a file's content as a Record, one at a time (for a pass that keeps none);
    `content` may be a part of the file that starts at line `first_line`."""
    for number, raw in enumerate(split_lines(content), start=first_line):
        yield parse_line(path, number, raw)


def load_dataset(path: Path | str) -> Dataset:
    """Read one JSONL file; every line becomes a record (broken ones keep their error)."""
    path = Path(path)
    content = read_content(path)
    with gc_paused():
        records = list(iter_records(path, content))
    return Dataset(path, records, _digest(content))


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector during a bulk pass over many records.

    Loading and linting allocate objects per line and free few; the collector would rescan the
    growing heap over and over (half the time on 100k lines). Records hold no reference cycles,
    so nothing waits long for collection.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def expand_paths(paths: Iterable[Path | str]) -> list[Path]:
    """Files as given; folders become the sorted `*.jsonl` files inside them (recursively)."""
    found: list[Path] = []
    for item in paths:
        item = Path(item)
        if item.is_dir():
            found.extend(sorted(p for p in item.rglob("*.jsonl") if ".punie" not in p.parts))
        else:
            found.append(item)
    return found


def load_datasets(paths: Iterable[Path | str]) -> list[Dataset]:
    return [load_dataset(path) for path in expand_paths(paths)]
