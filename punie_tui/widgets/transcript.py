"""A chat transcript as it streams: one block per assistant turn with its text, collapsible tool-call
items (arguments, result, raw text), and a verdict banner above it."""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Collapsible, Static

_VERDICT_STYLES = {
    "completed": "verdict-ok",
    "loop": "verdict-bad",
    "request-limit": "verdict-bad",
    "no-stop": "verdict-bad",
    "unparsed-call": "verdict-bad",
}


class VerdictBanner(Static):
    """One line: the verdict, its explanation and any expected-tool/direct mismatch."""

    DEFAULT_CSS = """
    VerdictBanner { height: auto; padding: 0 1; background: $panel; }
    VerdictBanner.verdict-ok { background: $success 40%; }
    VerdictBanner.verdict-bad { background: $error 40%; }
    VerdictBanner.verdict-running { background: $accent 30%; }
    """

    def show_running(self, text: str) -> None:
        self._set_class("verdict-running")
        self.update(escape(text))

    def show_result(self, data: dict[str, Any]) -> None:
        kind = data.get("verdict")
        if kind is None:
            self._set_class("verdict-running")
            self.update("[b]cancelled[/b]")
            return
        self._set_class(_VERDICT_STYLES.get(kind, "verdict-bad"))
        mismatch = f"  [b]{data['mismatch']}[/b]" if data.get("mismatch") else ""
        self.update(f"[b]{kind}[/b]  {escape(data.get('verdict_detail', ''))}{mismatch}")
        if data.get("mismatch") and kind == "completed":
            self._set_class("verdict-bad")

    def _set_class(self, name: str) -> None:
        self.remove_class("verdict-ok", "verdict-bad", "verdict-running")
        self.add_class(name)


def _call_title(call: dict[str, Any], result: dict[str, Any] | None) -> str:
    arguments = call["arguments"] if isinstance(call["arguments"], str) else json.dumps(call["arguments"], ensure_ascii=False)
    status = "" if result is None else f"  -> {result['status']}"
    return escape(f"{call['name']} {arguments}"[:90] + status)


def _call_body(call: dict[str, Any], result: dict[str, Any] | None, raw: str) -> str:
    arguments = json.dumps(call["arguments"], indent=2, ensure_ascii=False) if not isinstance(call["arguments"], str) else call["arguments"]
    if result is None:
        outcome = "(not run)"
    elif result["status"] == "ok":
        outcome = result["output"]
    else:
        outcome = f"{result['status']}: {result['reason']}"
    return f"arguments:\n{arguments}\n\nresult:\n{outcome}\n\nraw text:\n{raw}"


class TurnView(Vertical):
    """One assistant turn: header line, visible text, one collapsible item per call."""

    DEFAULT_CSS = """
    TurnView { height: auto; margin: 0 0 1 0; }
    TurnView .turn-head { color: $text-muted; }
    TurnView .turn-text { padding: 0 1; }
    TurnView Collapsible { margin: 0 1; }
    """

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self._turn: dict[str, Any] | None = None
        self._ready = False
        # (item, its body) per call, kept by reference and updated in place: queries miss items
        # that are still being mounted, and rebuilding them left stale duplicates under load.
        self._items: list[tuple[Collapsible, Static]] = []

    def compose(self) -> ComposeResult:
        yield Static(f"turn {self.number}", classes="turn-head")
        yield Static("", classes="turn-text", markup=False)

    def on_mount(self) -> None:
        # Our own flag: Textual sets `is_mounted` only after on_mount has returned and awaited,
        # and an update arriving in between was never drawn.
        self._ready = True
        if self._turn is not None:
            self._render_turn(self._turn)

    def show(self, turn: dict[str, Any]) -> None:
        self._turn = turn
        if self._ready:
            self._render_turn(turn)

    def _render_turn(self, turn: dict[str, Any]) -> None:
        finish = f"{turn['finish_reason']}, " if turn.get("finish_reason") else ""
        self.query_one(".turn-head", Static).update(
            f"turn {self.number}  [dim]{finish}{turn['tokens']} tokens, {turn['seconds']:.1f} s[/dim]"
        )
        calls = turn["tool_calls"]
        # Calls replace their markup in the text; raw text stays available in each call item.
        visible = turn["text"] if not calls else turn["text"].split("<tool_call>")[0].strip()
        self.query_one(".turn-text", Static).update(visible)
        results = turn["tool_results"]
        for index, call in enumerate(calls):
            result = results[index] if index < len(results) else None
            title, body = _call_title(call, result), _call_body(call, result, turn["text"])
            if index < len(self._items):
                item, content = self._items[index]
                item.title = title
                content.update(body)
            else:
                content = Static(body, markup=False)
                item = Collapsible(content, title=title, collapsed=True)
                self._items.append((item, content))
                self.mount(item)


class TranscriptView(VerticalScroll):
    """All turns of a spot-check; follows the stream until the user scrolls up, again once back at the bottom."""

    DEFAULT_CSS = """
    TranscriptView { height: 1fr; padding: 0 1; }
    TranscriptView .prompt-line { color: $accent; margin: 0 0 1 0; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Kept by reference: a query would also find the last spot-check's turns, which are
        # still there (and emptied) until their removal completes.
        self._views: list[TurnView] = []
        # Textual's own anchor() would do this, but it scrolls content shorter than the view to
        # below its top (a negative scroll_y), so the transcript keeps its own flag.
        self._following = True

    def clear(self, prompt: str) -> None:
        self.remove_children()
        self._views = []
        self.mount(Static(f"> {prompt}", classes="prompt-line", markup=False))
        self._following = True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Content only grows during a spot-check, so moving up is always the user's doing.
        if new_value >= self.max_scroll_y:
            self._following = True
        elif new_value < old_value:
            self._following = False

    def watch_virtual_size(self) -> None:
        # The content's height changed, also when a turn filled in a frame after it was mounted,
        # which no call to show() follows. Deferred: the new height is laid out after this.
        if self._following:
            self.scroll_end(animate=False)

    def show(self, turns: list[dict[str, Any]]) -> None:
        for number in range(len(self._views), len(turns)):
            view = TurnView(number + 1)
            self.mount(view)
            self._views.append(view)
        for view, turn in zip(self._views, turns):
            view.show(turn)
