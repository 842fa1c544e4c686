"""The train screen fed by recorded runs: numbers, charts, history, overlay, form checks; snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from punie_tui.app import PunieApp
from punie_tui.config import open_workspace
from punie_tui.screens.train import TrainScreen

RECORDED = "20261122-062300-demo600"
SHORT = "20261122-061600-short"


def _app(workspace: Path, run: str | None = RECORDED) -> PunieApp:
    args = {"run": workspace / "runs" / run} if run else {}
    return PunieApp(open_workspace(workspace), start_screen="train", screen_args=args)


async def _settled(pilot) -> TrainScreen:
    screen = pilot.app.screen
    assert isinstance(screen, TrainScreen)
    for _ in range(100):
        table = screen.query_one("#history", DataTable)
        if (screen.run_path is None or screen.state.status != "running") and table.row_count:
            break
        await pilot.pause(0.05)
    # Let the 10 Hz redraw catch up with the last events.
    await pilot.pause(0.3)
    return screen


async def test_recorded_run_shows_progress_best_val_and_its_checkpoint(train_workspace: Path) -> None:
    app = _app(train_workspace)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _settled(pilot)
        assert screen.state.status == "finished"
        text = str(screen.query_one("#numbers", Static).render())
        assert "iteration 600/600" in text
        assert "best val 4.437 @ 600 (0000600_adapters.safetensors)" in text
        assert "checkpoints 1" in text
        assert "throughput-collapse" in str(screen.query_one("#alerts", Static).render())


async def test_history_lists_runs_and_enter_attaches_the_selected_one(train_workspace: Path) -> None:
    app = _app(train_workspace)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _settled(pilot)
        table = screen.query_one("#history", DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert [(r[0], r[1]) for r in rows] == [(RECORDED, "finished"), (SHORT, "finished")]
        # The recorded runs differ in their iterations, among other options.
        assert "iters=600" in rows[0][6] and "iters=20" in rows[1][6]
        table.focus()
        await pilot.press("down", "enter")
        await _settled(pilot)
        assert screen.run_path.name == SHORT
        assert screen.state.iteration == 20


async def test_attach_field_follows_an_old_mlx_lm_log(train_workspace: Path, punie_data: Path) -> None:
    app = _app(train_workspace, run=None)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _settled(pilot)
        field = screen.query_one("#attach", Input)
        field.value = str(punie_data / "logs" / "train_phase28.log")
        field.focus()
        await pilot.press("enter")
        await _settled(pilot)
        assert screen.state.status == "finished"
        assert len(screen.state.train) == 80
        assert "iteration 800/800" in str(screen.query_one("#numbers", Static).render())


async def test_overlay_key_draws_a_past_run_over_the_current_one_and_again_removes_it(train_workspace: Path) -> None:
    app = _app(train_workspace)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _settled(pilot)
        table = screen.query_one("#history", DataTable)
        table.focus()
        await pilot.press("down", "f8")
        for _ in range(50):
            if screen.overlay is not None:
                break
            await pilot.pause(0.05)
        assert screen.overlay[0] == SHORT and screen.overlay[1].iteration == 20
        await pilot.press("f8")
        assert screen.overlay is None


async def test_smoothing_keys_change_the_ema_within_bounds(train_workspace: Path) -> None:
    app = _app(train_workspace)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _settled(pilot)
        await pilot.press("f4", "f4", "f4", "f4")
        assert screen.smoothing == 0.95
        await pilot.press(*["f3"] * 12)
        assert screen.smoothing == 0.0


async def test_form_rejects_a_non_number_and_an_invalid_batch_size(train_workspace: Path) -> None:
    app = _app(train_workspace, run=None)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _settled(pilot)
        iters = screen.query_one("#f-iters", Input)
        iters.value = "lots"
        await pilot.pause()
        assert "iterations: 'lots' is not an integer" in str(screen.query_one("#form-errors", Static).render())
        iters.value = "20"
        screen.query_one("#f-batch_size", Input).value = "0"
        await pilot.pause()
        assert "batch_size: Input should be greater than or equal to 1" in str(screen.query_one("#form-errors", Static).render())
        await pilot.press("f6")
        assert screen.launched is None


@pytest.mark.slow
async def test_preflight_key_reports_the_missing_training_split(train_workspace: Path) -> None:
    app = _app(train_workspace, run=None)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _settled(pilot)
        await pilot.press("f5")
        for _ in range(300):
            if screen.preflight_report is not None:
                break
            await pilot.pause(0.1)
        codes = [f["code"] for f in screen.preflight_report["findings"]]
        # "models/demo" is not a local folder, so like mlx-lm the screen takes it for a Hub id.
        assert codes == ["train-missing", "valid-missing", "remote-model"]
        assert "preflight found errors" in str(screen.query_one("#preflight", Static).render())
        assert screen.query_one("#start").disabled


@pytest.mark.parametrize("run", [RECORDED, None])
def test_train_screen_snapshot(snap_compare, train_workspace: Path, run: str | None) -> None:
    async def run_before(pilot) -> None:
        await _settled(pilot)

    assert snap_compare(_app(train_workspace, run), terminal_size=(120, 36), run_before=run_before)


async def test_build_offer_appears_only_while_the_demo_model_is_missing(train_workspace: Path) -> None:
    from punie_tui.core.training.demo_training import demo_model_install_dir

    app = _app(train_workspace, run=None)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _settled(pilot)
        row = screen.query_one("#demo-row")
        assert not row.has_class("offered")
        screen.query_one("#f-model", Input).value = str(demo_model_install_dir())
        await pilot.pause()
        assert row.has_class("offered")
        screen.query_one("#f-model", Input).value = "models/demo"
        await pilot.pause()
        assert not row.has_class("offered")
