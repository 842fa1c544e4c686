"""What an eval runs: the held-out queries file, prompts sampled from the training data ("seen"),
and reference rows measured elsewhere; each read with errors that name the file and line.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from punie_tui.config import Workspace
from punie_tui.core.chat.transcript import ToolCall
from punie_tui.core.chat.verdict import Expected, has_call_markers, normalise_arguments
from punie_tui.core.dataset import load_dataset
from punie_tui.errors import UnusableInput

QuerySet = Literal["heldout", "seen"]
# The numbers a reference row may carry: the same names as a measured target's JSON.
METRIC_NAMES: tuple[str, ...] = (
    "accuracy", "tool_precision", "tool_recall", "loop_rate", "mean_turns", "mean_seconds", "seen_accuracy", "heldout_accuracy",
)


class SuiteError(UnusableInput):
    """A queries or references file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class SuiteQuery:
    """One prompt of the suite: whether a tool call is expected and, optionally, which call."""

    prompt: str
    expected: Expected
    set: QuerySet = "heldout"
    tool: str | None = None
    # Argument checks: each value must occur in the call's argument of that name.
    arguments: dict[str, str] = field(default_factory=dict)
    location: str = ""

    def call_matches(self, call: ToolCall) -> bool:
        """Whether a call is the one this query asks for (name and argument checks)."""
        if self.tool is not None and call.name != self.tool:
            return False
        if not self.arguments:
            return True
        called = json.loads(normalise_arguments(call.arguments)) if isinstance(call.arguments, dict) else {}
        return all(isinstance(called.get(key), str) and want in called[key] for key, want in self.arguments.items())

    @property
    def checks_call(self) -> bool:
        return self.tool is not None or bool(self.arguments)


def _query_expected(data: dict[str, Any], where: str) -> Expected:
    value = data.get("expected")
    if value in ("tool", "direct"):
        return value
    if value is None and isinstance(data.get("tool"), str):
        return "tool"
    raise SuiteError(f"{where}: 'expected' must be \"tool\" or \"direct\", got {value!r}")


def load_queries_file(path: Path) -> list[SuiteQuery]:
    """The held-out queries of a JSONL file: `prompt`, `expected` (`tool`|`direct`), optional
    `tool` (the name the call must have) and `arguments` (values each call argument must contain)."""
    if not path.is_file():
        raise SuiteError(f"{path}: no such queries file")
    queries = []
    for record in load_dataset(path).records:
        where = record.location
        if record.data is None:
            raise SuiteError(f"{where}: {record.error}")
        data = record.data
        prompt = data.get("prompt", data.get("query"))
        if not isinstance(prompt, str) or not prompt.strip():
            raise SuiteError(f"{where}: no 'prompt' text")
        tool = data.get("tool")
        if tool is not None and not isinstance(tool, str):
            raise SuiteError(f"{where}: 'tool' must be a tool name, got {tool!r}")
        arguments = data.get("arguments", {})
        if not isinstance(arguments, dict) or not all(isinstance(v, str) for v in arguments.values()):
            raise SuiteError(f"{where}: 'arguments' must map argument names to text the argument must contain")
        expected = _query_expected(data, where)
        if expected == "direct" and (tool or arguments):
            raise SuiteError(f"{where}: a 'direct' query cannot name a tool or argument checks")
        queries.append(SuiteQuery(prompt, expected, "heldout", tool, arguments, where))
    return queries


def _first_exchange(turns: list[dict[str, Any]]) -> tuple[str, Expected] | None:
    """The first user prompt and whether the assistant's reply to it called a tool."""
    for index, turn in enumerate(turns):
        if turn.get("role") != "user" or not isinstance(turn.get("content"), str):
            continue
        for reply in turns[index + 1 :]:
            if reply.get("role") == "assistant":
                content = reply.get("content") if isinstance(reply.get("content"), str) else ""
                called = bool(reply.get("tool_calls")) or has_call_markers(content)
                return turn["content"], "tool" if called else "direct"
        return None
    return None


