"""KeyFooter: textual's Footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """The footer with the active bindings, as textual draws it.

    textual's Footer rebuilds all its key widgets on every bindings update: at start-up, on each
    focus change, after each keymap change. With a dozen keys a rebuild costs 10-30 ms here, and
    start-up alone triggered three for one unchanged set of keys. This one draws its keys in its
    first composition and rebuilds only when what it would show differs from what it shows or is
    about to show.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._drawn_keys: tuple | None = None

    def _keys(self) -> tuple:
        # What the footer draws: the shown bindings and the command palette's key.
        palette = self.app.COMMAND_PALETTE_BINDING
        return tuple(
            (key, binding.key, binding.action, binding.description, enabled, tooltip)
            for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == palette
        )

    def compose(self) -> ComposeResult:
        self._bindings_ready = True
        self._drawn_keys = self._keys()
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        # textual's rule, less the rebuilds that would draw the same keys again.
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        keys = self._keys()
        if keys != self._drawn_keys:
            self._drawn_keys = keys
            self.call_after_refresh(self.recompose)
