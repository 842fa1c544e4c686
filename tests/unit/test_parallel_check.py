"""A file linted in forked parts gives exactly the report of one pass, and survives a failed worker."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from punie_tui.core import checking, parallel
from punie_tui.core.checking import check_paths, lint_content
from punie_tui.core.dataset import load_datasets
from punie_tui.core.lint import LintContext
from punie_tui.core.parallel import Forked, ForkFailed

SCHEMAS = {
    "read_file": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    "run_command": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
}
SYSTEM = "You are Punie."


def _line(i: int) -> str:
    """Lines with something for every kind of rule: calls, drift, broken JSON, mixed layouts."""
    call = {"name": "read_file", "arguments": {"path": f"src/{i % 7}.py"}}
    if i % 41 == 0:
        call = {"tool": "read_file", "args": {"path": "x.py"}}
    body = f"<tool_call>\n{json.dumps(call)}\n</tool_call>" if i % 13 else f"<tool_call>{json.dumps(call)}</tool_call>"
    system = SYSTEM if i % 17 else "You are someone else."
    if i % 29 == 0:
        return "{not json"
    if i % 3 == 0:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": f"What is {i % 11}?"},
                    {"role": "assistant", "content": "A number."}]
    else:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": f"Read file {i % 7}"},
                    {"role": "assistant", "content": body},
                    {"role": "user", "content": "<tool_response>\nx = 1\n</tool_response>"},
                    {"role": "assistant", "content": "It sets x."}]
    return json.dumps({"messages": messages})


@pytest.fixture()
def big_file(tmp_path: Path) -> Path:
    # Repeats (i % 7 / i % 11 give the same lines again) fall on both sides of every part boundary.
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(_line(i) for i in range(3000)) + "\n")
    return path


@pytest.fixture()
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the workers forked; forking is allowed even if an earlier test left a thread behind."""
    made: list[int] = []

    class Counted(Forked):
        def __init__(self, *args) -> None:
            made.append(1)
            super().__init__(*args)

    monkeypatch.setattr(parallel, "Forked", Counted)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    monkeypatch.setattr(checking, "can_fork", lambda: True)
    return made


def _report_tuple(report):
    return (report.records, dict(report.formats), [d.to_json() for d in report.diagnostics],
            report.conversations, report.lines_seen)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")
@pytest.mark.parametrize("workers", [2, 3, 5])
def test_parts_in_forked_workers_give_the_single_pass_report(big_file: Path, workers: int, forks: list[int]) -> None:
    ctx = LintContext(target="qwen25-json", schemas=SCHEMAS, system_prompt="")
    content = big_file.read_bytes()
    single = lint_content(big_file, content, ctx, keys=True, workers=1)
    split = lint_content(big_file, content, ctx, keys=True, workers=workers)
    assert len(forks) == workers - 1
    assert _report_tuple(split) == _report_tuple(single)
    codes = {d.code for d in single.diagnostics}
    assert {"duplicate-example", "invalid-jsonl-line", "tool-call-wrong-key", "mixed-formats", "system-prompt-drift"} <= codes


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")
def test_real_datasets_checked_in_parts_match_one_pass(punie_data: Path, forks: list[int]) -> None:
    ctx = LintContext(target="qwen25-json")
    files = [dataset.path for dataset in load_datasets([punie_data])]
    single = check_paths(files, ctx, workers=1)
    split = check_paths(files, ctx, workers=2)
    assert forks
    assert [_report_tuple(r) for r in split] == [_report_tuple(r) for r in single]


def test_a_failed_worker_has_its_part_linted_in_the_parent(big_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def __init__(self, *args) -> None:
            pass

        def result(self):
            raise ForkFailed("the worker process ended without a result (wait status 9)")

    ctx = LintContext(target="qwen25-json", schemas=SCHEMAS)
    content = big_file.read_bytes()
    single = lint_content(big_file, content, ctx, workers=1)
    monkeypatch.setattr(parallel, "Forked", Broken)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    monkeypatch.setattr(checking, "can_fork", lambda: True)
    assert _report_tuple(lint_content(big_file, content, ctx, workers=3)) == _report_tuple(single)


def _boom() -> None:
    raise ValueError("no good")


def _vanish() -> None:
    os._exit(3)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")
def test_forked_returns_the_value_or_says_why_there_is_none() -> None:
    assert Forked(sum, [1, 2, 3]).result() == 6
    with pytest.raises(ForkFailed, match="ValueError: no good"):
        Forked(_boom).result()
    with pytest.raises(ForkFailed, match="ended without a result"):
        Forked(_vanish).result()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")
def test_a_fork_the_system_refuses_is_a_failure_to_redo_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    with pytest.raises(ForkFailed, match="could not fork: .*Resource temporarily unavailable"):
        Forked(sum, [1]).result()


def test_small_files_are_not_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "small.jsonl"
    path.write_text(_line(1) + "\n")
    monkeypatch.setattr(parallel, "Forked", lambda *args: pytest.fail("forked for a one-line file"))
    assert lint_content(path, path.read_bytes(), LintContext()).records == 1


PARENT = os.getpid()


def _square_or_die(part: list[int]) -> list[int]:
    # A forked process dies on the part holding 7; here, the part is done like any other.
    if 7 in part and os.getpid() != PARENT:
        os._exit(1)
    return [n * n for n in part]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")
def test_in_parts_keeps_the_order_and_redoes_a_failed_part_here(monkeypatch: pytest.MonkeyPatch) -> None:
    from punie_tui.core import parallel

    monkeypatch.setattr(parallel, "usable_cores", lambda: 4)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    parts = parallel.shares(list(range(10)), 2)
    assert parts == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert parallel.in_parts(_square_or_die, parts) == [[0, 1, 4], [9, 16, 25], [36, 49, 64], [81]]
    assert parallel.shares([], 2) == [[]]
