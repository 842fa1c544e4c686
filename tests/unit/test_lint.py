"""Lint: every diagnostic code from a minimal example, and the real datasets' known defects."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from punie_tui.core.dataset import load_dataset, load_datasets
from punie_tui.core.formats import tool_schemas
from punie_tui.core.checking import lint_datasets
from punie_tui.core.diagnostics import CODES, Diagnostic
from punie_tui.core.lint import LintContext, lint_dataset

TOOLS = tool_schemas([
    {"type": "function", "function": {"name": "read_file", "parameters": {
        "type": "object", "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}}, "required": ["path"]}}},
    {"type": "function", "function": {"name": "run_command", "parameters": {
        "type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}},
])
SYSTEM = {"role": "system", "content": "You are a coding assistant."}
USER = {"role": "user", "content": "What is in a.py?"}
CALL = '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}\n</tool_call>'
RESULT = {"role": "user", "content": "<tool_response>\nx = 1\n</tool_response>"}
ANSWER = {"role": "assistant", "content": "It sets x to 1."}
GOOD = {"messages": [SYSTEM, USER, {"role": "assistant", "content": CALL}, RESULT, ANSWER]}


def chat(*turns: dict[str, Any]) -> dict[str, Any]:
    return {"messages": [SYSTEM, USER, *turns]}


def call_turn(body: str) -> dict[str, Any]:
    return {"role": "assistant", "content": f"<tool_call>\n{body}\n</tool_call>"}


def lint_lines(tmp_path: Path, lines: list[str | dict], ctx: LintContext | None = None, name: str = "data.jsonl") -> list[Diagnostic]:
    path = tmp_path / name
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines), encoding="utf-8")
    return lint_dataset(load_dataset(path), ctx or LintContext(schemas=TOOLS)).diagnostics


def codes(diagnostics: list[Diagnostic]) -> Counter[str]:
    return Counter(d.code for d in diagnostics)


# Each code: records that show it, and the same records fixed, which must not.
CASES: dict[str, tuple[list[str | dict], list[str | dict], dict[str, Any]]] = {
    "invalid-jsonl-line": (['{"messages": [', ""], [GOOD], {}),
    "unknown-record-shape": ([{"question": "hi", "reply": "hello"}, {"messages": [{"content": "no role"}]}], [GOOD], {}),
    "tool-call-invalid-json": ([chat(call_turn("{\"name\": \"read_file\", \"arguments\": {'path': 'a.py'}}"))], [chat(call_turn('{"name": "read_file", "arguments": {"path": "a.py"}}'))], {}),
    "tool-call-wrong-key": ([chat(call_turn('{"tool": "read_file", "args": {"path": "a.py"}}')),
                             chat(call_turn('{"type": "function", "function": {"name": "read_file", "arguments": {"path": "a.py"}}}'))],
                            [chat(call_turn('{"name": "read_file", "arguments": {"path": "a.py"}}'))], {}),
    "tool-call-arguments-string": ([chat(call_turn('{"name": "read_file", "arguments": "{\\"path\\": \\"a.py\\"}"}'))],
                                   [chat(call_turn('{"name": "read_file", "arguments": {"path": "a.py"}}'))], {}),
    "tool-call-unknown-tool": ([chat(call_turn('{"name": "read_files", "arguments": {"path": "a.py"}}'))], [GOOD], {}),
    "tool-call-bad-arguments": ([chat(call_turn('{"name": "read_file", "arguments": {"file": "a.py"}}')),
                                 chat(call_turn('{"name": "read_file", "arguments": {"path": "a.py", "limit": "ten"}}'))],
                                [chat(call_turn('{"name": "read_file", "arguments": {"path": "a.py", "limit": 10}}'))], {}),
    "tool-call-unclosed": ([chat({"role": "assistant", "content": '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}'})], [GOOD], {}),
    "format-mismatch": ([chat({"role": "assistant", "content": '```json\n{"name": "read_file", "arguments": {"path": "a.py"}}\n```'})], [GOOD], {}),
    "mixed-formats": ([GOOD, chat({"role": "assistant", "content": '<tool_call>{"name": "read_file", "arguments": {"path": "a.py"}}</tool_call>'})],
                      [GOOD, GOOD | {"id": 2}], {}),
    "tool-response-double-wrapped": ([chat({"role": "assistant", "content": CALL}, {"role": "user", "content": "<tool_response>\n<tool_response>\nx\n</tool_response>\n</tool_response>"}, ANSWER),
                                      chat({"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "read_file", "arguments": {"path": "a.py"}}}]},
                                           {"role": "tool", "name": "read_file", "content": "<tool_response>\nx\n</tool_response>"}, ANSWER)],
                                     [GOOD], {"target": "qwen25-json"}),
    "tool-result-missing": ([chat({"role": "assistant", "content": CALL}, {"role": "user", "content": "thanks"}, ANSWER)], [GOOD], {}),
    "consecutive-role": ([{"messages": [SYSTEM, USER, USER, ANSWER]}], [GOOD], {}),
    "empty-turn": ([{"messages": [SYSTEM, USER, {"role": "assistant", "content": ""}]}], [GOOD], {}),
    "last-turn-not-assistant": ([{"messages": [SYSTEM, USER]}], [GOOD], {}),
    "duplicate-example": ([GOOD, GOOD], [GOOD, GOOD | {"id": 2}], {}),
    "system-prompt-drift": ([GOOD, {"messages": [{"role": "system", "content": "You are someone else."}, USER, ANSWER]}], [GOOD], {"system_prompt": SYSTEM["content"]}),
    "too-long": ([{"messages": [SYSTEM, USER, {"role": "assistant", "content": "x" * 400}]}], [GOOD], {"max_tokens": 64}),
}


def test_every_code_has_a_minimal_case_and_the_cases_cover_every_code() -> None:
    assert set(CASES) | {"train-valid-leak"} == set(CODES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_minimal_defect_reports_its_code_and_the_fixed_version_does_not(code: str, tmp_path: Path) -> None:
    bad, good, options = CASES[code]
    ctx = LintContext(schemas=TOOLS, **options)
    assert code in codes(lint_lines(tmp_path, bad, ctx))
    assert code not in codes(lint_lines(tmp_path, good, ctx))


def test_every_code_is_documented_with_a_defect_and_its_fix() -> None:
    for info in CODES.values():
        assert info.severity in ("error", "warning") and info.summary and info.defect and info.fixed
        assert info.defect != info.fixed


def test_train_valid_leak_reports_the_valid_line_and_its_train_twin(tmp_path: Path) -> None:
    other = {"messages": [SYSTEM, {"role": "user", "content": "Other question"}, ANSWER]}
    (tmp_path / "train.jsonl").write_text(json.dumps(GOOD) + "\n" + json.dumps(other) + "\n")
    twin = {"messages": [{"role": "system", "content": "A different prompt"}, USER | {"content": "what is  in A.py?"}, *GOOD["messages"][2:]]}
    (tmp_path / "valid.jsonl").write_text(json.dumps(ANSWER | {"x": 1}) + "\n" + json.dumps(twin) + "\n")
    reports = lint_datasets(load_datasets([tmp_path]), LintContext())
    leaks = [d for r in reports for d in r.diagnostics if d.code == "train-valid-leak"]
    assert [(d.path.name, d.line) for d in leaks] == [("valid.jsonl", 2)]
    assert "train.jsonl:1" in leaks[0].message


def test_diagnostics_carry_file_line_severity_and_whether_fixable(tmp_path: Path) -> None:
    found = lint_lines(tmp_path, [GOOD, chat(call_turn('{"tool": "read_file", "args": {"path": "a.py"}}'))])
    (wrong,) = [d for d in found if d.code == "tool-call-wrong-key"]
    assert (wrong.path.name, wrong.line, wrong.severity, wrong.fixable) == ("data.jsonl", 2, "error", True)
    assert wrong.to_json() == {"path": str(tmp_path / "data.jsonl"), "line": 2, "code": "tool-call-wrong-key",
                               "severity": "error", "message": wrong.message, "fixable": True}


def test_unknown_tools_are_not_reported_when_no_schemas_are_known(tmp_path: Path) -> None:
    found = lint_lines(tmp_path, [chat(call_turn('{"name": "anything", "arguments": {}}'))], LintContext(schemas=None))
    assert "tool-call-unknown-tool" not in codes(found)


def test_an_empty_tool_result_is_not_an_empty_turn(tmp_path: Path) -> None:
    record = {"messages": [SYSTEM, USER, {"role": "assistant", "content": "```json\n{\"name\": \"run_command\", \"arguments\": {\"command\": \"true\"}}\n```"},
                           {"role": "user", "content": "Tool result: "}, ANSWER]}
    assert codes(lint_lines(tmp_path, [record], LintContext(target="json-fence", schemas=TOOLS))) == Counter()


def test_a_call_that_ends_the_example_needs_no_result(tmp_path: Path) -> None:
    assert codes(lint_lines(tmp_path, [chat({"role": "assistant", "content": CALL})])) == Counter()


def test_chatml_text_records_are_linted_like_messages(tmp_path: Path) -> None:
    text = ("<|im_start|>system\nYou are a coding assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
            '<|im_start|>assistant\n<tool_call>\n{"tool": "read_file", "args": {"path": "a.py"}}\n</tool_call><|im_end|>\n')
    assert codes(lint_lines(tmp_path, [{"text": text}])) == Counter({"tool-call-wrong-key": 1})


def test_openai_arguments_as_string_are_reported(tmp_path: Path) -> None:
    record = chat({"role": "assistant", "content": "", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}}]})
    assert codes(lint_lines(tmp_path, [record], LintContext(target="openai", schemas=TOOLS))) == Counter({"tool-call-arguments-string": 1})


def test_mixed_layouts_of_qwen3_xml_are_reported_on_the_non_canonical_records(tmp_path: Path) -> None:
    compact = chat({"role": "assistant", "content": "<tool_call><function=read_file>\n<parameter=path>\na.py\n</parameter>\n</function></tool_call>"})
    canonical = chat({"role": "assistant", "content": "<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n</parameter>\n</function>\n</tool_call>"})
    found = lint_lines(tmp_path, [compact, canonical, compact | {"id": 3}], LintContext(target="qwen3-xml", schemas=TOOLS))
    assert [(d.code, d.line) for d in found] == [("mixed-formats", 1), ("mixed-formats", 3)]


# --- the real datasets (../shared/punie-data) -------------------------------------------------


def real(punie_data: Path, name: str, ctx: LintContext | None = None):
    return lint_dataset(load_dataset(punie_data / name), ctx or LintContext())


def lines_with(report, code: str) -> list[int]:
    return [d.line for d in report.diagnostics if d.code == code]


def test_real_hand_authored_fenced_calls_that_are_not_json(punie_data: Path) -> None:
    train = real(punie_data, "hand-authored/tool-calling/train.jsonl", LintContext(target="json-fence"))
    valid = real(punie_data, "hand-authored/tool-calling/valid.jsonl", LintContext(target="json-fence"))
    test = real(punie_data, "hand-authored/tool-calling/test.jsonl", LintContext(target="json-fence"))
    # Lines 3 and 4: single-quoted strings; 28: an invalid \{ escape; valid 1: a missing brace.
    assert lines_with(train, "tool-call-invalid-json") == [3, 4, 28]
    assert lines_with(valid, "tool-call-invalid-json") == [1]
    assert lines_with(test, "tool-call-invalid-json") == []
    assert train.formats == Counter({"json-fence": 28})
    # 26 records use one system prompt, lines 7 and 8 another.
    assert lines_with(train, "system-prompt-drift") == [7, 8]


def test_real_poc_file_uses_the_tool_key_instead_of_name(punie_data: Path) -> None:
    report = real(punie_data, "training_examples_poc.jsonl", LintContext(target="raw-distill"))
    assert lines_with(report, "tool-call-wrong-key") == [1, 2, 3, 4]  # line 5 makes no call
    assert report.formats == Counter({"raw-distill": 5})
    assert report.errors == 4


@pytest.mark.parametrize(("split", "count"), [("train", 85), ("valid", 11), ("test", 11)])
def test_real_synthetic_arguments_are_json_strings_in_every_record(punie_data: Path, split: str, count: int) -> None:
    report = real(punie_data, f"synthetic/tool-calling/{split}.jsonl", LintContext(target="tool-call-prefix"))
    assert report.records == count
    assert lines_with(report, "tool-call-arguments-string") == list(range(1, count + 1))
    assert codes(report.diagnostics) == Counter({"tool-call-arguments-string": count})


def test_real_phase28_xml_uses_one_compact_layout_so_no_mix_but_a_mismatch_against_qwen25(punie_data: Path) -> None:
    xml = LintContext(target="qwen3-xml", schemas=tool_schemas([{"name": "execute_code", "parameters": {
        "type": "object", "properties": {"code": {"type": "string"}}, "required": ["code"]}}]))
    assert codes(real(punie_data, "phase28_targeted/train.jsonl", xml).diagnostics) == Counter()
    assert codes(real(punie_data, "phase28_targeted/valid.jsonl", xml).diagnostics) == Counter()
    qwen25 = real(punie_data, "phase28_targeted/train.jsonl")
    assert codes(qwen25.diagnostics) == Counter({"format-mismatch": 81})


def test_real_phase28_with_one_canonical_record_added_reports_every_compact_record(punie_data: Path, tmp_path: Path) -> None:
    lines = (punie_data / "phase28_targeted/valid.jsonl").read_text().splitlines()
    canonical = json.loads(lines[0])
    canonical["messages"][-1]["content"] = "<tool_call>\n<function=execute_code>\n<parameter=code>\nprint(1)\n</parameter>\n</function>\n</tool_call>"
    found = lint_lines(tmp_path, [*lines, canonical], LintContext(target="qwen3-xml"))
    assert [(d.code, d.line) for d in found] == [("mixed-formats", n) for n in range(1, 10)]
    assert "<tool_call><function=…>" in found[0].message


def test_real_qwen_file_has_one_call_with_literal_backslash_n(punie_data: Path) -> None:
    report = real(punie_data, "qwen-tool-calling/train.jsonl")
    (diagnostic,) = report.diagnostics
    assert (diagnostic.code, diagnostic.line) == ("tool-call-invalid-json", 6)
    assert "literal backslash-n" in diagnostic.message


def test_real_splits_do_not_leak(punie_data: Path) -> None:
    reports = lint_datasets(load_datasets([punie_data]), LintContext(target="json-fence"))
    assert not [d for r in reports for d in r.diagnostics if d.code == "train-valid-leak"]


# --- the bundled demo workspace ---------------------------------------------------------------

PLANTED = {  # data/README.md, "Planted defects in incoming.jsonl"
    2: "tool-call-wrong-key", 3: "tool-call-wrong-key", 4: "tool-call-arguments-string", 5: "tool-call-invalid-json",
    6: "tool-call-invalid-json", 7: "format-mismatch", 8: "format-mismatch", 9: "tool-response-double-wrapped",
    11: "tool-call-unknown-tool", 12: "tool-call-bad-arguments", 13: "duplicate-example", 14: "last-turn-not-assistant",
    15: "consecutive-role", 16: "empty-turn", 17: "system-prompt-drift", 18: "invalid-jsonl-line",
    19: "tool-call-wrong-key", 20: "tool-call-wrong-key",
}


def test_demo_workspace_check_finds_every_planted_defect_and_nothing_in_the_clean_examples(demo_workspace: Path) -> None:
    from punie_tui.commands.check import find_workspace
    from punie_tui.core.checking import check_paths, workspace_context

    ctx = workspace_context(find_workspace([demo_workspace]))
    examples, incoming = check_paths([demo_workspace / "examples.jsonl", demo_workspace / "incoming.jsonl"], ctx)
    assert examples.diagnostics == []
    by_line: dict[int, set[str]] = {}
    for d in incoming.diagnostics:
        by_line.setdefault(d.line, set()).add(d.code)
    assert set(by_line) == set(PLANTED)  # lines 1 and 10 are clean
    for line, code in PLANTED.items():
        assert code in by_line[line], (line, by_line[line])
    assert by_line[7] == by_line[8] == {"format-mismatch", "mixed-formats"}
