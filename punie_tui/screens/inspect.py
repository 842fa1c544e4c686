"""Inspect: every example of a dataset with its status, the selected one as a conversation, its
diagnostics, and keys to fix, edit, undo and save. Loading and linting run in workers."""

from __future__ import annotations

import json
from collections import Counter
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static

from punie_tui.core.convert import placeholder_record
from punie_tui.core.dataset import Dataset, DatasetError, Record, gc_paused, iter_records, load_dataset, read_content
from punie_tui.core.fixes import REPAIR_CODES, FixPlan, apply_plan, plan_from_diagnostics
from punie_tui.core.formats import record_formats
from punie_tui.core.labels import human_label, suggested_label
from punie_tui.config import WorkspaceError
from punie_tui.core.checking import workspace_context
from punie_tui.core.diagnostics import CODES, Diagnostic
from punie_tui.core.lint import LintContext, lint_record, lint_records
from punie_tui.widgets.conversation import conversation_view
from punie_tui.widgets.dialogs import ChoiceDialog, DiffDialog, EditDialog
from punie_tui.widgets.example_list import ExampleList, Row
from punie_tui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from punie_tui.config import Workspace

FIRST_ROWS = 200  # shown before the whole file is read, so a big file opens at once
PREVIEW_EDITS = 200  # lines a diff preview shows; the rest are counted


