"""Formats: each one detected and parsed, XML typed like mlx-lm, and the real datasets' calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from punie_tui.core.dataset import load_dataset, parse_line
from punie_tui.core.formats import (
    content_formats,
    convert_param_value,
    parse_content_calls,
    record_calls,
    record_formats,
    render_call,
    result_contents,
    tool_schemas,
)

SCHEMAS = tool_schemas([{"type": "function", "function": {"name": "edit", "parameters": {"type": "object", "properties": {
    "path": {"type": "string"}, "line": {"type": "integer"}, "scale": {"type": "number"}, "dry_run": {"type": "boolean"},
    "lines": {"type": "array"}, "options": {"type": "object"}, "note": {"description": "untyped"}}}}}])


def record(data: dict) -> object:
    return parse_line(Path("t.jsonl"), 1, json.dumps(data).encode() + b"\n")


@pytest.mark.parametrize(("text", "fmt"), [
    ('<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}\n</tool_call>', "qwen25-json"),
    ("<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n</parameter>\n</function>\n</tool_call>", "qwen3-xml"),
    ('Reading.\n\n```json\n{"name": "read_file", "arguments": {"path": "a.py"}}\n```', "json-fence"),
    ('Reading.\n\nTool call: {"type": "function", "function": {"name": "read_file", "arguments": {"path": "a.py"}}}', "tool-call-prefix"),
])
def test_each_text_format_is_detected_and_parsed_to_the_same_call(text: str, fmt: str) -> None:
    (call,) = parse_content_calls(text)
    assert (call.format, call.name, call.arguments, call.problems) == (fmt, "read_file", {"path": "a.py"}, [])
    assert text[call.start:call.end] == call.raw
    assert content_formats(text) == [fmt]


def test_a_fenced_block_that_is_not_a_call_is_ignored() -> None:
    assert parse_content_calls('```json\n{"port": 8080}\n```\n\n```python\nprint(1)\n```') == []
    assert parse_content_calls('package.json:\n```json\n{"name": "my-app", "version": "1.0.0"}\n```') == []


def test_openai_tool_calls_with_arguments_as_object_or_string() -> None:
    rec = record({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "", "tool_calls": [
        {"id": "a", "type": "function", "function": {"name": "read_file", "arguments": {"path": "a.py"}}},
        {"id": "b", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "b.py"}'}}]}]})
    calls = [call for _, call in record_calls(rec)]
    assert [(c.format, c.id, c.arguments, c.arguments_string) for c in calls] == [
        ("openai", "a", {"path": "a.py"}, False), ("openai", "b", {"path": "b.py"}, True)]
    assert record_formats(rec) == ["openai"]


def test_raw_distill_calls_read_tool_and_args_as_wrong_keys() -> None:
    rec = record({"query": "q", "tool_calls": [{"tool": "run_command", "args": {"command": "ls"}, "result": "a"}], "answer": "x"})
    ((_, call),) = record_calls(rec)
    assert (call.format, call.name, call.arguments, call.wrong_keys) == ("raw-distill", "run_command", {"command": "ls"}, ["tool -> name", "args -> arguments"])


def test_chatml_text_records_are_split_into_turns_and_their_calls_found() -> None:
    text = ("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<tool_call>\n"
            '{"name": "read_file", "arguments": {"path": "a.py"}}\n</tool_call><|im_end|>\n')
    assert [(i, c.name) for i, c in record_calls(record({"text": text}))] == [(1, "read_file")]


def test_an_unclosed_call_is_reported_and_still_read_when_its_json_is_whole() -> None:
    (call,) = parse_content_calls('<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}')
    assert [p.code for p in call.problems] == ["tool-call-unclosed"]
    assert call.arguments == {"path": "a.py"}


@pytest.mark.parametrize(("raw", "name", "expected"), [
    ("a.py", "path", "a.py"), ("12", "line", 12), ("1.5", "scale", 1.5), ("2.0", "scale", 2), ("True", "dry_run", True),
    ("false", "dry_run", False), ("[1, 2]", "lines", [1, 2]), ('{"a": 1}', "options", {"a": 1}), ("null", "path", None),
    ('{"k": 1}', "note", {"k": 1}), ("plain", "unknown_param", "plain"),
])
def test_xml_parameter_values_are_typed_through_the_schema(raw: str, name: str, expected: object) -> None:
    assert convert_param_value(raw, name, SCHEMAS["edit"]["properties"]) == expected


def test_xml_typing_agrees_with_mlx_lm_qwen3_coder_parser() -> None:
    from mlx_lm.tool_parsers import qwen3_coder

    tools = [{"type": "function", "function": {"name": "edit", "parameters": SCHEMAS["edit"]}}]
    arguments = {"path": "a.py", "line": 3, "scale": 0.5, "dry_run": True, "lines": [1, "x"], "options": {"deep": {"a": None}}}
    text = render_call("edit", arguments, "qwen3-xml")
    (ours,) = parse_content_calls(text, SCHEMAS)
    theirs = qwen3_coder.parse_tool_call(text[len("<tool_call>"):-len("</tool_call>")], tools)
    assert theirs == {"name": ours.name, "arguments": ours.arguments}
    assert ours.arguments == arguments


def test_tool_results_in_every_style() -> None:
    assert result_contents({"role": "tool", "content": "ok"}) == ["ok"]
    assert result_contents({"role": "user", "content": "<tool_response>\na\n</tool_response>\n<tool_response>\nb\n</tool_response>"}) == ["a", "b"]
    assert result_contents({"role": "user", "content": "Tool result: "}) == [""]
    assert result_contents({"role": "user", "content": "a question"}) is None


# --- the real datasets ------------------------------------------------------------------------


def test_real_phase28_calls_parse_like_mlx_lm_and_share_one_compact_layout(punie_data: Path) -> None:
    from mlx_lm.tool_parsers import qwen3_coder

    calls = []
    for split in ("train", "valid"):
        for rec in load_dataset(punie_data / f"phase28_targeted/{split}.jsonl").records:
            calls.extend(call for _, call in record_calls(rec))
    assert len(calls) == 110  # 81 train records (20 with two calls) + 9 valid records
    assert {c.layout for c in calls} == {"<tool_call><function=…>⏎<parameter=…>⏎…⏎</parameter>⏎</function></tool_call>"}
    for call in calls:
        assert call.problems == [] and call.name == "execute_code" and list(call.arguments) == ["code"]
        assert qwen3_coder.parse_tool_call(call.raw[len("<tool_call>"):-len("</tool_call>")]) == {"name": call.name, "arguments": call.arguments}


def test_real_synthetic_prefix_calls_carry_arguments_as_strings(punie_data: Path) -> None:
    records = load_dataset(punie_data / "synthetic/tool-calling/train.jsonl").records
    calls = [call for rec in records for _, call in record_calls(rec)]
    assert len(calls) == 85
    assert all(c.format == "tool-call-prefix" and c.arguments_string and isinstance(c.arguments, dict) for c in calls)
    assert {c.name for c in calls} == {"read_file", "write_file", "run_command"}


def test_real_formats_per_file_match_the_readme(punie_data: Path) -> None:
    expected = {
        "hand-authored/tool-calling/train.jsonl": "json-fence",
        "qwen-tool-calling/train.jsonl": "qwen25-json",
        "synthetic/tool-calling/train.jsonl": "tool-call-prefix",
        "phase28_targeted/train.jsonl": "qwen3-xml",
        "training_examples_poc.jsonl": "raw-distill",
    }
    for name, fmt in expected.items():
        found = {f for rec in load_dataset(punie_data / name).records for f in record_formats(rec)}
        assert found == {fmt}, name
