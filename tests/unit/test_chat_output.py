"""Streamed model text: held back at markers, cut at stop sequences, calls parsed at the end."""

from __future__ import annotations

from mlx_lm.tool_parsers import json_tools

from punie_tui.core.chat.output import StreamSplitter, parse_call_region


def feed_all(splitter: StreamSplitter, pieces: list[str]) -> str:
    shown = "".join(splitter.feed(piece) for piece in pieces)
    return shown + splitter.flush()


def test_plain_text_is_shown_as_it_arrives():
    splitter = StreamSplitter("<tool_call>")
    assert splitter.feed("Hello") == "Hello"
    assert splitter.feed(" world") == " world"


def test_text_that_may_begin_a_marker_is_held_until_it_cannot():
    splitter = StreamSplitter("<tool_call>")
    assert splitter.feed("see <tool") == "see "
    assert splitter.feed("box>") == "<toolbox>"


def test_text_from_the_call_marker_on_is_not_shown():
    splitter = StreamSplitter("<tool_call>")
    shown = feed_all(splitter, ["Let me look.\n<tool", '_call>\n{"name": "read_file"', "}\n</tool_call>"])
    assert shown == "Let me look.\n"
    assert splitter.call_region.startswith("<tool_call>")


def test_stop_sequence_split_across_segments_cuts_the_text_before_it():
    splitter = StreamSplitter(None, ["END"])
    shown = feed_all(splitter, ["answer E", "N", "D and more"])
    assert shown == "answer " and splitter.raw == "answer " and splitter.stopped
    assert splitter.feed("later") == ""


def test_stop_sequence_inside_a_call_region_cuts_it():
    splitter = StreamSplitter("<tool_call>", ["</tool_call>"])
    feed_all(splitter, ['<tool_call>\n{"name": "ls", "arguments": {}}\n</tool_call>', "junk"])
    assert splitter.call_region == '<tool_call>\n{"name": "ls", "arguments": {}}\n'


def test_calls_are_parsed_with_the_mlx_lm_parser():
    region = '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}\n</tool_call>\n<tool_call>\n{"name": "run_command", "arguments": {"command": "ls"}}\n</tool_call>'
    calls, leftover = parse_call_region(region, "<tool_call>", "</tool_call>", json_tools.parse_tool_call, [])
    assert [(c.name, c.arguments) for c in calls] == [("read_file", {"path": "a.py"}), ("run_command", {"command": "ls"})]
    assert leftover == ""


def test_a_call_cut_before_its_end_marker_is_still_parsed():
    calls, _ = parse_call_region('<tool_call>\n{"name": "ls", "arguments": {}}\n', "<tool_call>", "</tool_call>", json_tools.parse_tool_call, [])
    assert [c.name for c in calls] == ["ls"]


def test_a_malformed_call_leaves_the_whole_region_as_text():
    region = '<tool_call>\n{"name": "read_file", "arguments": {"path": a.py}}\n</tool_call>'
    calls, leftover = parse_call_region(region, "<tool_call>", "</tool_call>", json_tools.parse_tool_call, [])
    assert calls == [] and leftover == region


def test_the_fallback_parser_is_used_when_mlx_lm_finds_no_call():
    region = "<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n</parameter>\n</function>\n</tool_call>"
    calls, leftover = parse_call_region(
        region, "<tool_call>", "</tool_call>", json_tools.parse_tool_call, [], fallback=lambda text: [("read_file", {"path": "a.py"})]
    )
    assert [(c.name, c.arguments) for c in calls] == [("read_file", {"path": "a.py"})] and leftover == ""


def test_string_arguments_are_decoded_when_they_are_json():
    calls, _ = parse_call_region('<tool_call>{"name": "ls", "arguments": "{\\"a\\": 1}"}</tool_call>', "<tool_call>", "</tool_call>", json_tools.parse_tool_call, [])
    assert calls[0].arguments == {"a": 1}
