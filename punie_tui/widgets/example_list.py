"""A virtualised list of dataset examples: only the rows on screen are drawn, so 100k scroll smoothly."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, NamedTuple

from rich.segment import Segment
from textual.binding import Binding
from textual.cache import LRUCache
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


class Row(NamedTuple):
    """What one row shows: status (error, warning, ok, pending), line number, format, label, text."""

    status: str
    line: int
    format: str
    label: str
    preview: str


_MARKS = {"error": "✗", "warning": "!", "ok": "✓", "pending": "·"}


class ExampleList(ScrollView, can_focus=True):
    """Rows come from `describe(position)`; the owner says how many there are and when they change."""

    DEFAULT_CSS = """
    ExampleList { height: 1fr; background: $surface; }
    ExampleList > .example-list--cursor { background: $accent 35%; }
    ExampleList:focus > .example-list--cursor { background: $accent 60%; }
    ExampleList > .example-list--error { color: $error; }
    ExampleList > .example-list--warning { color: $warning; }
    ExampleList > .example-list--ok { color: $success; }
    ExampleList > .example-list--pending { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "example-list--cursor", "example-list--error", "example-list--warning", "example-list--ok", "example-list--pending",
    }
    BINDINGS = [
        Binding("down", "move(1)", "Down", show=False, id="examples.down", tooltip="Next example"),
        Binding("up", "move(-1)", "Up", show=False, id="examples.up", tooltip="Previous example"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="examples.page_down", tooltip="A screenful down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="examples.page_up", tooltip="A screenful up"),
        Binding("home", "jump(0)", "First", show=False, id="examples.first", tooltip="First example"),
        Binding("end", "jump(-1)", "Last", show=False, id="examples.last", tooltip="Last example"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class Highlighted(Message):
        """The cursor moved to `position` (an index into the rows shown)."""

        def __init__(self, position: int) -> None:
            super().__init__()
            self.position = position

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._count = 0
        self._describe: Callable[[int], Row] | None = None
        self._cache: LRUCache[int, Row] = LRUCache(1024)

    @property
    def count(self) -> int:
        return self._count

    def set_rows(self, count: int, describe: Callable[[int], Row], keep_cursor: bool = True) -> None:
        """Show `count` rows drawn by `describe`; call again whenever what they show changes."""
        self._count = count
        self._describe = describe
        self._cache.clear()
        self.virtual_size = Size(self.size.width, count)
        cursor = min(self.cursor, count - 1) if keep_cursor else 0
        self.cursor = max(cursor, 0)
        self.refresh()

    def refresh_rows(self) -> None:
        """Redraw the visible rows (their status or label changed)."""
        self._cache.clear()
        self.refresh()

    def _row(self, position: int) -> Row:
        row = self._cache.get(position)
        if row is None and self._describe is not None:
            row = self._describe(position)
            self._cache[position] = row
        return row

    def render_line(self, y: int) -> Strip:
        position = self.scroll_offset.y + y
        width = self.size.width
        base = self.rich_style
        if position >= self._count:
            return Strip.blank(width, base)
        row = self._row(position)
        mark_style = self.get_component_rich_style(f"example-list--{row.status}")
        style = base + self.get_component_rich_style("example-list--cursor") if position == self.cursor else base
        text = f" {row.line:>6}  {row.format:<16.16} {row.label:<8.8} {row.preview}"
        segments = [Segment(" " + _MARKS.get(row.status, " "), style + mark_style), Segment(text, style)]
        return Strip(segments).crop_extend(0, width, style)

    def watch_cursor(self, old: int, new: int) -> None:
        if self._count:
            self.scroll_to_region(Region(0, new, 1, 1), animate=False, immediate=True)
            self.post_message(self.Highlighted(new))
        self.refresh()

    def action_move(self, delta: int) -> None:
        if self._count:
            self.cursor = max(0, min(self._count - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.size.height - 1))

    def action_jump(self, position: int) -> None:
        if self._count:
            self.cursor = position % self._count

    def on_click(self, event: Click) -> None:
        position = self.scroll_offset.y + event.y
        if 0 <= position < self._count:
            self.cursor = position

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self._count)