def seen_queries(paths: Iterable[Path], count: int, *, seed: int = 0, exclude: Iterable[str] = ()) -> list[SuiteQuery]:
    """`count` prompts drawn with `seed` from the user turns of training files; each expects what
    its training answer did (a tool call or a direct answer). Held-out prompts are excluded."""
    skip = {prompt.strip() for prompt in exclude}
    candidates: dict[str, SuiteQuery] = {}
    for path in paths:
        for record in load_dataset(path).records:
            exchange = _first_exchange(record.turns())
            if exchange is None:
                continue
            prompt, expected = exchange
            if prompt.strip() and prompt.strip() not in skip and prompt not in candidates:
                candidates[prompt] = SuiteQuery(prompt, expected, "seen", location=record.location)
    pool = list(candidates.values())
    return random.Random(seed).sample(pool, min(count, len(pool)))


@dataclass(frozen=True)
class Reference:
    """A row measured elsewhere (another machine, a hosted agent, a paper), shown marked as such."""

    name: str
    metrics: dict[str, float]
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        # The shape of a measured target's row, so readers need no special case; no results of its own.
        return {"name": self.name, **{key: self.metrics.get(key) for key in METRIC_NAMES}, "results": [], "reference": True, "note": self.note}


def _reference(data: Any, where: str) -> Reference:
    if not isinstance(data, dict):
        raise SuiteError(f"{where}: a reference row must be a JSON object")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SuiteError(f"{where}: a reference row needs a 'name'")
    metrics = {}
    for key in METRIC_NAMES:
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SuiteError(f"{where}: '{key}' must be a number, got {value!r}")
        metrics[key] = float(value)
    # A reference gives one accuracy; it is the held-out one unless it says otherwise.
    if "accuracy" in metrics and "heldout_accuracy" not in metrics:
        metrics["heldout_accuracy"] = metrics["accuracy"]
    if "heldout_accuracy" in metrics and "accuracy" not in metrics:
        metrics["accuracy"] = metrics["heldout_accuracy"]
    note = data.get("note", "")
    return Reference(name, metrics, note if isinstance(note, str) else str(note))


def load_references(path: Path) -> list[Reference]:
    """Reference rows from a JSON list or a JSONL file of objects with `name`, any metric and `note`."""
    if not path.is_file():
        raise SuiteError(f"{path}: no such references file")
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SuiteError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
        return [_reference(row, f"{path}: row {index}") for index, row in enumerate(rows, 1)]
    references = []
    for record in load_dataset(path).records:
        if record.data is None:
            raise SuiteError(f"{record.location}: {record.error}")
        references.append(_reference(record.data, record.location))
    return references


def training_files(workspace: Workspace, run_dirs: Iterable[Path] = ()) -> list[Path]:
    """Where seen prompts come from: the train.jsonl of the runs evaluated, else the workspace's datasets."""
    from punie_tui.core.eval_targets import run_training_file

    files = [path for path in (run_training_file(run) for run in run_dirs) if path is not None]
    return files or workspace.dataset_paths()


def build_suite(workspace: Workspace, queries_file: Path | None = None, *, seen: int | None = None, seed: int = 0,
                train_files: list[Path] | None = None, run_dirs: Iterable[Path] = ()) -> list[SuiteQuery]:
    """Held-out queries (the workspace's queries file by default) followed by `seen` training
    prompts (as many as held-out queries by default)."""
    heldout = load_queries_file(queries_file or workspace.queries_path)
    files = train_files if train_files is not None else training_files(workspace, run_dirs)
    count = len(heldout) if seen is None else seen
    return heldout + seen_queries(files, count, seed=seed, exclude=[q.prompt for q in heldout])


def workspace_queries(workspace: Workspace) -> list[SuiteQuery]:
    """The workspace's held-out queries; [] when it has no queries file (SuiteError for a broken one)."""
    path = workspace.queries_path
    return load_queries_file(path) if path.exists() else []


def expectation_for(queries: Iterable[SuiteQuery], prompt: str) -> Expected | None:
    """Whether `prompt`, when it is one of `queries`, should get a tool call or a direct answer."""
    wanted = prompt.strip()
    return next((query.expected for query in queries if query.prompt.strip() == wanted), None)


# Reference rows a workspace keeps beside its data (JSON, so it is never taken for a dataset).
REFERENCES_FILE = "eval-references.json"


def workspace_references(workspace: Workspace) -> list[Reference]:
    """The workspace's own reference rows; [] when it keeps none."""
    path = workspace.root / REFERENCES_FILE
    return load_references(path) if path.is_file() else []
