"""The home screen: pilot tests of its keys and snapshots at 80x24 and 200x50."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from punie_tui.app import PunieApp
from punie_tui.config import open_workspace
from punie_tui.screens.home import HomeScreen


async def wait_for_summary(pilot, screen: HomeScreen) -> None:
    for _ in range(100):
        if screen.summary is not None:
            break
        await pilot.pause(0.05)
    await pilot.pause()


async def test_home_lists_files_with_records_broken_lines_and_formats(small_workspace: Path) -> None:
    app = PunieApp(open_workspace(small_workspace))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, HomeScreen)
        await wait_for_summary(pilot, screen)
        table = screen.query_one("#files", DataTable)
        rows = {table.get_row_at(i)[0]: table.get_row_at(i) for i in range(table.row_count)}
        assert set(rows) == {"hand_authored.jsonl", "poc.jsonl", "qwen.jsonl"}
        assert rows["poc.jsonl"][1] == "4" and "1" in str(rows["poc.jsonl"][2])
        assert rows["hand_authored.jsonl"][4] == "json-fence"
        assert "raw-distill" in rows["poc.jsonl"][4]
        assert screen.summary.records == 14


async def test_refresh_key_reads_files_added_since(small_workspace: Path) -> None:
    app = PunieApp(open_workspace(small_workspace))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for_summary(pilot, app.screen)
        (small_workspace / "new.jsonl").write_text('{"text": "hello"}\n')
        app.screen.summary = None
        await pilot.press("r")
        await wait_for_summary(pilot, app.screen)
        assert app.screen.query_one("#files", DataTable).row_count == 4


async def test_theme_key_switches_between_light_and_dark(small_workspace: Path) -> None:
    app = PunieApp(open_workspace(small_workspace))
    async with app.run_test() as pilot:
        dark = app.current_theme.dark
        await pilot.press("ctrl+t")
        assert app.current_theme.dark is not dark


async def test_quit_asks_first_when_a_screen_has_unsaved_changes(small_workspace: Path) -> None:
    app = PunieApp(open_workspace(small_workspace))
    async with app.run_test() as pilot:
        app.screen.has_unsaved_changes = lambda: True
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running
        assert "Unsaved changes in: Home" in str(app.screen.query_one("Label", Static).render())
        await pilot.press("n")
        assert app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 0


async def test_quit_without_unsaved_changes_exits_at_once(small_workspace: Path) -> None:
    app = PunieApp(open_workspace(small_workspace))
    async with app.run_test() as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


def _settle(pilot):
    async def run_before(pilot) -> None:
        await wait_for_summary(pilot, pilot.app.screen)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_home_snapshot(snap_compare, small_workspace: Path, size: tuple[int, int]) -> None:
    app = PunieApp(open_workspace(small_workspace))
    assert snap_compare(app, terminal_size=size, run_before=_settle(None))


async def test_palette_offers_every_screen_and_the_screens_actions(small_workspace: Path) -> None:
    app = PunieApp(open_workspace(small_workspace))
    async with app.run_test() as pilot:
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Go to Home", "Refresh", "Theme", "Quit"} <= titles


async def test_palette_command_runs_the_screens_action(small_workspace: Path) -> None:
    app = PunieApp(open_workspace(small_workspace))
    async with app.run_test() as pilot:
        await wait_for_summary(pilot, app.screen)
        (small_workspace / "new.jsonl").write_text('{"text": "hello"}\n')
        app.screen.summary = None
        refresh = next(c for c in app.get_system_commands(app.screen) if c.title == "Refresh")
        await refresh.callback()
        await wait_for_summary(pilot, app.screen)
        assert app.screen.query_one("#files", DataTable).row_count == 4


async def test_home_lists_runs_with_their_status_and_last_losses(train_workspace: Path) -> None:
    app = PunieApp(open_workspace(train_workspace))
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_for_summary(pilot, app.screen)
        runs = str(app.screen.query_one("#runs", Static).render())
        assert "20261122-061600-short  finished  train 6.379  val 5.970" in runs
        assert "20261122-062300-demo600  finished" in runs


async def test_home_says_when_label_journal_entries_were_not_applied(small_workspace: Path) -> None:
    journal = small_workspace / ".punie" / "labels.journal.jsonl"
    journal.parent.mkdir()
    journal.write_text("{not json\n")
    app = PunieApp(open_workspace(small_workspace))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for_summary(pilot, app.screen)
        problems = app.screen.query_one("#problems", Static)
        assert problems.has_class("shown")
        assert "Label journal: 1 entries not applied" in str(problems.render())
        assert "labels.journal.jsonl:1" in str(problems.render())


async def test_home_keys_open_each_screen_and_f1_comes_back(small_workspace: Path) -> None:
    app = PunieApp(open_workspace(small_workspace))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for_summary(pilot, app.screen)
        for key, mode in (("i", "inspect"), ("l", "label"), ("t", "train"), ("c", "chat"), ("e", "evaluate")):
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
            await pilot.press("f1")
            await pilot.pause()
            assert app.current_mode == "home"