class InspectScreen(Screen[None]):
    """One dataset file: find its problems, fix them, save."""

    DEFAULT_CSS = """
    InspectScreen #status { height: 1; padding: 0 1; background: $boost; }
    InspectScreen #left { width: 45%; min-width: 40; }
    InspectScreen #right { width: 1fr; border-left: solid $primary 50%; }
    InspectScreen #detail { height: 1fr; padding: 0 1; }
    InspectScreen #diagnostics { height: auto; max-height: 12; padding: 0 1; border-top: solid $primary 50%; }
    """
    BINDINGS = [
        Binding("n", "problem(1)", "Next problem", id="inspect.next_problem", tooltip="Go to the next example with a diagnostic"),
        Binding("p", "problem(-1)", "Prev problem", id="inspect.previous_problem", tooltip="Go to the previous example with a diagnostic"),
        Binding("f", "filter", "Filter", id="inspect.filter", tooltip="Show only the examples with one diagnostic code"),
        Binding("escape", "clear_filter", "All", show=False, id="inspect.clear_filter", tooltip="Show every example again"),
        Binding("x", "fix_example", "Fix", id="inspect.fix_example", tooltip="Fix this example (diff first)"),
        Binding("X", "fix_code", "Fix all", id="inspect.fix_code", tooltip="Fix every example with this code (diff first)"),
        Binding("e", "edit", "Edit", id="inspect.edit", tooltip="Edit this example's JSON, validated as you type"),
        Binding("r", "toggle_raw", "Raw", id="inspect.raw", tooltip="Show the raw JSON instead of the conversation"),
        Binding("ctrl+z", "undo", "Undo", id="inspect.undo", tooltip="Undo the last change"),
        Binding("ctrl+y", "redo", "Redo", id="inspect.redo", tooltip="Redo what was undone"),
        Binding("ctrl+s", "save", "Save", id="inspect.save", tooltip="Save atomically, keeping a .bak of the previous version"),
        Binding("o", "open_file", "Open", id="inspect.open", tooltip="Inspect another dataset of the workspace"),
    ]

    class Loaded(Message):
        """Records read so far; `dataset` is set once the whole file is read."""

        def __init__(self, path: Path, records: list[Record], dataset: Dataset | None, ctx: LintContext | None) -> None:
            super().__init__()
            self.path, self.records, self.dataset, self.ctx = path, records, dataset, ctx

    class Linted(Message):
        """Diagnostics found so far (`done`: all of them, including the file-level rules)."""

        def __init__(self, generation: int, diagnostics: list[Diagnostic], upto: int, done: bool) -> None:
            super().__init__()
            self.generation, self.diagnostics, self.upto, self.done = generation, diagnostics, upto, done

    class Planned(Message):
        """A fix plan worked out in a worker, for the data as it was at `version`."""

        def __init__(self, plan: FixPlan, title: str, version: int) -> None:
            super().__init__()
            self.plan, self.title, self.version = plan, title, version

    class Failed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, workspace: Workspace, path: Path | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        paths = workspace.dataset_paths()
        self.path: Path | None = Path(path) if path is not None else (paths[0] if paths else None)
        self.records: list[Record] = []
        self.dataset: Dataset | None = None
        self.ctx: LintContext | None = None
        self.diagnostics: dict[int, list[Diagnostic]] = {}
        self.linted_upto = 0
        self.lint_done = False
        self.relinting = False
        self.generation = 0
        self.filter_code: str | None = None
        self.shown: list[int] | None = None
        self.raw = False
        # Each change gets a new version number; undo and redo restore the records with their
        # version, so "unsaved" is simply version != saved_version.
        self.undo_stack: list[tuple[list[Record], int]] = []
        self.redo_stack: list[tuple[list[Record], int]] = []
        self.version = 0
        self.saved_version = 0
        self._versions = 0
        self._labels: dict[int, tuple[str, str]] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="status")
        with Horizontal():
            with Vertical(id="left"):
                yield ExampleList(id="examples")
            with Vertical(id="right"):
                with VerticalScroll(id="detail"):
                    yield Static("", id="conversation")
                yield Static("", id="diagnostics")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.path is None:
            self.query_one("#status", Static).update("No *.jsonl dataset in this workspace.")
            return
        self.open_path(self.path)

    # --- loading and linting (workers) --------------------------------------------------------

    def open_path(self, path: Path) -> None:
        self.path = path
        self.dataset = None
        self.records = []
        self.diagnostics = {}
        self.lint_done = False
        self.undo_stack.clear()
        self.redo_stack.clear()
        self._clear_filter()
        self._update_status()
        self.load(path)

    @work(thread=True, exclusive=True, exit_on_error=False, name="load dataset", group="load")
    def load(self, path: Path) -> None:
        try:
            content = read_content(path)
        except DatasetError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self.post_message(self.Loaded(path, list(islice(iter_records(path, content), FIRST_ROWS)), None, None))
        try:
            ctx = workspace_context(self.workspace)
        except WorkspaceError as exc:  # a broken tools.json: say so instead of linting without it
            self.post_message(self.Failed(str(exc)))
            return
        dataset = load_dataset(path)
        self.post_message(self.Loaded(path, dataset.records, dataset, ctx))

    @work(thread=True, exclusive=True, exit_on_error=False, name="lint dataset", group="lint")
    def lint(self, generation: int) -> None:
        # Worker arguments are repr'd into its description, so the dataset is not passed as one.
        dataset, ctx = self.dataset, self.ctx
        if dataset is None or ctx is None:
            return
        records = list(dataset.records)

        def chunk(found: list[Diagnostic], upto: int) -> None:
            self.post_message(self.Linted(generation, list(found), upto, False))

        # About ten progress updates whatever the size: each one redraws the rows and the status.
        with gc_paused():
            report = lint_records(dataset.path, records, ctx, on_chunk=chunk, chunk=max(1000, len(records) // 10))
        self.post_message(self.Linted(generation, report.diagnostics, len(records), True))

    def on_inspect_screen_loaded(self, message: Loaded) -> None:
        if message.path != self.path:
            return
        self.records = message.records
        if message.dataset is not None:
            self.dataset = message.dataset
            self.ctx = message.ctx
            self.version = self.saved_version = self._next_version()
            self.relint()
        self._show_rows(keep_cursor=True)

    def on_inspect_screen_failed(self, message: Failed) -> None:
        self.query_one("#status", Static).update(f"[red]{message.error}[/red]")

    def relint(self) -> None:
        """Lint the dataset again in a worker; rows show as pending until their result is in."""
        if self.dataset is None or self.ctx is None:
            return
        self.generation += 1
        # After a change the previous results stay on screen (lines keep their numbers) until the
        # new ones are complete, instead of every row flashing back to pending.
        self.relinting = self.lint_done
        self.lint_done = False
        if not self.relinting:
            self.linted_upto = 0
            self.diagnostics = {}
        self._labels.clear()
        self.lint(self.generation)

    def on_inspect_screen_linted(self, message: Linted) -> None:
        if message.generation != self.generation or (self.relinting and not message.done):
            return
        if message.done:
            self.diagnostics = {}
            self.relinting = False
        for diagnostic in message.diagnostics:
            self.diagnostics.setdefault(diagnostic.line, []).append(diagnostic)
        self.linted_upto = message.upto
        self.lint_done = message.done
        if message.done and self.filter_code:
            self._apply_filter(self.filter_code)
        self.query_one(ExampleList).refresh_rows()
        self._update_status()
        if message.done:
            self._show_detail()

    # --- rows and detail --------------------------------------------------------------------

    def _index(self, position: int) -> int:
        return self.shown[position] if self.shown is not None else position

    def _show_rows(self, keep_cursor: bool = True) -> None:
        count = len(self.shown) if self.shown is not None else len(self.records)
        self.query_one(ExampleList).set_rows(count, self._describe, keep_cursor=keep_cursor)
        self._update_status()
        self._show_detail()

    def _status_of(self, index: int, record: Record) -> str:
        found = self.diagnostics.get(record.line)
        if found:
            return "error" if any(d.severity == "error" for d in found) else "warning"
        if record.data is None:
            return "error"
        return "ok" if self.lint_done or index < self.linted_upto else "pending"

    def _describe(self, position: int) -> Row:
        index = self._index(position)
        record = self.records[index]
        fmt, label = self._labels.get(index) or self._format_and_label(index, record)
        preview = record.text[:120] if record.data is None else _first_user_text(record)
        return Row(self._status_of(index, record), record.line, fmt, label, preview)

    def _format_and_label(self, index: int, record: Record) -> tuple[str, str]:
        if record.data is None:
            found = ("broken", "")
        else:
            human = human_label(record)
            found = (",".join(record_formats(record)) or "-", human or f"({suggested_label(record) or '?'})")
        self._labels[index] = found
        return found

    def current_index(self) -> int | None:
        examples = self.query_one(ExampleList)
        if not examples.count:
            return None
        return self._index(examples.cursor)

    def on_example_list_highlighted(self, message: ExampleList.Highlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        index = self.current_index()
        conversation = self.query_one("#conversation", Static)
        panel = self.query_one("#diagnostics", Static)
        if index is None or index >= len(self.records):
            conversation.update("")
            panel.update("")
            return
        record = self.records[index]
        conversation.update(conversation_view(record, self.ctx.schemas if self.ctx else None, raw=self.raw))
        found = self.diagnostics.get(record.line, [])
        if found:
            panel.update("\n".join(
                f"[{'red' if d.severity == 'error' else 'yellow'}]{d.severity} {d.code}[/]: {_escape(d.message)}"
                + (" [dim](x fixes)[/dim]" if d.fixable else "") for d in found))
        elif self.lint_done or index < self.linted_upto:
            panel.update(f"[green]line {record.line}: no problems[/green]")
        else:
            panel.update("[dim]linting...[/dim]")

    def _update_status(self) -> None:
        status = self.query_one("#status", Static)
        if self.path is None:
            return
        name = _relative(self.path, self.workspace.root)
        if self.dataset is None:
            status.update(f"{name}: reading... {len(self.records)} examples so far")
            return
        errors = sum(1 for ds in self.diagnostics.values() for d in ds if d.severity == "error")
        warnings = sum(1 for ds in self.diagnostics.values() for d in ds if d.severity == "warning")
        progress = "" if self.lint_done else "  checking again..." if self.relinting else f"  linting {self.linted_upto}/{len(self.records)}..."
        shown = f"  filter {self.filter_code}: {len(self.shown or [])} shown (esc: all)" if self.filter_code else ""
        unsaved = "  [b]unsaved[/b]" if self.has_unsaved_changes() else ""
        target = self.ctx.target if self.ctx else "?"
        status.update(f"{name}: {len(self.records)} examples, [red]{errors} errors[/red], [yellow]{warnings} warnings[/yellow]"
                      f"  target {target}{progress}{shown}{unsaved}")

    # --- actions ----------------------------------------------------------------------------

    def action_problem(self, direction: int) -> None:
        examples = self.query_one(ExampleList)
        count = examples.count
        for step in range(1, count + 1):
            position = (examples.cursor + direction * step) % count
            if self.diagnostics.get(self.records[self._index(position)].line):
                examples.cursor = position
                return
        self.notify("No problems found (yet).", timeout=3)

    def action_toggle_raw(self) -> None:
        self.raw = not self.raw
        self._show_detail()

    def action_filter(self) -> None:
        counts = Counter(d.code for ds in self.diagnostics.values() for d in ds)
        if not counts:
            self.notify("No diagnostics to filter by (yet).", timeout=3)
            return
        options = [(code, f"{code}  ({n} · {CODES[code].severity})") for code, n in counts.most_common()]
        self.app.push_screen(ChoiceDialog("Show only the examples with", options), self._filter_chosen)

    def _filter_chosen(self, code: str | None) -> None:
        if code:
            self._apply_filter(code)
            self._show_rows(keep_cursor=False)

    def _apply_filter(self, code: str) -> None:
        self.filter_code = code
        self.shown = [i for i, r in enumerate(self.records) if any(d.code == code for d in self.diagnostics.get(r.line, ()))]

    def _clear_filter(self) -> None:
        self.filter_code = None
        self.shown = None

    def action_clear_filter(self) -> None:
        if self.filter_code is not None:
            index = self.current_index()
            self._clear_filter()
            self._show_rows()
            if index is not None:
                self.query_one(ExampleList).cursor = index

    def _ready(self) -> bool:
        if self.dataset is None or self.ctx is None:
            self.notify("Still reading the file.", timeout=3)
            return False
        if not self.lint_done:
            self.notify("Still linting; a moment.", timeout=3)
            return False
        return True

    def action_fix_example(self) -> None:
        index = self.current_index()
        if index is None or not self._ready():
            return
        record = self.records[index]
        # The example's own diagnostics only; repairs included, since the diff is shown for acceptance.
        plan = plan_from_diagnostics(self.dataset, self.ctx, self.diagnostics.get(record.line, []), repairs=True)
        self._preview(plan, f"Fix line {record.line}")

    def action_fix_code(self) -> None:
        index = self.current_index()
        if index is None or not self._ready():
            return
        if self.filter_code:
            self._fix_all(self.filter_code)
            return
        fixable = [d.code for d in self.diagnostics.get(self.records[index].line, []) if d.fixable]
        if fixable:
            self._fix_all(fixable[0])
            return
        codes = Counter(d.code for ds in self.diagnostics.values() for d in ds if d.fixable)
        if not codes:
            self.notify("Nothing here can be fixed automatically.", timeout=3)
            return
        self.app.push_screen(ChoiceDialog("Fix every example with", [(c, f"{c}  ({n})") for c, n in codes.most_common()]),
                             lambda code: self._fix_all(code) if code else None)

    def _fix_all(self, code: str) -> None:
        self.notify(f"Working out the fixes for {code}...", timeout=2)
        self.plan_fix_all(code, self.version)

    @work(thread=True, exclusive=True, exit_on_error=False, name="plan fixes", group="plan")
    def plan_fix_all(self, code: str, version: int) -> None:
        # Converting thousands of examples takes seconds: off the UI thread.
        everything = [d for ds in list(self.diagnostics.values()) for d in ds]
        plan = plan_from_diagnostics(self.dataset, self.ctx, everything, [code], repairs=code in REPAIR_CODES)
        self.post_message(self.Planned(plan, f"Fix {code} in {len(plan.edits)} examples", version))

    def on_inspect_screen_planned(self, message: Planned) -> None:
        if message.version == self.version:  # otherwise the data changed meanwhile
            self._preview(message.plan, message.title)

    def _preview(self, plan: FixPlan, title: str) -> None:
        if not plan.edits:
            reason = plan.unfixed[0] if plan.unfixed else "nothing here can be fixed automatically"
            self.notify(reason, timeout=5)
            return

        def decided(apply: bool | None) -> None:
            if apply:
                self._change(lambda: apply_plan(plan))
                self.notify(f"{len(plan.edits)} lines changed (ctrl+z undoes, ctrl+s saves)", timeout=4)

        self.app.push_screen(DiffDialog(title, plan.diff(limit=PREVIEW_EDITS)), decided)

    def action_edit(self) -> None:
        index = self.current_index()
        if index is None or self.dataset is None or self.ctx is None:
            return
        record = self.records[index]
        text = json.dumps(record.data, indent=2, ensure_ascii=False) if record.data is not None else record.text
        ctx = self.ctx

        def check(data: dict) -> list[str]:
            return [f"{d.code}: {d.message}" for d in lint_record(placeholder_record(data), ctx)[0]]

        def edited(data: dict | None) -> None:
            if data is not None and data != record.data:
                self._change(lambda: self.dataset.replace(index, data))

        self.app.push_screen(EditDialog(f"Edit line {record.line}", text, check), edited)

    def _next_version(self) -> int:
        self._versions += 1
        return self._versions

    def _change(self, change) -> None:
        self.undo_stack.append((list(self.dataset.records), self.version))
        self.redo_stack.clear()
        change()
        self.version = self._next_version()
        self._after_change()

    def _after_change(self) -> None:
        self.records = self.dataset.records
        self._labels.clear()
        if self.filter_code:
            self._apply_filter(self.filter_code)
        self._show_rows()
        self.relint()

    def action_undo(self) -> None:
        if self.dataset is None or not self.undo_stack:
            self.notify("Nothing to undo.", timeout=2)
            return
        self.redo_stack.append((list(self.dataset.records), self.version))
        self.dataset.records[:], self.version = self.undo_stack.pop()
        self._after_change()

    def action_redo(self) -> None:
        if self.dataset is None or not self.redo_stack:
            self.notify("Nothing to redo.", timeout=2)
            return
        self.undo_stack.append((list(self.dataset.records), self.version))
        self.dataset.records[:], self.version = self.redo_stack.pop()
        self._after_change()

    def action_save(self) -> None:
        if self.dataset is None:
            return
        if not self.has_unsaved_changes():
            self.notify("No changes to save.", timeout=2)
            return
        try:
            self.dataset.save()
        except DatasetError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.saved_version = self.version
        self._update_status()
        self.notify(f"Saved {self.dataset.path.name} (previous version in {self.dataset.path.name}.bak)", timeout=4)

    def action_open_file(self) -> None:
        if self.has_unsaved_changes():
            self.notify("Save (ctrl+s) or undo the changes first.", severity="warning", timeout=4)
            return
        options = [(str(p), _relative(p, self.workspace.root)) for p in self.workspace.dataset_paths()]
        self.app.push_screen(ChoiceDialog("Inspect which dataset?", options), lambda p: self.open_path(Path(p)) if p else None)

    def has_unsaved_changes(self) -> bool:
        return self.dataset is not None and self.version != self.saved_version


def _first_user_text(record: Record) -> str:
    for turn in record.turns():
        if turn.get("role") == "user" and isinstance(turn.get("content"), str):
            return " ".join(turn["content"].split())[:120]
    if record.shape == "raw-distill":
        return str(record.data.get("query", ""))[:120]
    return record.text[:120]


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def _escape(text: str) -> str:
    return text.replace("[", "\\[")
