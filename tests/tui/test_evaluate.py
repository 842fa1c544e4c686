"""The eval screen, driven by scripted pydantic-ai FunctionModels and the real chat core and sandbox:
a run's checkpoints picked in one go, progress, the side-by-side tables with the best checkpoints
marked, a cell's transcript, export, cancel, and targets added by path or URL."""

from __future__ import annotations

import asyncio
import json
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic_ai.messages import ModelRequest
from pydantic_ai.models.function import DeltaToolCall, FunctionModel
from textual.widgets import DataTable, Input, SelectionList, Static

from punie_tui.app import PunieApp
from punie_tui.config import open_workspace
from punie_tui.screens.evaluate import EvalScreen, TranscriptDialog
from punie_tui.widgets.transcript import VerdictBanner
from tests.tui.conftest import fixed_copy, wait_until


def requests_so_far(messages) -> int:
    return sum(1 for m in messages if isinstance(m, ModelRequest))


async def reads_files(messages, info):
    """Reads notes.txt when the prompt names a file, else answers directly."""
    prompt = messages[0].parts[-1].content
    if "file" in prompt and requests_so_far(messages) == 1:
        yield {0: DeltaToolCall(name="read_file", json_args=json.dumps({"path": "notes.txt"}), tool_call_id="c1")}
    else:
        yield "The answer."


async def always_direct(messages, info):
    yield "I just know."


async def slow_direct(messages, info):
    await asyncio.sleep(0.3)
    yield "Eventually."


def scripted(models: dict[str, object]):
    @contextmanager
    def opener(setup, target):
        yield FunctionModel(stream_function=models.get(target.name, always_direct)), []

    return opener


@pytest.fixture()
def eval_workspace() -> Path:
    """The eval fixture with a base model folder named in punie.toml and a run with two checkpoints."""
    root = fixed_copy("eval_workspace")
    (root / "base-model").mkdir()
    with (root / "punie.toml").open("a") as settings:
        settings.write('model = "base-model"\n')
    adapters = root / "runs" / "run-1" / "adapters"
    adapters.mkdir(parents=True)
    (adapters / "adapter_config.json").write_text("{}")
    for iteration in (50, 100):
        (adapters / f"{iteration:07d}_adapters.safetensors").write_bytes(b"weights")
    events = [{"type": "val", "iteration": 50, "val_loss": 1.5}, {"type": "val", "iteration": 100, "val_loss": 1.2},
              {"type": "train", "iteration": 100, "train_loss": 1.0}]
    (root / "runs" / "run-1" / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return root


@pytest.fixture()
def frozen_clock(monkeypatch):
    # Durations vary with machine load; the tables show them, so snapshots pin them to zero.
    monkeypatch.setattr("punie_tui.core.chat.agent.perf_counter", lambda: 0.0)
    monkeypatch.setattr("punie_tui.core.evaluate.perf_counter", lambda: 0.0)


def eval_app(root: Path, models: dict[str, object], **screen_args) -> PunieApp:
    return PunieApp(open_workspace(root), start_screen="evaluate", screen_args={"opener": scripted(models), **screen_args})


def status(app) -> str:
    return str(app.screen.query_one("#status", Static).render())


async def run_checkpoints(pilot) -> None:
    """Uncheck the base model, check the run (all its checkpoints), run and wait for the end."""
    targets = pilot.app.screen.query_one("#targets", SelectionList)
    targets.deselect(0)
    targets.select(1)
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: pilot.app.screen.report is not None)


