"""KeyFooter: the active bindings in one line, updated with focus, clickable, palette key kept."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Button, Input

from punie_tui.widgets.footer import KeyFooter


class Keyed(Input):
    BINDINGS = [Binding("ctrl+y", "yank", "Yank")]

    def action_yank(self) -> None:
        self.app.done.append("yank")


class FooterApp(App[None]):
    BINDINGS = [
        Binding("f5", "reload", "Reload", tooltip="Read everything again"),
        Binding("f6", "hidden", "Hidden", show=False),
        Binding("f7", "later", "Later"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.done: list[str] = []

    def compose(self) -> ComposeResult:
        yield Button("one", id="one")
        yield Keyed(id="keyed")
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # `later` is shown but disabled, as textual does for a check that returns None.
        return None if action == "later" else True

    def action_reload(self) -> None:
        self.done.append("reload")

    def action_later(self) -> None:
        self.done.append("later")


def line(app: App) -> str:
    return str(app.query_one(KeyFooter).render())


def column_of(app: App, text: str) -> int:
    return line(app).index(text)


async def test_footer_shows_the_shown_keys_and_the_palette_key_at_once() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        text = line(app)
        assert " f5 Reload " in text and " f7 Later " in text
        assert "Hidden" not in text
        assert text.endswith("▏^p palette ") and len(text) == 80


async def test_footer_follows_focus() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 10)) as pilot:
        app.query_one("#keyed").focus()
        await pilot.pause()
        assert "^y Yank" in line(app)
        app.query_one("#one").focus()
        await pilot.pause()
        assert "Yank" not in line(app)


async def test_clicking_a_key_runs_its_action_and_a_disabled_key_does_not() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        await pilot.click(KeyFooter, offset=(column_of(app, "Reload"), 0))
        await pilot.click(KeyFooter, offset=(column_of(app, "Later"), 0))
        await pilot.pause()
        assert app.done == ["reload"]


async def test_hovering_a_key_shows_its_tooltip() -> None:
    app = FooterApp()
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        await pilot.hover(KeyFooter, offset=(column_of(app, "Reload"), 0))
        assert app.query_one(KeyFooter).tooltip == "Read everything again"


async def test_keys_that_do_not_fit_are_left_out_but_the_palette_key_is_kept() -> None:
    app = FooterApp()
    async with app.run_test(size=(24, 10)) as pilot:
        await pilot.pause()
        text = line(app)
        assert text == " f5 Reload  ▏^p palette "
