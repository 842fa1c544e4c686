"""Label: one example at a time, labelled `tool`, `direct` or `skip` with one key each.

Every decision goes to the journal (core/labelled.py) before the screen shows it; the sidebar shows
progress, the live balance against the workspace target, counts per category and the last ten
decisions, any of which can be reopened and changed.
"""

from __future__ import annotations

import gc
import json

from rich.console import Group
from rich.markup import escape
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from punie_tui.config import Workspace
from punie_tui.core.dataset import ExternalChangeError
from punie_tui.core.formats import FORMATS
from punie_tui.core.labelled import Decision, LabelSession, open_labelled_datasets
from punie_tui.core.labels import FILTER_HELP, LABELS, disagrees
from punie_tui.widgets.balance import BalanceGauge, balance_text
from punie_tui.widgets.footer import KeyFooter

# Long tool results would make every redraw slow; the inspect screen shows whole records.
MAX_TURN_CHARS = 4000
ROLE_STYLES = {"system": "dim", "user": "bold cyan", "assistant": "bold green", "tool": "bold yellow"}
# Actions that change labels or move between examples; off while a text field has focus.
LABELLING_ACTIONS = {"label", "undo", "redo", "flag", "category", "new_category", "move", "open_filter", "save"}


def _turn_text(turn: dict) -> Text:
    role = str(turn.get("role", "?"))
    text = Text(f"{role}\n", style=ROLE_STYLES.get(role, "bold"))
    content = turn.get("content")
    body = content if isinstance(content, str) else "" if content is None else str(content)
    if len(body) > MAX_TURN_CHARS:
        body = body[:MAX_TURN_CHARS] + f"\n… {len(body) - MAX_TURN_CHARS} more characters"
    if role == "system":
        # The same prompt heads every example; one dim line keeps the turns that differ in view.
        first = body.strip().splitlines()[0] if body.strip() else ""
        text.append(first[:100] + ("…" if len(body.strip()) > len(first[:100]) else ""), style="dim")
    else:
        text.append(body)
    for call in turn.get("tool_calls") or []:
        function = call.get("function", call) if isinstance(call, dict) else call
        text.append(f"\n→ tool call {json.dumps(function, ensure_ascii=False, default=str)}", style="yellow")
    text.append("\n")
    return text


def _describe(decision: Decision) -> str:
    """What one decision changed, in a few words for the sidebar."""
    before, after = decision.before, decision.after
    changes = []
    if before.label != after.label:
        changes.append(f"{before.label} → {after.label or 'unlabelled'}" if before.label else str(after.label))
    if before.category != after.category:
        changes.append(f"category {after.category or 'none'}")
    if before.flag != after.flag or before.note != after.note:
        changes.append(f"⚑ {after.note}".rstrip() if after.flag else "flag removed")
    return ", ".join(changes)


