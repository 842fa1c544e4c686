"""Streamed model text: held back at markers, cut at stop sequences, calls parsed at the end."""

from __future__ import annotations

from mlx_lm.tool_parsers import json_tools

from punie_tui.core.chat.output import StreamSplitter, parse_call_region, punie_parser


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


TOOLS = [{"type": "function", "function": {"name": "read_file", "parameters": {"type": "object", "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}}}}}]


def test_punies_parser_reads_a_qwen3_xml_call_that_the_json_parser_cannot():
    region = "<tool_call>\n<function=read_file>\n<parameter=path>\na.py\n</parameter>\n<parameter=limit>\n5\n</parameter>\n</function>\n</tool_call>"
    calls, leftover = parse_call_region(region, "<tool_call>", "</tool_call>", json_tools.parse_tool_call, [], fallback=punie_parser(TOOLS))
    assert [(c.name, c.arguments) for c in calls] == [("read_file", {"path": "a.py", "limit": 5})] and leftover == ""


def test_punies_parser_finds_calls_written_without_the_tokenizers_markers():
    text = 'Let me read it.\n```json\n{"name": "read_file", "arguments": {"path": "a.py"}}\n```'
    assert punie_parser(TOOLS)(text) == [("read_file", {"path": "a.py"})]
    assert punie_parser(TOOLS)("No call here, just `code`.") == []


def test_string_arguments_are_decoded_when_they_are_json():
    calls, _ = parse_call_region('<tool_call>{"name": "ls", "arguments": "{\\"a\\": 1}"}</tool_call>', "<tool_call>", "</tool_call>", json_tools.parse_tool_call, [])
    assert calls[0].arguments == {"a": 1}


def stream_text(pieces: list[str], stop_sequences: tuple[str, ...] = ()):
    """Feed text pieces, as the generation thread would, through the MLX streamed response with the
    real demo tokenizer (its mlx-lm parser and markers); return the final response."""
    import asyncio
    import threading

    from mlx_lm.utils import load_tokenizer
    from pydantic_ai.models import ModelRequestParameters

    from punie_tui.core.chat.mlx_model import MlxStreamedResponse, TokenPipe, _Chunk
    from punie_tui.core.demo import bundled_data_dir

    tokenizer = load_tokenizer(bundled_data_dir() / "tokenizer")

    async def run():
        pipe = TokenPipe(asyncio.get_running_loop())
        for index, piece in enumerate(pieces, 1):
            pipe.put(_Chunk(piece, 10, index, "stop" if index == len(pieces) else None))
        pipe.put(None, urgent=True)
        response = MlxStreamedResponse(
            model_request_parameters=ModelRequestParameters(), _model_name="demo", _pipe=pipe, _cancel=threading.Event(),
            _tokenizer=tokenizer, _tools=TOOLS, _stop_sequences=stop_sequences, _fallback=punie_parser(TOOLS),
        )
        async for _ in response:
            pass
        return response.get()

    return asyncio.run(run())


def test_streamed_call_in_the_tokenizers_format_becomes_a_tool_call_part():
    response = stream_text(["<tool_call>", '\n{"name": "read_file", ', '"arguments": {"path": "a.py"}}\n', "</tool_call>"])
    call = response.parts[-1]
    assert (call.tool_name, call.args) == ("read_file", {"path": "a.py"})
    assert response.finish_reason == "tool_call"
    assert response.provider_details["raw_text"].startswith("<tool_call>\n{")
    assert response.usage.output_tokens == 4 and response.usage.input_tokens == 10


def test_streamed_call_in_another_format_is_found_by_punies_parser():
    response = stream_text(["```json\n", '{"name": "read_file", "arguments": {"path": "a.py"}}', "\n```"])
    assert [part.part_kind for part in response.parts] == ["text", "tool-call"]
    assert response.parts[1].args == {"path": "a.py"}


def test_streamed_broken_call_stays_text_with_its_markers():
    response = stream_text(["<tool_call>", '\n{"name": read_file}\n', "</tool_call>"])
    assert [part.part_kind for part in response.parts] == ["text"]
    assert response.parts[0].content.startswith("<tool_call>")


def test_token_pipe_delivers_every_chunk_in_order_from_another_thread():
    import asyncio
    import threading

    from punie_tui.core.chat.mlx_model import TokenPipe

    async def run() -> tuple[list, int]:
        pipe = TokenPipe(asyncio.get_running_loop())

        def produce() -> None:
            for index in range(2000):
                pipe.put(index, urgent=index == 0)
            pipe.put(None, urgent=True)

        threading.Thread(target=produce).start()
        received, batches = [], 0
        while not received or received[-1] is not None:
            received.extend(await pipe.batch())
            batches += 1
        return received, batches

    received, batches = asyncio.run(run())
    assert received == [*range(2000), None]
    assert batches < 2000  # many chunks per wake-up
