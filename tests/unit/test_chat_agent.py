"""The agent runner and verdicts, driven by scripted pydantic-ai FunctionModels and the real sandbox."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from pydantic_ai.messages import ModelRequest, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

from punie_tui.core.chat.agent import ChatOptions, run_chat_sync
from punie_tui.core.chat.tools import WorkspaceTools
from punie_tui.core.chat.transcript import ToolCall, Transcript, Turn
from punie_tui.core.chat.verdict import find_loop, judge, normalise_arguments

TOOLS = [
    {"type": "function", "function": {"name": "read_file", "description": "Read a file",
     "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}},
    {"type": "function", "function": {"name": "write_file", "description": "Write a file",
     "parameters": {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}}, "required": ["path", "content"]}}},
    {"type": "function", "function": {"name": "run_command", "description": "Run a command",
     "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}},
]


@pytest.fixture()
def tools(tmp_path: Path) -> WorkspaceTools:
    (tmp_path / "notes.txt").write_text("the answer is 42\n")
    return WorkspaceTools(tmp_path)


def call(name: str, arguments: dict, call_id: str) -> dict:
    return {0: DeltaToolCall(name=name, json_args=json.dumps(arguments), tool_call_id=call_id)}


def requests_so_far(messages) -> int:
    return sum(1 for m in messages if isinstance(m, ModelRequest))


def run(model, tools, prompt="What is in notes.txt?", **kwargs):
    return run_chat_sync(model, prompt, tools, definitions=TOOLS, system_prompt="You are punie.", **kwargs)


def test_completed_after_a_tool_call_records_both_turns(tools):
    async def script(messages, info: AgentInfo):
        if requests_so_far(messages) == 1:
            yield call("read_file", {"path": "notes.txt"}, "c1")
        else:
            yield "It says 42."

    result = run(FunctionModel(stream_function=script), tools)
    assert result.verdict.kind == "completed" and result.verdict.turns == 2
    first, second = result.transcript.turns
    assert first.tool_calls[0].to_json() == {"name": "read_file", "arguments": {"path": "notes.txt"}}
    assert first.tool_results[0].status == "ok" and first.tool_results[0].output == "the answer is 42\n"
    assert second.text == "It says 42." and second.tool_calls == []
    data = result.to_json()
    assert data["verdict"] == "completed" and data["requests"] == 2 and data["tool_calls"] == 1
    assert set(data["turns"][0]) == {"role", "text", "tool_calls", "tool_results", "finish_reason", "tokens", "seconds"}


def test_loop_verdict_when_the_model_repeats_a_call_and_the_third_is_not_run(tools):
    async def script(messages, info):
        yield call("read_file", {"path": "notes.txt"}, f"c{requests_so_far(messages)}")

    result = run(FunctionModel(stream_function=script), tools)
    assert result.verdict.kind == "loop"
    assert "read_file called 3 times" in result.verdict.detail
    assert len(result.transcript.turns) == 3
    assert len(tools.log) == 2


def test_loop_counts_calls_whose_arguments_differ_only_in_form(tools):
    variants = [{"path": "notes.txt"}, {"path": " ./notes.txt"}, {"path": "notes.txt "}]

    async def script(messages, info):
        n = requests_so_far(messages)
        yield call("read_file", variants[(n - 1) % 3], f"c{n}")

    assert run(FunctionModel(stream_function=script), tools).verdict.kind == "loop"


def test_request_limit_verdict_when_calls_never_end(tools):
    async def script(messages, info):
        n = requests_so_far(messages)
        yield call("read_file", {"path": f"file{n}.txt"}, f"c{n}")

    result = run(FunctionModel(stream_function=script), tools, options=ChatOptions(request_limit=4))
    assert result.verdict.kind == "request-limit"
    assert result.transcript.requests == 4
    # The last turn's call ran before the limit stopped the run; its result is still recorded.
    assert result.transcript.turns[-1].tool_results[0].status == "error"


class LengthCappedModel(FunctionModel):
    """A scripted model whose every response ends because the token limit was hit."""

    @asynccontextmanager
    async def request_stream(self, *args, **kwargs):
        async with super().request_stream(*args, **kwargs) as stream:
            stream.finish_reason = "length"
            yield stream


def test_no_stop_verdict_when_the_end_of_turn_token_never_came(tools):
    async def script(messages, info):
        yield "I will now explain at length and never"

    result = run(LengthCappedModel(stream_function=script), tools)
    assert result.verdict.kind == "no-stop"
    assert result.transcript.turns[0].finish_reason == "length"


def test_unparsed_call_verdict_when_markers_show_but_no_call_parsed(tools):
    async def script(messages, info):
        yield '<tool_call>{"name": "read_file", "arguments": {"path": notes.txt}</tool_call>'

    result = run(FunctionModel(stream_function=script), tools)
    assert result.verdict.kind == "unparsed-call"
    assert result.transcript.tool_call_count == 0


def test_expected_tool_mismatch_on_a_direct_answer(tools):
    async def script(messages, info):
        yield "I think it says something."

    result = run(FunctionModel(stream_function=script), tools, expected="tool")
    assert result.verdict.kind == "completed" and result.verdict.mismatch == "expected-tool"


def test_expected_direct_mismatch_when_a_tool_was_called(tools):
    async def script(messages, info):
        if requests_so_far(messages) == 1:
            yield call("run_command", {"command": "ls"}, "c1")
        else:
            yield "Done."

    result = run(FunctionModel(stream_function=script), tools, prompt="What is a closure?", expected="direct")
    assert result.verdict.mismatch == "expected-direct"
    assert "notes.txt" in result.transcript.turns[0].tool_results[0].output


def test_headless_write_is_refused_and_the_refusal_is_in_the_transcript(tools):
    async def script(messages, info):
        if requests_so_far(messages) == 1:
            yield call("write_file", {"path": "x.txt", "content": "hi"}, "c1")
        else:
            last = messages[-1].parts[0]
            assert isinstance(last, ToolReturnPart) and last.content.startswith("Refused:")
            yield "Could not write."

    result = run(FunctionModel(stream_function=script), tools)
    result_json = result.transcript.turns[0].tool_results[0].to_json()
    assert result_json["status"] == "refused" and result_json["approved"] is False
    assert result_json["approval_needed"].startswith("write 2 bytes")
    assert not (tools.root / "x.txt").exists()


def test_streamed_text_reaches_the_update_callback_as_it_arrives(tools):
    seen: list[str] = []

    async def script(messages, info):
        for piece in ["It ", "says ", "42."]:
            yield piece

    run(FunctionModel(stream_function=script), tools, on_update=lambda t: seen.append(t.turns[-1].text))
    assert seen[:3] == ["It ", "It says ", "It says 42."]


def test_cancel_stops_the_run_without_a_verdict(tools):
    cancel = threading.Event()

    async def script(messages, info):
        yield "first "
        cancel.set()
        yield "second"

    result = run(FunctionModel(stream_function=script), tools, cancel=cancel)
    assert result.cancelled and result.verdict is None
    assert result.to_json()["verdict"] is None


def test_judge_prefers_loop_over_request_limit():
    turns = [Turn(tool_calls=[ToolCall("read_file", {"path": "a"})]) for _ in range(3)]
    verdict = judge(Transcript("q", turns=turns, requests=3), request_limit_hit=True)
    assert verdict.kind == "loop"


def test_find_loop_honours_the_threshold():
    turns = [Turn(tool_calls=[ToolCall("read_file", '{"path": "a"}')]) for _ in range(4)]
    assert find_loop(turns, 5) is None
    assert find_loop(turns, 4)[1] == 4


def test_normalise_arguments_sorts_keys_and_trims_values():
    assert normalise_arguments('{"b": 1, "a": " x  y "}') == normalise_arguments({"a": "x y", "b": 1})
    assert normalise_arguments("not json {") == "not json {"


BANNER_SCRIPT = """
import sys
from pydantic_ai.models.function import FunctionModel
from punie_tui.core.chat.agent import run_chat_sync
from punie_tui.core.chat.tools import WorkspaceTools

async def direct(messages, info):
    yield "Hello."

result = run_chat_sync(FunctionModel(stream_function=direct), "Hi", WorkspaceTools(sys.argv[1]), definitions=[])
print("verdict:", result.verdict.kind, file=sys.stderr)
"""


def test_a_first_run_in_a_terminal_prints_no_pydantic_ai_banner(tmp_path: Path) -> None:
    # pydantic-ai prints its banner to a terminal's stderr on a process's first run, unless under
    # pytest or CI: hence a child process with those unset and a pseudo-terminal as stderr.
    script = tmp_path / "first_run.py"
    script.write_text(BANNER_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "PYTEST_VERSION", "PYDANTIC_AI_NO_BANNER"}}
    leader, follower = pty.openpty()
    with subprocess.Popen([sys.executable, str(script), str(tmp_path)], stderr=follower, env=env) as child:
        os.close(follower)
        output = b""
        while chunk := _read(leader):
            output += chunk
        assert child.wait(timeout=60) == 0
    os.close(leader)
    text = output.decode()
    assert "verdict: completed" in text
    assert "pydantic-ai v" not in text and "observability" not in text


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # the child closed the terminal (EIO on Linux)
        return b""
