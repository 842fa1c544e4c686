"""The label journal `.punie/labels.journal.jsonl`: every label decision appended and fsynced before
it counts, so a crash loses nothing; read back line by line, a corrupt line reported and skipped.

An entry is one JSON object: `v` (1), `op` (`set`, `undo` or `redo`), `file` (the dataset's path
relative to the workspace, `/`-separated), `line`, `hash` (the example's content hash, see
`labels.content_hash`), `before` and `after` (label objects) and `at` (UTC time).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from punie_tui.core.atomic import atomic_write_bytes
from punie_tui.core.labels import Label

JOURNAL_NAME = "labels.journal.jsonl"
OPS: tuple[str, ...] = ("set", "undo", "redo")


@dataclass(frozen=True, slots=True)
class Entry:
    """One decision as journaled; `line_no` is its line in the journal (0 before it is written)."""

    op: str
    file: str
    line: int
    hash: str
    before: Label
    after: Label
    at: str = ""
    line_no: int = 0

    def to_bytes(self) -> bytes:
        value = {
            "v": 1,
            "op": self.op,
            "file": self.file,
            "line": self.line,
            "hash": self.hash,
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "at": self.at or datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        return json.dumps(value, ensure_ascii=False).encode("utf-8") + b"\n"


@dataclass(frozen=True, slots=True)
class JournalProblem:
    """A journal line that could not be used, or a decision that no longer fits its record."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def parse_entry(text: str, line_no: int) -> Entry:
    """One journal line as an Entry; raises ValueError saying what is wrong with it."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    op, file, line, digest = value.get("op"), value.get("file"), value.get("line"), value.get("hash")
    if op not in OPS:
        raise ValueError(f"unknown op {op!r}")
    if not isinstance(file, str) or not isinstance(line, int) or not isinstance(digest, str):
        raise ValueError("missing file, line or hash")
    before = Label.from_json(value.get("before"))
    after = Label.from_json(value.get("after"))
    return Entry(op, file, line, digest, before, after, str(value.get("at", "")), line_no)


# fdatasync skips timestamps but still flushes the new length of an appended file; macOS has
# only fsync.
_sync = getattr(os, "fdatasync", os.fsync)


class Journal:
    """Append-only journal file of one workspace."""

    def __init__(self, punie_dir: Path) -> None:
        self.path = punie_dir / JOURNAL_NAME
        self._handle: IO[bytes] | None = None

    def read(self) -> tuple[list[Entry], list[JournalProblem]]:
        """Every usable entry in order, and a problem for each line that is not one."""
        if not self.path.exists():
            return [], []
        entries: list[Entry] = []
        problems: list[JournalProblem] = []
        content = self.path.read_bytes()
        for number, raw in enumerate(content.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                entries.append(parse_entry(raw.decode("utf-8"), number))
            except (UnicodeDecodeError, ValueError) as exc:
                problems.append(JournalProblem(self.path, number, f"corrupt journal line skipped: {exc}"))
        return entries, problems

    def append(self, entry: Entry) -> None:
        """Write one entry and fsync it; only then may the decision be shown as made."""
        handle = self._open()
        handle.write(entry.to_bytes())
        handle.flush()
        _sync(handle.fileno())

    def _open(self) -> IO[bytes]:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "ab")
            # A line torn by a crash must stay a line of its own, not swallow the next entry.
            if handle.tell() and not self.path.read_bytes().endswith(b"\n"):
                handle.write(b"\n")
            self._handle = handle
        return self._handle

    def rewrite(self, entries: list[Entry]) -> None:
        """Replace the journal with `entries` (those not yet compacted); remove it when empty."""
        self.close()
        if entries:
            atomic_write_bytes(self.path, b"".join(entry.to_bytes() for entry in entries), backup=False)
        elif self.path.exists():
            self.path.unlink()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