def cells(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def test_a_run_is_picked_in_one_go_and_the_best_checkpoints_are_marked(eval_workspace):
    app = eval_app(eval_workspace, {"run-1@50": reads_files, "run-1@100": always_direct})
    async with app.run_test(size=(120, 36)) as pilot:
        targets = app.screen.query_one("#targets", SelectionList)
        assert [str(targets.get_option_at_index(i).prompt) for i in range(targets.option_count)] == [
            "base model", "run run-1 (every checkpoint)"]
        assert targets.selected == [0]
        await run_checkpoints(pilot)
        summary = cells(app.screen.query_one("#summary", DataTable))
        # The workspace's eval-references.json adds a row, marked as a reference.
        assert [row[0] for row in summary] == ["★ run-1@50", "◆ run-1@100", "hosted agent [reference]"]
        assert summary[2][1:] == ["-", "-", "-", "-", "-", "-", "2.41", "-"]
        # run-1@50 reads notes.txt for both questions naming a file: one was wanted, one not.
        assert summary[0][1:5] == ["67%", "100%", "50%", "100%"]
        assert summary[1][1:5] == ["67%", "50%", "-", "0%"]
        assert summary[1][-1] == "1.200"
        notes = str(app.screen.query_one("#notes", Static).render())
        assert "★ best checkpoint by behaviour: run-1@50;  ◆ best by validation loss: run-1@100" in notes
        assert "hosted agent [reference]: measured elsewhere" in notes
        queries = cells(app.screen.query_one("#queries", DataTable))
        assert [row[:3] for row in queries] == [
            ["What does the file notes.txt say?", "heldout", "tool"], ["What is a closure?", "heldout", "direct"],
            ["Explain the file notes.txt in general t…", "heldout", "direct"], ["What is a generator?", "seen", "direct"],
            ["Show the file notes.txt", "seen", "tool"],
        ]
        assert queries[0][3:] == ["ok: tool read_file", "WRONG: direct"]
        assert queries[2][3:] == ["WRONG: tool read_file", "ok: direct"]
        assert status(app).startswith("finished: 10 results")


async def test_a_cell_opens_its_chat_transcript(eval_workspace):
    app = eval_app(eval_workspace, {"run-1@50": reads_files})
    async with app.run_test(size=(120, 36)) as pilot:
        await run_checkpoints(pilot)
        # The finished run leaves the cursor on the first result.
        table = app.screen.query_one("#queries", DataTable)
        assert table.has_focus and table.cursor_coordinate == (0, 3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TranscriptDialog)
        assert "run-1@50  |  heldout, expected tool  |  What does the file notes.txt say?" in str(app.screen.query_one("#cell-title", Static).render())
        assert str(app.screen.query_one(VerdictBanner).render()).startswith("completed")
        assert "the answer is 42" in app.screen.transcript["turns"][0]["tool_results"][0]["output"]
        await pilot.press("escape")
        assert isinstance(app.screen, EvalScreen)
        # ctrl+o on a query's own columns opens that query's first result.
        table.move_cursor(row=1, column=0)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, TranscriptDialog) and app.screen.transcript["prompt"] == "What is a closure?"


async def test_export_writes_the_markdown_report_into_the_workspace(eval_workspace):
    app = eval_app(eval_workspace, {"run-1@50": reads_files})
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+e")
        assert not (eval_workspace / "eval-report.md").exists()
        await run_checkpoints(pilot)
        await pilot.press("ctrl+e")
        report = (eval_workspace / "eval-report.md").read_text()
    assert "| run-1@50 | 67% | 100% | 50% | 100% | 0% |" in report
    assert "Best checkpoint by behaviour: **run-1@50**; by validation loss: **run-1@100**." in report


async def test_escape_cancels_after_the_running_query(eval_workspace):
    app = eval_app(eval_workspace, {"base-model": slow_direct})
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "1/5" in status(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen.report is not None)
        assert app.screen.report.cancelled
        assert len(app.screen.report.targets[0].results) < 5
        assert status(app).startswith("cancelled")


async def test_targets_from_the_command_line_are_preselected_and_more_can_be_added(eval_workspace):
    from punie_tui.core.eval_targets import Target

    app = eval_app(eval_workspace, {}, targets=[Target("given", "model")])
    async with app.run_test(size=(120, 36)) as pilot:
        targets = app.screen.query_one("#targets", SelectionList)
        assert targets.selected == [0] and str(targets.get_option_at_index(0).prompt) == "given"
        field = app.screen.query_one("#add-target", Input)
        field.value = "http://127.0.0.1:8080/v1"
        field.focus()
        await pilot.press("enter")
        assert str(targets.get_option_at_index(targets.option_count - 1).prompt) == "http://127.0.0.1:8080/v1"
        assert targets.option_count - 1 in targets.selected


async def test_an_unresolvable_target_says_why_instead_of_running(eval_workspace):
    shutil.rmtree(eval_workspace / "base-model")
    app = eval_app(eval_workspace, {})
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: status(app).startswith("cannot run"))
        assert "base-model: no such model folder" in status(app)


def test_eval_snapshot_before_a_run(snap_compare, eval_workspace):
    assert snap_compare(eval_app(eval_workspace, {}), terminal_size=(120, 36))


@pytest.mark.usefixtures("frozen_clock")
def test_eval_snapshot_checkpoints_compared(snap_compare, eval_workspace):
    app = eval_app(eval_workspace, {"run-1@50": reads_files, "run-1@100": always_direct})
    assert snap_compare(app, terminal_size=(120, 36), run_before=run_checkpoints)
