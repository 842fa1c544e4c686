"""The inspect screen: pilot tests of its keys on the demo workspace's planted defects and a big
file, and snapshots of its main states on the real excerpts of the small workspace."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from textual.widgets import Static, TextArea

from punie_tui.app import PunieApp
from punie_tui.config import open_workspace
from punie_tui.core.atomic import backup_path
from punie_tui.screens.inspect import InspectScreen
from punie_tui.widgets.dialogs import ChoiceDialog, DiffDialog, EditDialog
from punie_tui.widgets.example_list import ExampleList


def inspect_app(root: Path, path: Path | None = None) -> PunieApp:
    return PunieApp(open_workspace(root), start_screen="inspect", screen_args={"path": path} if path else {})


async def wait_linted(pilot, screen: InspectScreen) -> None:
    for _ in range(200):
        if screen.lint_done and screen.dataset is not None:
            break
        await pilot.pause(0.02)
    await pilot.pause()


async def wait_for_screen(pilot, cls: type) -> None:
    for _ in range(200):
        if isinstance(pilot.app.screen, cls):
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{cls.__name__} did not open; the screen is {pilot.app.screen}")


def statuses(screen: InspectScreen) -> dict[int, str]:
    examples = screen.query_one(ExampleList)
    rows = [screen._describe(position) for position in range(examples.count)]
    return {row.line: row.status for row in rows}


def text_of(screen: InspectScreen, selector: str) -> str:
    """What a Static shows, as plain text (its content may be markup or a rich renderable)."""
    content = screen.query_one(selector, Static).content
    if isinstance(content, str):
        return Text.from_markup(content).plain
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


async def test_every_example_is_listed_with_its_status_format_and_label(demo_workspace: Path) -> None:
    app = inspect_app(demo_workspace, demo_workspace / "incoming.jsonl")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, InspectScreen)
        await wait_linted(pilot, screen)
        found = statuses(screen)
        assert len(found) == 20
        assert [line for line, status in found.items() if status == "ok"] == [1, 10, 13]  # 13 repeats another file
        assert found[15] == "warning" and found[2] == "error" and found[18] == "error"
        row = screen._describe(6)
        assert (row.line, row.format, row.label) == (7, "json-fence", "(tool)")
        assert "incoming.jsonl: 20 examples" in text_of(screen, "#status")


async def test_next_and_previous_problem_keys_skip_clean_examples(demo_workspace: Path) -> None:
    app = inspect_app(demo_workspace, demo_workspace / "incoming.jsonl")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        await wait_linted(pilot, screen)
        examples = screen.query_one(ExampleList)
        await pilot.press("end")
        assert examples.cursor == 19
        await pilot.press("n")  # wraps from line 20 past the clean line 1
        assert screen.records[examples.cursor].line == 2
        await pilot.press("down", "down", "down", "down", "down", "down", "down", "down", "p")
        assert screen.records[examples.cursor].line == 9  # from line 10 (clean) back to 9
        assert "tool-response-double-wrapped" in text_of(screen, "#diagnostics")


async def test_filter_by_code_shows_only_those_examples_and_escape_shows_all(demo_workspace: Path) -> None:
    app = inspect_app(demo_workspace, demo_workspace / "incoming.jsonl")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        await wait_linted(pilot, screen)
        await pilot.press("f")
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        codes = [value for value, _ in dialog.options]
        await pilot.press(*["down"] * codes.index("tool-call-wrong-key"), "enter")
        await pilot.pause()
        assert [r.line for r in (screen.records[i] for i in screen.shown)] == [2, 3, 19, 20]
        assert screen.query_one(ExampleList).count == 4
        await pilot.press("escape")
        assert screen.query_one(ExampleList).count == 20


async def test_fix_example_shows_a_diff_then_undo_redo_and_save_with_a_backup(demo_workspace: Path) -> None:
    path = demo_workspace / "incoming.jsonl"
    before = path.read_bytes()
    app = inspect_app(demo_workspace, path)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        await wait_linted(pilot, screen)
        await pilot.press("n", "x")
        assert isinstance(app.screen, DiffDialog)
        assert '-{' in app.screen.diff and '\\"tool\\": \\"run_command\\"' in app.screen.diff
        assert '+{' in app.screen.diff and '\\"name\\": \\"run_command\\"' in app.screen.diff
        await pilot.press("y")
        await wait_linted(pilot, screen)
        assert statuses(screen)[2] == "ok" and screen.has_unsaved_changes()
        await pilot.press("ctrl+z")
        await wait_linted(pilot, screen)
        assert statuses(screen)[2] == "error" and not screen.has_unsaved_changes()
        await pilot.press("ctrl+y")
        await wait_linted(pilot, screen)
        assert statuses(screen)[2] == "ok"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not screen.has_unsaved_changes()
    assert backup_path(path).read_bytes() == before
    after = path.read_bytes().splitlines(keepends=True)
    assert '\\"tool\\"' not in after[1].decode() and after[2:] == before.splitlines(keepends=True)[2:]


async def test_fix_all_with_a_code_fixes_every_example_that_has_it(demo_workspace: Path) -> None:
    app = inspect_app(demo_workspace, demo_workspace / "incoming.jsonl")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        await wait_linted(pilot, screen)
        await pilot.press("n", "X")
        await wait_for_screen(pilot, DiffDialog)
        assert app.screen.title_text == "Fix tool-call-wrong-key in 4 examples"
        await pilot.press("y")
        await wait_linted(pilot, screen)
        assert not any(d.code == "tool-call-wrong-key" for ds in screen.diagnostics.values() for d in ds)


async def test_cancelling_a_fix_changes_nothing(demo_workspace: Path) -> None:
    app = inspect_app(demo_workspace, demo_workspace / "incoming.jsonl")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        await wait_linted(pilot, screen)
        await pilot.press("n", "x", "escape")
        await pilot.pause()
        assert not screen.has_unsaved_changes() and statuses(screen)[2] == "error"


async def test_edit_validates_as_you_type_and_applies_valid_json(demo_workspace: Path) -> None:
    app = inspect_app(demo_workspace, demo_workspace / "incoming.jsonl")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        await wait_linted(pilot, screen)
        await pilot.press("end", "e")  # line 20: "args" instead of "arguments"
        dialog = app.screen
        assert isinstance(dialog, EditDialog)
        editor = dialog.query_one(TextArea)
        assert "tool-call-wrong-key" in str(dialog.query_one("#status", Static).content)
        editor.text = editor.text + "}"
        await pilot.pause()
        assert "not JSON: Extra data" in str(dialog.query_one("#status", Static).content)
        editor.text = editor.text[:-1].replace('\\"args\\"', '\\"arguments\\"')
        await pilot.pause()
        assert "valid: no problems" in str(dialog.query_one("#status", Static).content)
        await pilot.press("ctrl+s")
        await wait_linted(pilot, screen)
        assert statuses(screen)[20] == "ok"
        assert any('"arguments"' in turn["content"] for turn in screen.records[19].data["messages"])


async def test_raw_key_shows_the_json_of_the_example(demo_workspace: Path) -> None:
    app = inspect_app(demo_workspace, demo_workspace / "incoming.jsonl")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        await wait_linted(pilot, screen)
        assert "1. system" in text_of(screen, "#conversation")
        await pilot.press("r")
        assert '"messages": [' in text_of(screen, "#conversation")


async def test_a_100k_example_file_scrolls_to_its_end(tmp_path: Path) -> None:
    turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps({"messages": turns, "n": i}) + "\n" for i in range(100_000)))
    app = inspect_app(tmp_path, path)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        await wait_linted(pilot, screen)
        examples = screen.query_one(ExampleList)
        assert examples.count == 100_000
        await pilot.press("end")
        await pilot.pause()
        assert examples.cursor == 99_999 and examples.scroll_offset.y > 99_900
        assert screen._describe(99_999).line == 100_000


async def test_open_key_switches_to_another_dataset(small_workspace: Path) -> None:
    app = inspect_app(small_workspace, small_workspace / "hand_authored.jsonl")
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        await wait_linted(pilot, screen)
        await pilot.press("o")
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        await pilot.press(*["down"] * [label for _, label in dialog.options].index("poc.jsonl"), "enter")
        await pilot.pause()
        await wait_linted(pilot, screen)
        assert screen.path.name == "poc.jsonl" and len(screen.records) == 4


def _linted(pilot_keys: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        await wait_linted(pilot, pilot.app.screen)
        if pilot_keys:
            await pilot.press(*pilot_keys)
            await pilot.pause()

    return run_before


@pytest.mark.parametrize(("name", "keys"), [
    ("conversation", ("down", "down")),  # line 3: a fenced call that is not JSON
    ("raw", ("r",)),
    ("diff", ("x",)),
])
def test_inspect_snapshot(snap_compare, small_workspace: Path, name: str, keys: tuple[str, ...]) -> None:
    app = inspect_app(small_workspace, small_workspace / "hand_authored.jsonl")
    assert snap_compare(app, terminal_size=(130, 34), run_before=_linted(keys))


async def test_inspect_from_home_opens_the_first_dataset_of_the_workspace(small_workspace: Path) -> None:
    app = PunieApp(open_workspace(small_workspace))
    async with app.run_test(size=(120, 30)) as pilot:
        app.action_show_screen("inspect")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InspectScreen)
        await wait_linted(pilot, screen)
        assert screen.path.name == "hand_authored.jsonl" and len(screen.records) == 6


async def test_quit_asks_first_while_fixes_are_unsaved(demo_workspace: Path) -> None:
    from punie_tui.widgets.confirm import ConfirmDialog

    app = inspect_app(demo_workspace, demo_workspace / "incoming.jsonl")
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        await wait_linted(pilot, screen)
        await pilot.press("n", "x", "y")
        await wait_linted(pilot, screen)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and app.is_running


async def test_a_broken_tools_file_is_reported_on_the_status_line(small_workspace: Path) -> None:
    (small_workspace / "tools.json").write_text("[{")
    app = inspect_app(small_workspace, small_workspace / "poc.jsonl")
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        for _ in range(100):
            if "tools.json: not valid JSON" in text_of(screen, "#status"):
                break
            await pilot.pause(0.02)
        assert "tools.json: not valid JSON" in text_of(screen, "#status")
