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
    """All turns of a spot-check; follows the stream while the user is near the bottom."""

    DEFAULT_CSS = """
    TranscriptView { height: 1fr; padding: 0 1; }
    TranscriptView .prompt-line { color: $accent; margin: 0 0 1 0; }
    """

    _end_pending = False

    def clear(self, prompt: str) -> None:
        self.remove_children()
        self.mount(Static(f"> {prompt}", classes="prompt-line", markup=False))

    def _scroll_to_end(self) -> None:
        self._end_pending = False
        self.scroll_end(animate=False)

    def show(self, turns: list[dict[str, Any]]) -> None:
        # Still following when the last update's scroll to the end has not happened yet: content
        # that arrives faster than the screen refreshes must not look like the user scrolled up.
        follow = self._end_pending or self.max_scroll_y - self.scroll_y <= 3
        views = list(self.query(TurnView))
        for number in range(len(views), len(turns)):
            view = TurnView(number + 1)
            self.mount(view)
            views.append(view)
        for view, turn in zip(views, turns):
            view.show(turn)
        if follow and not self._end_pending:
            self._end_pending = True
            self.call_after_refresh(self._scroll_to_end)
