"""The chat screen, driven by scripted pydantic-ai FunctionModels and the real sandboxed tools."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest
from pydantic_ai.messages import ModelRequest
from pydantic_ai.models.function import DeltaToolCall, FunctionModel
from textual.widgets import Collapsible, Input, OptionList

from punie_tui.app import PunieApp
from punie_tui.config import open_workspace
from punie_tui.screens.chat import AddExampleDialog, ChatScreen
from punie_tui.widgets.confirm import ConfirmDialog
from punie_tui.widgets.transcript import TranscriptView, TurnView, VerdictBanner
from tests.tui.conftest import fixed_copy, wait_until


@pytest.fixture()
def chat_workspace() -> Path:
    return fixed_copy("chat_workspace")


def requests_so_far(messages) -> int:
    return sum(1 for m in messages if isinstance(m, ModelRequest))


def call(name: str, arguments: dict, call_id: str) -> dict:
    return {0: DeltaToolCall(name=name, json_args=json.dumps(arguments), tool_call_id=call_id)}


async def read_then_answer(messages, info):
    if requests_so_far(messages) == 1:
        yield call("read_file", {"path": "notes.txt"}, "c1")
    else:
        yield "It says "
        yield "42."


async def repeat_forever(messages, info):
    yield call("read_file", {"path": "notes.txt"}, f"c{requests_so_far(messages)}")


async def write_then_answer(messages, info):
    if requests_so_far(messages) == 1:
        yield call("write_file", {"path": "out.txt", "content": "hello"}, "c1")
    else:
        yield "Written."


def chat_app(workspace: Path, stream) -> PunieApp:
    return PunieApp(open_workspace(workspace), start_screen="chat", screen_args={"chat_model": FunctionModel(stream_function=stream)})


def banner(app) -> str:
    return str(app.screen.query_one(VerdictBanner).render())


async def send(pilot, text: str) -> None:
    prompt = pilot.app.screen.query_one("#prompt", Input)
    prompt.value = text
    prompt.focus()
    await pilot.press("enter")


async def test_prompt_streams_turns_and_shows_the_completed_verdict(chat_workspace):
    app = chat_app(chat_workspace, read_then_answer)
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, ChatScreen)
        await send(pilot, "What does notes.txt say?")
        # New turn views fill in once mounted, which may be a frame after the banner changes.
        await wait_until(pilot, lambda: "completed" in banner(app) and shows_final_calls(app))
        turns = list(app.screen.query(TurnView))
        assert len(turns) == 2
        item = turns[0].query_one(Collapsible)
        assert item.title.startswith('read_file {"path": "notes.txt"}') and item.title.endswith("-> ok")
        assert "It says 42." in str(turns[1].query_one(".turn-text").render())


async def test_a_system_prompt_other_than_the_training_prompt_is_warned_about(chat_workspace):
    async def direct(messages, info):
        assert messages[0].parts[0].content == "Be brief."
        yield "Brief."

    app = chat_app(chat_workspace, direct)
    async with app.run_test(size=(100, 30)) as pilot:
        warnings = app.screen.query_one("#warnings")
        app.screen.query_one("#system-prompt", Input).value = "Be brief."
        await send(pilot, "What is a closure?")
        await wait_until(pilot, lambda: "completed" in banner(app))
        assert "the system prompt differs from system_prompt in" in str(warnings.render())


async def test_a_repeated_call_shows_the_loop_verdict(chat_workspace):
    app = chat_app(chat_workspace, repeat_forever)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "Read it again and again")
        await wait_until(pilot, lambda: "loop" in banner(app))
        assert "read_file called 3 times" in banner(app)


async def test_a_write_asks_first_and_runs_when_allowed(chat_workspace):
    app = chat_app(chat_workspace, write_then_answer)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "Write out.txt")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: "completed" in banner(app))
        assert (chat_workspace / "out.txt").read_text() == "hello"


async def test_a_refused_write_is_recorded_and_nothing_is_written(chat_workspace):
    app = chat_app(chat_workspace, write_then_answer)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "Write out.txt")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")
        await wait_until(pilot, lambda: "completed" in banner(app))
        assert not (chat_workspace / "out.txt").exists()
        assert app.screen.last_result.transcript.turns[0].tool_results[0].status == "refused"


async def test_escape_cancels_a_running_spot_check(chat_workspace):
    async def slow(messages, info):
        for _ in range(200):
            yield "word "
            await asyncio.sleep(0.02)

    app = chat_app(chat_workspace, slow)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "Talk a lot")
        await wait_until(pilot, lambda: bool(list(app.screen.query(TurnView))))
        await pilot.press("escape")
        await wait_until(pilot, lambda: "cancelled" in banner(app))
        assert app.screen.last_result.cancelled


async def test_the_transcript_follows_the_stream_until_the_user_scrolls_up(chat_workspace):
    # The agent runs on its own event loop in a worker thread, hence a thread-safe event.
    release = threading.Event()

    async def long_answer(messages, info):
        for line in range(60):
            yield f"line {line}\n"
            await asyncio.sleep(0.01)
        while not release.is_set():
            await asyncio.sleep(0.01)
        for line in range(60, 120):
            yield f"line {line}\n"

    app = chat_app(chat_workspace, long_answer)
    async with app.run_test(size=(100, 30)) as pilot:
        try:
            transcript = app.screen.query_one(TranscriptView)
            await send(pilot, "Count to 120")
            await wait_until(pilot, lambda: "line 59" in turn_text(app) and transcript.scroll_y == transcript.max_scroll_y > 40)
            transcript.focus()
            await pilot.press("home")
            await wait_until(pilot, lambda: transcript.scroll_y == 0)  # "home" scrolls animated
            release.set()
            await wait_until(pilot, lambda: "no-stop" in banner(app) or "completed" in banner(app))
            assert transcript.scroll_y == 0 and transcript.max_scroll_y > 100
            await pilot.press("end")
            await wait_until(pilot, lambda: transcript.scroll_y == transcript.max_scroll_y)
            await send(pilot, "Count again")
            await wait_until(pilot, lambda: "line 119" in turn_text(app))
            await wait_until(pilot, lambda: transcript.scroll_y == transcript.max_scroll_y > 100)
        finally:
            release.set()  # a failed check must not leave the agent thread waiting


def turn_text(app) -> str:
    return "".join(str(view.query_one(".turn-text").render()) for view in app.screen.query(TurnView))


async def test_a_quick_probe_sends_the_eval_query_and_checks_its_expectation(chat_workspace):
    async def direct(messages, info):
        yield "I would guess."

    app = chat_app(chat_workspace, direct)
    async with app.run_test(size=(100, 30)) as pilot:
        probes = app.screen.query_one("#probes", OptionList)
        probes.focus()
        probes.highlighted = 0
        await pilot.press("enter")
        await wait_until(pilot, lambda: "completed" in banner(app))
        assert "expected-tool" in banner(app)
        assert app.screen.query_one("#prompt", Input).value == "What does notes.txt say?"


async def test_each_spot_check_is_saved_in_the_session_file(chat_workspace):
    app = chat_app(chat_workspace, read_then_answer)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "What does notes.txt say?")
        await wait_until(pilot, lambda: "completed" in banner(app))
        sessions = list((chat_workspace / ".punie" / "chat").glob("chat-*.jsonl"))
        assert len(sessions) == 1
        saved = json.loads(sessions[0].read_text().splitlines()[0])
        assert saved["verdict"] == "completed" and saved["tool_calls"] == 1


async def test_add_to_dataset_appends_the_corrected_example(chat_workspace):
    app = chat_app(chat_workspace, read_then_answer)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "What does notes.txt say?")
        await wait_until(pilot, lambda: "completed" in banner(app))
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, AddExampleDialog))
        area = app.screen.query_one("#example-text")
        area.text = area.text.replace("It says 42.", "It says 42, in notes.txt.")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        example = json.loads((chat_workspace / "chat-examples.jsonl").read_text())
        assert example["messages"][-1] == {"role": "assistant", "content": "It says 42, in notes.txt."}
        assert example["messages"][2]["content"].startswith("<tool_call>\n{\"name\": \"read_file\"")


def shows_final_calls(app) -> bool:
    """Every call item on screen carries the final result status of its call."""
    result = app.screen.last_result
    if result is None:
        return False
    expected = [f"-> {r.status}" for turn in result.transcript.turns for r in turn.tool_results]
    titles = [str(item.title) for item in app.screen.query(Collapsible)]
    calls = sum(len(turn.tool_calls) for turn in result.transcript.turns)
    return len(titles) == calls and [t[t.rfind("-> "):] for t in titles if "-> " in t] == expected


def _after_prompt(text: str, verdict: str):
    async def run_before(pilot) -> None:
        await send(pilot, text)
        transcript = pilot.app.screen.query_one(TranscriptView)
        await wait_until(
            pilot,
            lambda: verdict in banner(pilot.app) and shows_final_calls(pilot.app) and transcript.scroll_y == transcript.max_scroll_y,
        )

    return run_before


@pytest.fixture()
def frozen_turn_clock(monkeypatch):
    # Turn durations vary with machine load; snapshots show them, so they are pinned to zero.
    monkeypatch.setattr("punie_tui.core.chat.agent.perf_counter", lambda: 0.0)


@pytest.mark.usefixtures("frozen_turn_clock")
def test_chat_snapshot_completed_with_a_tool_call(snap_compare, chat_workspace):
    app = chat_app(chat_workspace, read_then_answer)
    assert snap_compare(app, terminal_size=(100, 30), run_before=_after_prompt("What does notes.txt say?", "completed"))


@pytest.mark.usefixtures("frozen_turn_clock")
def test_chat_snapshot_loop_verdict(snap_compare, chat_workspace):
    app = chat_app(chat_workspace, repeat_forever)
    assert snap_compare(app, terminal_size=(100, 30), run_before=_after_prompt("Read it again", "loop"))


@pytest.mark.slow
@pytest.mark.parametrize("server", [False, True], ids=["in-process", "server"])
async def test_the_screen_runs_the_demo_model_and_releases_it_on_exit(demo_model, chat_workspace, server):
    app = PunieApp(open_workspace(chat_workspace), start_screen="chat", screen_args={"model": str(demo_model), "server": server})
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        screen.query_one("#max-tokens", Input).value = "5"
        await send(pilot, "What is a closure?")
        await wait_until(pilot, lambda: "no-stop" in banner(app), timeout=120)
        assert screen.last_result.transcript.turns[0].tokens == 5
        loaded = screen.loaded
        assert (loaded.server is not None) is server
        process = loaded.server.process if server else None
    assert screen.loaded is None
    if server:
        assert loaded.server.process is None and process.poll() is not None


async def test_a_broken_queries_file_is_reported_and_offers_no_probes(chat_workspace):
    (chat_workspace / "queries.jsonl").write_text('{"prompt": "Read notes.txt", "expected": "maybe"}\n')
    app = chat_app(chat_workspace, read_then_answer)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#probes", OptionList).option_count == 0
        [note] = app._notifications
        assert "queries.jsonl:1: 'expected' must be" in note.message and note.severity == "warning"
