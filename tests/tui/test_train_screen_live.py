"""The train screen driving a real run: preflight, Start, live events, the run in the history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import DataTable

from punie_tui.app import PunieApp
from punie_tui.config import open_workspace
from punie_tui.core.training.demo_training import write_training_data
from punie_tui.screens.train import TrainScreen

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples.jsonl"


async def _until(pilot, predicate, timeout_s: float = 300.0) -> None:
    for _ in range(int(timeout_s / 0.1)):
        if predicate():
            return
        await pilot.pause(0.1)
    raise AssertionError("condition not met in time")


def _workspace(tmp_path: Path, model: Path, iters: int) -> Path:
    workspace = tmp_path / "ws"
    write_training_data(EXAMPLES, workspace / "data")
    (workspace / "punie.toml").write_text(
        f'model = {json.dumps(str(model))}\nmax_seq_length = 1024\n\n[training]\n'
        f'fine_tune_type = "full"\nnum_layers = -1\niters = {iters}\nlearning_rate = 1e-3\n'
        "steps_per_report = 5\nsteps_per_eval = 5\nsave_every = 10\nval_batches = 2\n",
        encoding="utf-8",
    )
    return workspace


async def _preflight_and_start(pilot, screen: TrainScreen) -> None:
    await pilot.press("f5")
    await _until(pilot, lambda: screen.preflight_report is not None)
    assert screen.preflight_report["ok"], screen.preflight_report
    await pilot.press("f6")


async def test_start_trains_a_run_the_screen_follows_to_the_end(tmp_path: Path, untrained_demo_model: Path) -> None:
    app = PunieApp(open_workspace(_workspace(tmp_path, untrained_demo_model, 10)), start_screen="train")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        await _preflight_and_start(pilot, screen)
        await _until(pilot, lambda: screen.run_path is not None and screen.state.status != "running")
        assert screen.state.status == "finished"
        assert [e.iteration for e in screen.state.train] == [5, 10]
        assert [e.iteration for e in screen.state.val] == [1, 5, 10]
        table = screen.query_one("#history", DataTable)
        await _until(pilot, lambda: table.row_count == 1)
        assert table.get_row_at(0)[1] == "finished"
        assert (screen.run_path / "lora.yaml").is_file() and (screen.run_path / "adapters" / "adapters.safetensors").is_file()


async def test_stop_key_ends_a_live_run_and_the_screen_shows_it_killed(tmp_path: Path, untrained_demo_model: Path) -> None:
    app = PunieApp(open_workspace(_workspace(tmp_path, untrained_demo_model, 5000)), start_screen="train")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        await _preflight_and_start(pilot, screen)
        await _until(pilot, lambda: len(screen.state.train) >= 1)
        await pilot.press("f7")
        await _until(pilot, lambda: screen.state.status != "running", timeout_s=60)
        assert screen.state.failed.cause == "killed"
        assert screen.state.failed.message == "stopped on request (SIGINT)"
        assert screen.launched.wait(timeout=30) == 1


async def test_start_while_another_run_holds_the_lock_says_why_it_did_not_start(tmp_path: Path, untrained_demo_model: Path) -> None:
    from punie_tui.core.training.lock import RunLock

    app = PunieApp(open_workspace(_workspace(tmp_path, untrained_demo_model, 10)), start_screen="train")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        with RunLock(tmp_path / "someone-elses-run"):
            await _preflight_and_start(pilot, screen)
            await _until(pilot, lambda: screen.launched is None, timeout_s=60)
        messages = [n.message for n in app._notifications]
        assert any("another training run is active" in m and "someone-elses-run" in m for m in messages)
        assert not (screen.run_path / "metrics.jsonl").exists()