class LabelScreen(Screen[None]):
    """Keyboard-driven labelling of a workspace's examples."""

    DEFAULT_CSS = """
    LabelScreen #main { height: 1fr; }
    LabelScreen #example { width: 1fr; padding: 0 1; }
    LabelScreen #meta { height: auto; margin-bottom: 1; }
    LabelScreen #sidebar { width: 40%; max-width: 46; min-width: 30; padding: 0 1; border-left: solid $primary-background; }
    LabelScreen #progress, LabelScreen #categories { height: auto; margin-bottom: 1; }
    LabelScreen BalanceGauge { padding: 0; margin-bottom: 1; }
    LabelScreen #recent { height: auto; max-height: 12; border: none; padding: 0; }
    LabelScreen #prompt { dock: bottom; display: none; }
    LabelScreen #prompt.open { display: block; }
    """
    BINDINGS = [
        Binding("t", "label('tool')", "Tool", id="label.tool", tooltip="Label: calls a tool"),
        Binding("d", "label('direct')", "Direct", id="label.direct", tooltip="Label: answers directly"),
        Binding("space", "label('skip')", "Skip", id="label.skip", tooltip="Label: leave out of training"),
        Binding("backspace", "undo", "Undo", id="label.undo", tooltip="Undo the latest decision"),
        Binding("ctrl+y", "redo", "Redo", id="label.redo", tooltip="Redo the latest undone decision"),
        Binding("f", "flag", "Flag", id="label.flag", tooltip="Flag with a note, or remove the flag"),
        *(
            Binding(str(n), f"category({n})", f"Category {n}", id=f"label.category_{n}", show=False, tooltip=f"Set category {n} (listed in the sidebar)")
            for n in range(1, 10)
        ),
        Binding("c", "new_category", "Category…", id="label.new_category", tooltip="Type a category (free categories for tool examples)"),
        Binding("n", "move(1)", "Next", id="label.next", tooltip="Next example"),
        Binding("p", "move(-1)", "Previous", id="label.previous", tooltip="Previous example"),
        Binding("slash", "open_filter", "Filter", id="label.filter", tooltip=f"Show only: {FILTER_HELP}"),
        Binding("ctrl+s", "save", "Save", id="label.save", tooltip="Write the journaled labels into the dataset files"),
        Binding("escape", "close_prompt", "Close", id="label.close_prompt", show=False, tooltip="Close the text field"),
    ]

    class Loaded(Message):
        def __init__(self, session: LabelSession) -> None:
            super().__init__()
            self.session = session

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.session: LabelSession | None = None
        self._shown: int | None = None
        self._prompt_mode = ""
        self._recent_items: list[int] = []
        self._recent_shown: list[Decision] = []
        self._texts: dict[str, str] = {}
        self._sidebar_pending = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with VerticalScroll(id="example"):
                yield Static("Reading the workspace…", id="meta")
                yield Static("", id="conversation")
            with VerticalScroll(id="sidebar"):
                yield Static("", id="progress")
                yield BalanceGauge()
                yield Static("", id="categories")
                yield Static("[b]Recent decisions[/b] [dim](enter: change)[/dim]")
                yield OptionList(id="recent")
        yield Input(id="prompt")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, name="label session")
    def load(self) -> None:
        self.post_message(self.Loaded(open_labelled_datasets(self.workspace)))

    def on_label_screen_loaded(self, message: Loaded) -> None:
        self.session = message.session
        # Pick up where the last session stopped: the first example still unlabelled.
        self.session.goto(self.session.first_unlabelled())
        # A 100k-example session is millions of long-lived objects; without this, full garbage
        # collections walk them all and stall a key press for a quarter of a second.
        gc.freeze()
        problems = self.session.problems
        for problem in problems[:3]:
            self.notify(str(problem), title="Label journal", severity="warning", timeout=10)
        if len(problems) > 3:
            self.notify(f"and {len(problems) - 3} more (punie-tui stats lists them all)", title="Label journal", severity="warning", timeout=10)
        for path, error in self.session.errors.items():
            self.notify(error, title=f"{path.name} not read", severity="error", timeout=10)
        self.refresh_view()
        self.refresh_bindings()

    def on_unmount(self) -> None:
        if self.session is not None:
            self.session.close()
            gc.unfreeze()

    def has_unsaved_changes(self) -> bool:
        """Decisions that are journaled (safe) but not yet written into the dataset files."""
        return self.session is not None and self.session.has_unsaved_changes()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in LABELLING_ACTIONS:
            return self.session is not None and not isinstance(self.focused, Input)
        return True

    # Drawing ------------------------------------------------------------------------------------

    def refresh_view(self) -> None:
        session = self.session
        if session is None:
            return
        self._show_example(session, session.current)
        # The next example is drawn first; the sidebar follows one frame later, once per burst.
        if not self._sidebar_pending:
            self._sidebar_pending = True
            self.call_after_refresh(self._show_sidebar, session)

    def _category_choices(self, session: LabelSession, item: int | None) -> list[str]:
        """The categories keys 1..9 choose for this example: direct ones, or the free tool ones."""
        direct = self.workspace.settings.direct_categories
        kind = (session.labels[item].label or session.suggestions[item]) if item is not None else "direct"
        if kind == "tool":
            return sorted(c for c, n in session.category_counts.items() if n > 0 and c not in direct)[:9]
        return list(direct)

    def _update(self, selector: str, markup: str) -> None:
        """Update a Static only when its text changed, and lay the screen out again only when its
        lines changed length: a layout pass costs more than the rest of a key press."""
        old = self._texts.get(selector)
        if old != markup:
            self._texts[selector] = markup
            shape = [len(line) for line in markup.split("\n")]
            same_shape = old is not None and shape == [len(line) for line in old.split("\n")]
            self.query_one(selector, Static).update(markup, layout=not same_shape)

    def _show_example(self, session: LabelSession, item: int | None) -> None:
        conversation = self.query_one("#conversation", Static)
        if item is None:
            self._update("#meta", (
                f"[b]No example matches[/b] the filter '{escape(session.filter_text)}'. Press / to change it."
                if session.items else "[b]No examples[/b] in this workspace's JSONL files."
            ))
            conversation.update("")
            self._shown = None
            return
        label, suggestion = session.labels[item], session.suggestions[item]
        state = label.label or "unlabelled"
        if disagrees(label.label, suggestion):
            state += f"  [red]disagrees with the content ({suggestion})[/red]"
        where = f" (filter: {escape(session.filter_text)})" if session.filter_text else ""
        self._update("#meta", (
            f"[b]{escape(session.location(item))}[/b]   {session.position + 1}/{len(session.view)}{where}\n"
            f"label: [b]{state}[/b]   suggested: {suggestion or '-'}   category: {escape(label.category or '-')}"
            + (f"\n[yellow]⚑ flagged[/yellow] {escape(label.note)}" if label.flag else "")
        ))
        if item != self._shown:
            conversation.update(Group(*(_turn_text(turn) for turn in session.record(item).turns())))
            self.query_one("#example", VerticalScroll).scroll_home(animate=False)
            self._shown = item

    def _show_sidebar(self, session: LabelSession) -> None:
        self._sidebar_pending = False
        total = len(session.items)
        unsaved = len(session.pending)
        self._update("#progress", (
            f"[b]Progress[/b] {session.done}/{total} labelled\n"
            + (f"[yellow]{unsaved} decision{'s' if unsaved != 1 else ''} journaled, not saved (ctrl+s)[/yellow]" if unsaved else "[dim]all saved[/dim]")
        ))
        self._update("BalanceGauge", balance_text(session.label_counts, session.content_counts, self.workspace.settings.label_target))
        choices = self._category_choices(session, session.current)
        lines = ["[b]Categories[/b] [dim](keys 1-9, c: other)[/dim]"]
        lines += [f"{n}  {escape(name)}  {session.category_counts[name]}" for n, name in enumerate(choices, start=1)]
        if not choices:
            lines.append("[dim]no tool categories yet: press c to name one[/dim]")
        others = sorted(c for c, k in session.category_counts.items() if k > 0 and c not in choices)
        lines += [f"·  {escape(name)}  {session.category_counts[name]}" for name in others]
        self._update("#categories", "\n".join(lines))
        decisions = session.recent(10)
        if decisions != self._recent_shown:
            self._recent_shown = decisions
            self._recent_items = [d.item for d in decisions]
            recent = self.query_one("#recent", OptionList)
            recent.clear_options()
            recent.add_options(Option(f"{session.location(d.item)}  {_describe(d)}") for d in decisions)

    # Actions ------------------------------------------------------------------------------------

    def _decided(self, decision: Decision | None, advance: bool) -> None:
        if decision is not None and advance:
            self.session.move(1)
        self.refresh_view()

    def action_label(self, name: str) -> None:
        item = self.session.current
        if item is not None:
            self._decided(self.session.set_label(item, name), advance=True)

    def action_undo(self) -> None:
        decision = self.session.undo()
        if decision is None:
            self.notify("Nothing to undo")
            return
        self.session.goto(decision.item)
        self.refresh_view()

    def action_redo(self) -> None:
        decision = self.session.redo()
        if decision is None:
            self.notify("Nothing to redo")
            return
        self.session.goto(decision.item)
        self.refresh_view()

    def action_category(self, number: int) -> None:
        item = self.session.current
        choices = self._category_choices(self.session, item)
        if item is None or number > len(choices):
            self.notify(f"No category {number} for this example (press c to type one)")
            return
        self._decided(self.session.set_category(item, choices[number - 1]), advance=False)

    def action_move(self, step: int) -> None:
        self.session.move(step)
        self.refresh_view()

    def action_flag(self) -> None:
        item = self.session.current
        if item is None:
            return
        if self.session.labels[item].flag:
            self._decided(self.session.set_flag(item, False), advance=False)
        else:
            self._open_prompt("note", "Note for the flag (enter: flag, escape: cancel)", "", [])

    def action_new_category(self) -> None:
        if self.session.current is not None:
            known = sorted({*self.workspace.settings.direct_categories, *self.session.category_counts})
            label = self.session.labels[self.session.current]
            self._open_prompt("category", "Category for this example (empty: none)", label.category or "", known)

    def action_open_filter(self) -> None:
        terms = ["unlabelled", "labelled", "flagged", "disagrees", *LABELS]
        terms += [f"category:{name}" for name in sorted(self.session.category_counts)]
        terms += [f"format:{name}" for name in (*FORMATS, "none")]
        self._open_prompt("filter", FILTER_HELP, self.session.filter_text, terms)

    def action_save(self) -> None:
        try:
            written = self.session.save()
        except (ExternalChangeError, OSError) as exc:
            self.notify(f"{exc}\nThe decisions stay in the journal.", title="Not saved", severity="error", timeout=10)
            return
        self.notify(f"Saved {len(written)} file(s): " + ", ".join(p.name for p in written) if written else "Nothing to save")
        self.refresh_view()

    def _open_prompt(self, mode: str, placeholder: str, value: str, suggestions: list[str]) -> None:
        prompt = self.query_one("#prompt", Input)
        self._prompt_mode = mode
        prompt.placeholder = placeholder
        prompt.suggester = SuggestFromList(suggestions, case_sensitive=False)
        prompt.value = value
        prompt.add_class("open")
        prompt.focus()
        self.refresh_bindings()

    def action_close_prompt(self) -> None:
        prompt = self.query_one("#prompt", Input)
        prompt.remove_class("open")
        self._prompt_mode = ""
        self.set_focus(None)
        self.refresh_bindings()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        mode, value, item = self._prompt_mode, event.value.strip(), self.session.current
        self.action_close_prompt()
        if mode == "filter":
            try:
                shown = self.session.set_filter(value)
            except ValueError as exc:
                self.notify(str(exc), title="Filter", severity="error")
                return
            self._shown = None
            self.notify(f"{shown} examples match" if value else f"All {shown} examples")
        elif mode == "note" and item is not None:
            self.session.set_flag(item, True, value)
        elif mode == "category" and item is not None:
            self.session.set_category(item, value or None)
        self.refresh_view()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        # Reopen a recent decision: the example comes back and the next key decides it again.
        self.session.goto(self._recent_items[event.option_index])
        self.set_focus(None)
        self.refresh_view()
