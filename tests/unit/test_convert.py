"""Conversion between formats: exact outputs, refusals that would lose information, real data and
the property that converting A -> B -> A gives back the same calls, prose and results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from punie_tui.core.convert import ConversionError, conversation, convert_record, placeholder_record
from punie_tui.core.dataset import load_dataset
from punie_tui.core.formats import FORMATS, record_calls, record_formats, tool_schemas

TOOLS = [
    {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object", "properties": {
        "path": {"type": "string"}, "limit": {"type": "integer"}}, "required": ["path"]}}},
    {"type": "function", "function": {"name": "edit", "parameters": {"type": "object", "properties": {
        "path": {"type": "string"}, "dry_run": {"type": "boolean"}, "lines": {"type": "array"},
        "options": {"type": "object"}, "scale": {"type": "number"}}}}},
]
SCHEMAS = tool_schemas(TOOLS)
OPENAI = {"messages": [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Show a.py"},
    {"role": "assistant", "content": "Reading it.", "tool_calls": [
        {"type": "function", "function": {"name": "read_file", "arguments": {"path": "a.py", "limit": 5}}}]},
    {"role": "tool", "name": "read_file", "content": "x = 1"},
    {"role": "assistant", "content": "It sets x."},
]}


def calls_of(data: dict[str, Any]) -> list[tuple[Any, Any]]:
    return [(c.name, c.arguments) for _, c in record_calls(placeholder_record(data), SCHEMAS)]


def test_openai_to_qwen25_renders_calls_in_text_and_results_as_tool_response_turns() -> None:
    data = convert_record(placeholder_record(OPENAI), "qwen25-json", SCHEMAS)
    assert data["messages"][2:] == [
        {"role": "assistant", "content": 'Reading it.\n\n<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py", "limit": 5}}\n</tool_call>'},
        {"role": "user", "content": "<tool_response>\nx = 1\n</tool_response>"},
        {"role": "assistant", "content": "It sets x."},
    ]


def test_qwen3_xml_back_to_openai_types_parameters_through_the_schema() -> None:
    xml = convert_record(placeholder_record(OPENAI), "qwen3-xml", SCHEMAS)
    assert "<parameter=limit>\n5\n</parameter>" in xml["messages"][2]["content"]
    back = convert_record(placeholder_record(xml), "openai", SCHEMAS)
    assert back == OPENAI


def test_results_become_role_tool_turns_with_the_calls_name() -> None:
    fence = convert_record(placeholder_record(OPENAI), "json-fence", SCHEMAS)
    assert fence["messages"][3] == {"role": "user", "content": "Tool result: x = 1"}
    back = convert_record(placeholder_record(fence), "openai", SCHEMAS)
    assert back["messages"][3] == {"role": "tool", "name": "read_file", "content": "x = 1"}


def test_xml_without_a_schema_for_a_number_is_refused_rather_than_turned_into_text() -> None:
    with pytest.raises(ConversionError, match="would not keep the call"):
        convert_record(placeholder_record(OPENAI), "qwen3-xml", schemas=None)


def test_raw_distill_becomes_messages_and_keeps_its_other_keys() -> None:
    raw = {"query": "q?", "reasoning": "why", "tool_calls": [{"tool": "read_file", "args": {"path": "a"}, "result": "r"}],
           "answer": "a.", "messages": None, "metadata": {"category": "x"}}
    data = convert_record(placeholder_record(raw), "openai", SCHEMAS)
    assert data == {"messages": [
        {"role": "user", "content": "q?"},
        {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "read_file", "arguments": {"path": "a"}}}]},
        {"role": "tool", "name": "read_file", "content": "r"},
        {"role": "assistant", "content": "a."}], "reasoning": "why", "metadata": {"category": "x"}}
    again = convert_record(placeholder_record(data), "raw-distill", SCHEMAS)
    assert again == {"query": "q?", "tool_calls": [{"name": "read_file", "arguments": {"path": "a"}, "result": "r"}],
                     "answer": "a.", "reasoning": "why", "metadata": {"category": "x"}}


def test_raw_distill_refuses_conversations_it_cannot_hold() -> None:
    two_users = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                              {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]}
    with pytest.raises(ConversionError, match="one query"):
        convert_record(placeholder_record(two_users), "raw-distill")


def test_a_record_already_in_the_target_layout_is_left_alone() -> None:
    assert convert_record(placeholder_record(OPENAI), "openai", SCHEMAS) is None
    direct = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    assert convert_record(placeholder_record(direct), "qwen3-xml") is None


def test_chatml_text_records_stay_text_in_text_formats() -> None:
    text = ("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
            '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}\n</tool_call><|im_end|>\n')
    data = convert_record(placeholder_record({"text": text}), "qwen3-xml", SCHEMAS)
    assert data == {"text": "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<tool_call>\n<function=read_file>\n"
                            "<parameter=path>\na.py\n</parameter>\n</function>\n</tool_call><|im_end|>\n"}


def test_unreadable_calls_cannot_be_converted() -> None:
    bad = {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "<tool_call>\n{'name': 1}\n</tool_call>"}]}
    with pytest.raises(ConversionError, match="cannot be read"):
        convert_record(placeholder_record(bad), "openai")


# --- property: A -> B -> A ------------------------------------------------------------------

_TEXT = st.text(alphabet=st.sampled_from("abcdefgh xyz.,?!0123456789\n\"'{}[]:\\"), min_size=1, max_size=30)
_PROSE = st.text(alphabet=st.sampled_from("abcdefgh xyz.,?!0123456789"), max_size=20).map(str.strip)
_VALUE = _TEXT.filter(lambda s: s.strip().lower() != "null")


def _arguments(name: str) -> st.SearchStrategy[dict[str, Any]]:
    if name == "read_file":
        return st.fixed_dictionaries({"path": _VALUE}, optional={"limit": st.integers(-10**6, 10**6)})
    return st.fixed_dictionaries({}, optional={
        "path": _VALUE, "dry_run": st.booleans(), "lines": st.lists(st.integers(0, 99), max_size=3),
        "options": st.dictionaries(st.sampled_from("abc"), st.integers(0, 9), max_size=2), "scale": st.floats(-1e3, 1e3).map(lambda f: round(f, 3)),
    })


@st.composite
def _call(draw) -> dict[str, Any]:
    name = draw(st.sampled_from(["read_file", "edit"]))
    return {"type": "function", "function": {"name": name, "arguments": draw(_arguments(name))}}


@st.composite
def openai_records(draw, simple: bool) -> dict[str, Any]:
    """A conversation in `openai` format; `simple` ones also fit raw-distill (one query, bare calls)."""
    turns: list[dict[str, Any]] = []
    if draw(st.booleans()):
        turns.append({"role": "system", "content": draw(_PROSE.filter(bool))})
    turns.append({"role": "user", "content": draw(_PROSE.filter(bool))})
    for _ in range(draw(st.integers(1, 3))):
        calls = [draw(_call())] if simple else draw(st.lists(_call(), min_size=1, max_size=2))
        turns.append({"role": "assistant", "content": "" if simple else draw(_PROSE), "tool_calls": calls})
        for call in calls:
            turns.append({"role": "tool", "name": call["function"]["name"], "content": draw(_TEXT.filter(lambda s: "<" not in s))})
    turns.append({"role": "assistant", "content": draw(_PROSE.filter(bool))})
    return {"messages": turns}


def _in(data: dict[str, Any], fmt: str) -> dict[str, Any]:
    return convert_record(placeholder_record(data), fmt, SCHEMAS) or data


def _prose_and_results(data: dict[str, Any]) -> list[str]:
    items = conversation(placeholder_record(data), SCHEMAS)
    return [i.prose() if i.role != "results" else "|".join(r for _, r in i.results) for i in items]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), a=st.sampled_from([f for f in FORMATS if f != "raw-distill"]), b=st.sampled_from([f for f in FORMATS if f != "raw-distill"]))
def test_convert_a_to_b_to_a_gives_back_the_same_calls(data: st.DataObject, a: str, b: str) -> None:
    start = _in(data.draw(openai_records(simple=False)), a)
    there = _in(start, b)
    back = _in(there, a)
    assert record_formats(placeholder_record(there)) == [b]
    assert calls_of(there) == calls_of(start) == calls_of(back)
    assert _prose_and_results(back) == _prose_and_results(start)
    assert back == start


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), a=st.sampled_from(FORMATS), b=st.sampled_from(FORMATS))
def test_convert_through_raw_distill_keeps_calls_when_the_conversation_fits(data: st.DataObject, a: str, b: str) -> None:
    start = _in(data.draw(openai_records(simple=True)), a)
    there = _in(start, b)
    back = _in(there, a)
    assert calls_of(there) == calls_of(start) == calls_of(back)
    assert back == start


# --- the real datasets ------------------------------------------------------------------------

REAL = ["synthetic/tool-calling/train.jsonl", "phase28_targeted/train.jsonl", "qwen-tool-calling/test.jsonl",
        "domain_examples.jsonl", "training_examples_poc.jsonl", "hand-authored/tool-calling/test.jsonl"]


@pytest.mark.parametrize("name", REAL)
@pytest.mark.parametrize("target", [f for f in FORMATS if f != "raw-distill"])
def test_real_records_convert_to_every_chat_format_and_back_with_the_same_calls(punie_data: Path, name: str, target: str) -> None:
    for rec in load_dataset(punie_data / name).records:
        before = [(c.name, c.arguments) for _, c in record_calls(rec)]
        converted = convert_record(rec, target) or rec.data
        assert calls_of(converted) == before, rec.location
        assert record_formats(placeholder_record(converted)) in ([target], []), rec.location
        if converted is not rec.data:
            original = record_formats(rec)[0] if record_formats(rec) else target
            back = convert_record(placeholder_record(converted), original) or converted
            assert calls_of(back) == before
            assert json.dumps(back) == json.dumps(convert_record(rec, original) or rec.data), rec.location
