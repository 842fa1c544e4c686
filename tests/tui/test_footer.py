"""KeyFooter shows the keys at once and rebuilds only when the keys it shows change."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Button, Input
from textual.widgets._footer import FooterKey

from punie_tui.widgets.footer import KeyFooter


class Keyed(Input):
    BINDINGS = [Binding("ctrl+y", "yank", "Yank")]

    def action_yank(self) -> None:
        pass


class FooterApp(App[None]):
    BINDINGS = [Binding("f5", "reload", "Reload")]

    def compose(self) -> ComposeResult:
        yield Button("one", id="one")
        yield Button("two", id="two")
        yield Keyed(id="keyed")
        yield KeyFooter()

    def action_reload(self) -> None:
        pass


def shown(app: App) -> list[str]:
    return [key.description for key in app.screen.query(FooterKey)]


async def test_footer_rebuilds_only_when_the_shown_keys_change(monkeypatch) -> None:
    app = FooterApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        footer = app.query_one(KeyFooter)
        rebuilds = []
        original = footer.recompose
        monkeypatch.setattr(footer, "recompose", lambda: rebuilds.append(1) or original())
        assert "Reload" in shown(app)

        # Moving focus between widgets without keys of their own changes nothing shown.
        app.query_one("#one").focus()
        await pilot.pause()
        app.query_one("#two").focus()
        await pilot.pause()
        assert rebuilds == []

        # A widget with a shown key of its own: the footer rebuilds and shows it.
        app.query_one("#keyed").focus()
        await pilot.pause()
        await pilot.pause()
        assert len(rebuilds) == 1
        assert "Yank" in shown(app) and "Reload" in shown(app)
