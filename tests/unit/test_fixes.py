"""Fixes: each fixable code repaired, untouched lines byte-identical, idempotent, and the real data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from punie_tui.core.atomic import backup_path
from punie_tui.core.convert import ConversionError, convert_record, placeholder_record
from punie_tui.core.dataset import load_dataset
from punie_tui.core.fixes import (
    FIXABLE_CODES,
    apply_plan,
    fix_arguments_string,
    fix_double_wrapped,
    fix_unclosed,
    fix_wrong_key,
    plan_fixes,
    repair_invalid_calls,
)
from punie_tui.core.diagnostics import CODES
from punie_tui.core.lint import LintContext, lint_dataset

SYSTEM = {"role": "system", "content": "Be brief."}


def chat(content: str, *after: dict[str, Any], user: str = "Show a.py") -> dict[str, Any]:
    return {"messages": [SYSTEM, {"role": "user", "content": user}, {"role": "assistant", "content": content}, *after]}


def tagged(body: str) -> str:
    return f"<tool_call>\n{body}\n</tool_call>"


GOOD_CALL = tagged('{"name": "read_file", "arguments": {"path": "a.py"}}')
ANSWER = {"role": "assistant", "content": "Done."}


def write(path: Path, lines: list[str | dict]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


def test_fix_wrong_key_renames_tool_and_args_to_name_and_arguments() -> None:
    rec = placeholder_record(chat(tagged('{"tool": "read_file", "args": {"path": "a.py"}}')))
    assert fix_wrong_key(rec)["messages"][2]["content"] == GOOD_CALL


def test_fix_wrong_key_unwraps_a_function_wrapper_in_qwen25_json() -> None:
    rec = placeholder_record(chat(tagged('{"type": "function", "function": {"name": "read_file", "arguments": {"path": "a.py"}}}')))
    assert fix_wrong_key(rec)["messages"][2]["content"] == GOOD_CALL


def test_fix_wrong_key_in_raw_distill_keeps_the_result() -> None:
    rec = placeholder_record({"query": "q", "tool_calls": [{"tool": "run_command", "args": {"command": "ls"}, "result": "a"}], "answer": "x"})
    assert fix_wrong_key(rec)["tool_calls"] == [{"name": "run_command", "arguments": {"command": "ls"}, "result": "a"}]


def test_fix_arguments_string_decodes_them_and_keeps_the_prose() -> None:
    text = 'Reading.\n\nTool call: {"type": "function", "function": {"name": "read_file", "arguments": "{\\"path\\": \\"a.py\\"}"}}'
    fixed = fix_arguments_string(placeholder_record(chat(text)))
    assert fixed["messages"][2]["content"] == 'Reading.\n\nTool call: {"type": "function", "function": {"name": "read_file", "arguments": {"path": "a.py"}}}'


def test_fix_arguments_string_in_openai_tool_calls_keeps_the_id() -> None:
    data = {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}}]}]}
    fixed = fix_arguments_string(placeholder_record(data))
    assert fixed["messages"][1]["tool_calls"] == [{"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": {"path": "a.py"}}}]


def test_fix_double_wrapped_leaves_one_wrapper_in_user_turns_and_none_in_tool_turns() -> None:
    user = placeholder_record(chat(GOOD_CALL, {"role": "user", "content": "<tool_response>\n<tool_response>\nx\n</tool_response>\n</tool_response>"}, ANSWER))
    assert fix_double_wrapped(user)["messages"][3]["content"] == "<tool_response>\nx\n</tool_response>"
    tool = placeholder_record({"messages": [{"role": "user", "content": "q"}, {"role": "tool", "content": "<tool_response>\nx\n</tool_response>"}]})
    assert fix_double_wrapped(tool)["messages"][1]["content"] == "x"


def test_repair_of_single_quoted_json_is_a_suggestion_that_reads_the_call() -> None:
    rec = placeholder_record(chat("```json\n{\"name\": \"write_file\", \"arguments\": {\"content\": 'x'}}\n```"))
    fixed = repair_invalid_calls(rec)
    assert json.loads(fixed["messages"][2]["content"].removeprefix("```json\n").removesuffix("\n```")) == {
        "name": "write_file", "arguments": {"content": "x"}}


@pytest.mark.parametrize("fix", [fix_wrong_key, fix_arguments_string, fix_double_wrapped, repair_invalid_calls])
def test_each_fix_leaves_a_clean_record_alone(fix) -> None:
    assert fix(placeholder_record(chat(GOOD_CALL))) is None


def test_plan_touches_only_the_lines_it_fixes_and_save_keeps_a_backup(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [chat(GOOD_CALL), chat(tagged('{"tool": "read_file", "args": {"path": "b.py"}}'), user="b"),
                                        '{"broken": ', chat(GOOD_CALL, user="c")])
    before = path.read_bytes().splitlines(keepends=True)
    dataset = load_dataset(path)
    plan = plan_fixes(dataset, LintContext())
    assert [(e.line, e.codes) for e in plan.edits] == [(2, ["tool-call-wrong-key"])]
    assert "-" + before[1].decode() in plan.diff() and plan.diff().count("\n-{") == 1
    apply_plan(plan)
    dataset.save()
    after = path.read_bytes().splitlines(keepends=True)
    assert [after[0], after[2], after[3]] == [before[0], before[2], before[3]]
    assert backup_path(path).read_bytes() == b"".join(before)


def test_duplicates_and_blank_lines_are_removed_keeping_the_first_copy(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [chat(GOOD_CALL), "", chat(GOOD_CALL), chat(GOOD_CALL, user="other")])
    dataset = load_dataset(path)
    apply_plan(plan_fixes(dataset, LintContext()))
    assert [r.data["messages"][1]["content"] for r in dataset.records] == ["Show a.py", "other"]


def test_repairs_are_only_planned_when_asked_for(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [chat(tagged("{'name': 'read_file', 'arguments': {'path': 'a.py'}}"))])
    dataset = load_dataset(path)
    assert plan_fixes(dataset, LintContext()).edits == []
    (edit,) = plan_fixes(dataset, LintContext(), repairs=True).edits
    assert edit.repair and edit.data["messages"][2]["content"] == GOOD_CALL


def test_every_fixable_code_has_a_fix() -> None:
    assert FIXABLE_CODES == {code for code, info in CODES.items() if info.fix}
    assert {"tool-call-wrong-key", "tool-call-arguments-string", "tool-response-double-wrapped", "format-mismatch",
            "mixed-formats", "duplicate-example", "tool-call-unclosed"} <= FIXABLE_CODES


# --- properties: idempotent, never drops or reorders lines ----------------------------------

LINES: list[str | dict] = [
    chat(GOOD_CALL, {"role": "user", "content": "<tool_response>\nok\n</tool_response>"}, ANSWER),
    chat(tagged('{"tool": "read_file", "args": {"path": "a.py"}}')),
    chat(tagged('{"name": "read_file", "arguments": "{\\"path\\": \\"a.py\\"}"}')),
    chat("```json\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a.py\"}}\n```"),
    chat('<tool_call>{"name": "read_file", "arguments": {"path": "a.py"}}</tool_call>'),
    chat(GOOD_CALL, {"role": "user", "content": "<tool_response>\n<tool_response>\nx\n</tool_response>\n</tool_response>"}, ANSWER),
    chat('<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}'),
    chat(tagged("{'name': 'read_file', 'arguments': {'path': 'a.py'}}")),
    {"query": "q", "tool_calls": [{"tool": "read_file", "args": {"path": "a"}, "result": "r"}], "answer": "x"},
    {"messages": [SYSTEM, {"role": "user", "content": "hi"}, {"role": "user", "content": "hi again"}]},
    '{"messages": [',
    "",
]


def canonical(raw: bytes, target: str) -> str:
    """A line's content in the target's canonical layout (what a file-level fix would give it)."""
    try:
        data = json.loads(raw)
        return json.dumps(convert_record(placeholder_record(data), target) or data)
    except (ValueError, ConversionError):
        return raw.decode().strip()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.tuples(st.integers(0, len(LINES) - 1), st.integers(0, 2)), min_size=1, max_size=12),
       repairs=st.booleans(), target=st.sampled_from(["qwen25-json", "qwen3-xml", "openai"]))
def test_fix_is_idempotent_and_never_drops_or_reorders_lines(tmp_path: Path, picks: list[tuple[int, int]], repairs: bool, target: str) -> None:
    # The second number varies the user text, so only some picks are exact duplicates.
    lines = []
    for index, variant in picks:
        line = LINES[index]
        if isinstance(line, dict) and "messages" in line:
            line = {**line, "messages": [*line["messages"][:1], {"role": "user", "content": f"q{variant}"}, *line["messages"][2:]]}
        lines.append(line)
    path = write(tmp_path / "p.jsonl", lines)
    ctx = LintContext(target=target)
    dataset = load_dataset(path)
    old = [r.raw for r in dataset.records]
    plan = plan_fixes(dataset, ctx, repairs=repairs)
    removed = {e.index for e in plan.edits if e.data is None}
    edited = {e.index for e in plan.edits if e.data is not None}
    apply_plan(plan)
    dataset.save()
    new = path.read_bytes().splitlines(keepends=True)
    for index in removed:
        # A removed line is blank, or (once fixed) the same as a line that stays: nothing is lost.
        if old[index].strip():
            alone = load_dataset(write(tmp_path / "alone.jsonl", [old[index].decode().rstrip("\n")]))
            apply_plan(plan_fixes(alone, ctx, FIXABLE_CODES - {"duplicate-example"}, repairs=repairs))
            assert canonical(alone.records[0].raw, target) in [canonical(line, target) for line in new]
    kept = [i for i in range(len(old)) if i not in removed]
    assert len(new) == len(kept)
    for i, line in zip(kept, new):
        if i not in edited:
            assert line == old[i]
    again = plan_fixes(load_dataset(path), ctx, repairs=repairs)
    assert again.edits == []


# --- the real datasets ------------------------------------------------------------------------


def copy_of(punie_data: Path, name: str, tmp_path: Path) -> Path:
    target = tmp_path / Path(name).name
    target.write_bytes((punie_data / name).read_bytes())
    return target


def test_real_synthetic_fix_decodes_every_arguments_string(punie_data: Path, tmp_path: Path) -> None:
    dataset = load_dataset(copy_of(punie_data, "synthetic/tool-calling/train.jsonl", tmp_path))
    ctx = LintContext(target="tool-call-prefix")
    plan = plan_fixes(dataset, ctx, ["tool-call-arguments-string"])
    assert len(plan.edits) == 85
    apply_plan(plan)
    assert lint_dataset(dataset, ctx).diagnostics == []


def test_real_poc_fix_renames_tool_to_name_on_lines_1_to_4(punie_data: Path, tmp_path: Path) -> None:
    dataset = load_dataset(copy_of(punie_data, "training_examples_poc.jsonl", tmp_path))
    ctx = LintContext(target="raw-distill")
    plan = plan_fixes(dataset, ctx)
    assert [e.line for e in plan.edits] == [1, 2, 3, 4]
    apply_plan(plan)
    assert [call["name"] for r in dataset.records for call in r.data["tool_calls"]] == ["run_command"] * 4
    assert lint_dataset(dataset, ctx).diagnostics == []


def test_real_hand_authored_repairs_then_conversion_leave_no_errors(punie_data: Path, tmp_path: Path) -> None:
    dataset = load_dataset(copy_of(punie_data, "hand-authored/tool-calling/train.jsonl", tmp_path))
    ctx = LintContext(target="qwen25-json")
    mechanical = plan_fixes(dataset, ctx)
    # Lines 3, 4 and 28 cannot be converted until their JSON is repaired.
    assert len(mechanical.edits) == 25 and len(mechanical.unfixed) == 3
    plan = plan_fixes(dataset, ctx, repairs=True)
    assert len(plan.edits) == 28 and [e.line for e in plan.edits if e.repair] == [3, 4, 28] and plan.unfixed == []
    apply_plan(plan)
    dataset.save()
    report = lint_dataset(load_dataset(dataset.path), ctx)
    assert report.errors == 0 and report.formats == {"qwen25-json": 28}


def test_real_phase28_fix_rewrites_compact_xml_in_the_canonical_layout(punie_data: Path, tmp_path: Path) -> None:
    dataset = load_dataset(copy_of(punie_data, "phase28_targeted/valid.jsonl", tmp_path))
    plan = plan_fixes(dataset, LintContext(target="qwen25-json"), ["format-mismatch"])
    assert len(plan.edits) == 9
    apply_plan(plan)
    assert all(r.data["messages"][-1]["content"].startswith('<tool_call>\n{"name": "execute_code", "arguments": {"code": ') for r in dataset.records)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, len(LINES) - 1), min_size=1, max_size=10), newline_at_end=st.booleans())
def test_the_diff_applied_with_patch_gives_the_fixed_file(tmp_path: Path, picks: list[int], newline_at_end: bool) -> None:
    import subprocess

    text = "".join((LINES[i] if isinstance(LINES[i], str) else json.dumps(LINES[i])) + "\n" for i in picks)
    path = tmp_path / "d.jsonl"
    path.write_text(text if newline_at_end else text.rstrip("\n"))
    dataset = load_dataset(path)
    plan = plan_fixes(dataset, LintContext(), repairs=True)
    expected = b"".join(plan.new_lines())
    diff = plan.diff()
    if not plan.edits:
        assert diff == ""
        return
    subprocess.run(["patch", "-s", str(path)], input=diff.encode(), check=True, capture_output=True)
    assert path.read_bytes() == expected


def test_fix_unclosed_adds_the_missing_closing_tag() -> None:
    rec = placeholder_record(chat('Reading.\n\n<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}'))
    assert fix_unclosed(rec)["messages"][2]["content"] == "Reading.\n\n" + GOOD_CALL
