"""Check several files: lint each, then leaks between train/valid/test partners and duplicates
across files; and the lint context of a workspace."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from punie_tui.config import Workspace, WorkspaceError
from punie_tui.core.dataset import Dataset, expand_paths, gc_paused, iter_records, read_content, split_lines
from punie_tui.core.formats import ToolSchemas, tool_schemas
from punie_tui.core.lint import (
    FileReport,
    LintContext,
    RecordScan,
    diagnostic_at,
    find_repeats,
    finish_report,
    lint_dataset,
    lint_records,
    scan_records,
)
from punie_tui.core.parallel import can_fork, in_parts, usable_cores

_SPLIT_NAMES = {"valid": "train", "validation": "train", "test": "train", "val": "train"}


def split_partner(path: Path) -> Path | None:
    """`train.jsonl` beside a `valid.jsonl`/`test.jsonl` (also `x_valid.jsonl` -> `x_train.jsonl`)."""
    stem = path.stem
    for name, partner in _SPLIT_NAMES.items():
        if stem == name or stem.endswith(("_" + name, "-" + name)):
            return path.with_name(stem[: len(stem) - len(name)] + partner + path.suffix)
    return None


def _leak_pairs(paths: list[Path]) -> list[tuple[int, int]]:
    """(valid/test index, train index) for every file whose train partner is also checked."""
    index = {path.resolve(): i for i, path in enumerate(paths)}
    pairs = []
    for i, path in enumerate(paths):
        partner = split_partner(path)
        j = index.get(partner.resolve()) if partner else None
        if j is not None and j != i:
            pairs.append((i, j))
    return pairs


def _add_cross_file_duplicates(reports: list[FileReport], pairs: list[tuple[int, int]]) -> None:
    """A line repeated from an earlier file (train/valid partners are reported as leaks instead)."""
    partners = {frozenset(pair) for pair in pairs}
    for j, later in enumerate(reports):
        found = []
        for i, earlier in enumerate(reports[:j]):
            if frozenset((i, j)) in partners:
                continue
            for text, line in later.lines_seen.items():
                first = earlier.lines_seen.get(text)
                if first is not None:
                    found.append(diagnostic_at(later.path, line, "duplicate-example", f"repeats {earlier.path.name}:{first}; "
                                     "remove one copy (fix only removes repeats within one file)"))
        if found:
            later.diagnostics = sorted(later.diagnostics + found, key=lambda d: d.line)


def _add_leaks(reports: list[FileReport], pairs: list[tuple[int, int]]) -> None:
    for i, j in pairs:
        other, train = reports[i], reports[j]
        seen = train.conversations or {}
        leaks = [diagnostic_at(other.path, line, "train-valid-leak", f"the same conversation is {train.path.name}:{seen[key]}; "
                     "the validation loss is flattered")
                 for key, line in (other.conversations or {}).items() if key in seen]
        if leaks:
            other.diagnostics = sorted(other.diagnostics + leaks, key=lambda d: d.line)


# --- many files -----------------------------------------------------------------------------


def lint_datasets(datasets: list[Dataset], ctx: LintContext) -> list[FileReport]:
    """Reports for several loaded files, with train/valid/test leaks checked between partners."""
    pairs = _leak_pairs([d.path for d in datasets])
    keyed = {k for pair in pairs for k in pair}
    reports = [lint_dataset(dataset, ctx, keys=i in keyed) for i, dataset in enumerate(datasets)]
    _add_leaks(reports, pairs)
    _add_cross_file_duplicates(reports, pairs)
    return reports


def check_paths(paths: Iterable[Path | str], ctx: LintContext, workers: int | None = None) -> list[FileReport]:
    """Lint files and folders (all `*.jsonl` inside), streaming each file; raises DatasetError for
    unusable input before any file is linted. A big file is linted on `workers` cores (default: all
    this process may use)."""
    files = expand_paths(paths)
    contents = [read_content(path) for path in files]
    pairs = _leak_pairs(files)
    keyed = {k for pair in pairs for k in pair}
    reports = []
    for i, (path, content) in enumerate(zip(files, contents)):
        with gc_paused():
            reports.append(lint_content(path, content, ctx, keys=i in keyed, workers=workers))
        contents[i] = b""
    _add_leaks(reports, pairs)
    _add_cross_file_duplicates(reports, pairs)
    return reports


# Below this many bytes a part is not worth a process: forking and sending the result back cost
# about as much as linting 8 MB (~14k lines of 580 bytes) takes on one core.
MIN_PART_BYTES = 8 << 20


def _parts(content: bytes, count: int) -> list[tuple[int, int, int]]:
    """(first line, start, end) of `count` runs of whole lines of about equal size."""
    bounds = [0]
    for i in range(1, count):
        cut = content.find(b"\n", max(bounds[-1], len(content) * i // count))
        if cut == -1 or cut + 1 >= len(content):
            break
        bounds.append(cut + 1)
    bounds.append(len(content))
    parts, line = [], 1
    for start, end in zip(bounds, bounds[1:]):
        parts.append((line, start, end))
        line += content.count(b"\n", start, end)
    return parts


def _scan_part(path: Path, content: bytes, ctx: LintContext, keys: bool, part: tuple[int, int, int]) -> RecordScan:
    first_line, start, end = part
    # Only the first run, linted in this process, looks for repeated lines: over the whole file.
    return scan_records(path, iter_records(path, content[start:end], first_line), ctx, keys=keys, repeats=first_line == 1)


def lint_content(path: Path, content: bytes, ctx: LintContext, *, keys: bool = False, workers: int | None = None) -> FileReport:
    """One file's report; a big file is split into runs of lines linted in forked processes at once.

    This process lints the first run and looks for repeated lines over the whole file (that needs
    every line in one place); each other run comes back as a RecordScan, so the report is the one
    a single pass gives. A worker that fails has its run linted here instead.
    """
    count = workers if workers is not None else min(usable_cores(), max(1, len(content) // MIN_PART_BYTES))
    if count < 2 or not can_fork():
        return lint_records(path, iter_records(path, content), ctx, keys=keys)
    parts = _parts(content, count)
    scans = in_parts(partial(_scan_part, path, content, ctx, keys), parts)
    for scan, (first_line, start, end) in zip(scans[1:], parts[1:]):
        numbered = enumerate(split_lines(content[start:end]), start=first_line)
        scan.diagnostics.extend(find_repeats(path, numbered, scan.broken, scans[0].lines_seen))
    return finish_report(path, scans, ctx)


def workspace_context(workspace: Workspace, target: str | None = None, tools_path: Path | None = None) -> LintContext:
    """The lint context of a workspace, with the command line's --target and --tools on top."""
    settings = workspace.settings
    if tools_path is not None:
        tools = load_tools_file(tools_path)
        schemas: ToolSchemas | None = tool_schemas(tools)
    else:
        schemas = tool_schemas(workspace.tools()) if workspace.tools_path.exists() else None
    return LintContext(target or settings.target_format, schemas, settings.system_prompt, settings.max_seq_length)


def load_tools_file(path: Path) -> list[dict[str, Any]]:
    """Tool definitions from a JSON file (a list, or an object with a `tools` list)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise WorkspaceError(f"{path}: no such tools file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path}: not valid JSON: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("tools"), list):
        data = data["tools"]
    if not isinstance(data, list):
        raise WorkspaceError(f"{path}: expected a JSON list of tool definitions")
    return data

