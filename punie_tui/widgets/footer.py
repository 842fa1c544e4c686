"""KeyFooter: the active key bindings in one line, drawn as one widget."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


@dataclass(frozen=True)
class FooterEntry:
    """One key in the footer and the columns it covers."""

    key: str
    display: str
    description: str
    enabled: bool
    tooltip: str
    start: int
    end: int


class KeyFooter(Widget, can_focus=False):
    """The screen's active bindings, as textual's Footer shows them, with the palette key on the right.

    textual's Footer is a container with one widget per key. On the home screen its ten keys were
    a third of the time to the first frame (about 35 ms here): each key widget is styled, laid
    out and cut into the screen's lines on its own, and the whole set was rebuilt on each bindings
    update. This footer is one widget that renders one line: a bindings update is a repaint of a
    line. Keys are clickable and show their tooltip on hover; keys that do not fit are left out,
    the palette key never is.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "key-footer--key",
        "key-footer--description",
        "key-footer--separator",
        "key-footer--hover",
    }
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-footer--separator { color: $foreground 20%; }
        .key-footer--hover { background: $block-hover-background; }
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._keys_shown: tuple | None = None
        self._key_spans: list[FooterEntry] = []
        self._hovered: FooterEntry | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _footer_keys(self) -> tuple[list[tuple], tuple | None]:
        """(key, display, description, enabled, tooltip) of each shown action, and of the palette key."""
        app = self.app
        active = self.screen.active_bindings
        keys: list[tuple] = []
        actions: set[str] = set()
        for key, (_node, binding, enabled, tooltip) in active.items():
            # One key per action, the first bound, as textual's Footer shows them.
            if binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append((key, app.get_key_display(binding), binding.description, enabled, tooltip or binding.description))
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, tooltip = active[app.COMMAND_PALETTE_BINDING]
            palette = (binding.key, app.get_key_display(binding), binding.description, enabled, binding.tooltip or binding.description)
        return keys, palette

    def bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen and self._footer_keys() != self._keys_shown:
            self.refresh()

    def render(self) -> Text:
        keys, palette = self._keys_shown = self._footer_keys()
        width = self.size.width
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        hover_style = self.get_component_rich_style("key-footer--hover", partial=True)
        dim = self.get_component_rich_style("key-footer--separator")
        line = Text(no_wrap=True, overflow="crop", end="")
        entries: list[FooterEntry] = []

        def add(key: str, display: str, description: str, enabled: bool, tooltip: str, key_text: str, description_text: str) -> None:
            start = len(line)
            line.append(key_text, key_style)
            line.append(description_text, description_style)
            entry = FooterEntry(key, display, description, enabled, tooltip, start, len(line))
            if not enabled:
                line.stylize("dim", entry.start, entry.end)
            if self._hovered is not None and (self._hovered.key, self._hovered.start) == (entry.key, entry.start):
                line.stylize(hover_style, entry.start, entry.end)
            entries.append(entry)

        palette_width = len(f"▏{palette[1]} {palette[2]} ") if palette else 0
        for key, display, description, enabled, tooltip in keys:
            if len(line) + len(f" {display} {description} ") > width - palette_width:
                break
            add(key, display, description, enabled, tooltip, f" {display} ", f"{description} " if description else "")
        if palette:
            line.pad_right(width - palette_width - len(line))
            line.append("▏", dim)
            add(*palette, palette[1], f" {palette[2]} ")
        self._key_spans = entries
        return line

    def _entry_at(self, x: int) -> FooterEntry | None:
        return next((entry for entry in self._key_spans if entry.start <= x < entry.end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        entry = self._entry_at(event.x)
        if entry != self._hovered:
            self._hovered = entry
            self.tooltip = entry.tooltip if entry else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hovered is not None:
            self._hovered = None
            self.tooltip = None
            self.refresh()

    def on_click(self, event: events.Click) -> None:
        entry = self._entry_at(event.x)
        if entry is None:
            return
        if entry.enabled:
            self.app.simulate_key(entry.key)
        else:
            self.app.bell()
