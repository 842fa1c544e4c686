"""Eval: pick targets (a run's checkpoints in one go), run the suite in a worker with progress, compare
them side by side with references, drill into any cell's transcript, see the best checkpoint by
behaviour next to the best by validation loss, and export the report."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, Input, ProgressBar, SelectionList, Static

from punie_tui.widgets import tables
from punie_tui.widgets.demo_offer import DemoModelOffer
from punie_tui.widgets.footer import KeyFooter
from punie_tui.widgets.transcript import TranscriptView, VerdictBanner

if TYPE_CHECKING:
    from punie_tui.config import Workspace

# Where the exported report goes, in the workspace.
REPORT_FILE = "eval-report.md"
BEST_BEHAVIOUR = "★"
BEST_LOSS = "◆"


@dataclass(frozen=True)
class Candidate:
    """One entry of the target list; `resolve` gives its targets (a run gives all its checkpoints)."""

    label: str
    resolve: Callable[[], list[Any]]
    run_dir: Path | None = None


class TranscriptDialog(ModalScreen[None]):
    """The chat transcript behind one cell of the per-query table."""

    DEFAULT_CSS = """
    TranscriptDialog { align: center middle; }
    TranscriptDialog > Vertical { width: 90%; height: 85%; border: thick $accent; background: $surface; }
    TranscriptDialog #cell-title { padding: 0 1; color: $text-muted; height: auto; }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close", id="eval.transcript.close", tooltip="Back to the results")]

    def __init__(self, title: str, transcript: dict[str, Any]) -> None:
        super().__init__()
        self.title_text = title
        self.transcript = transcript

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, id="cell-title", markup=False)
            yield VerdictBanner("")
            yield TranscriptView()

    def on_mount(self) -> None:
        self.query_one(VerdictBanner).show_result(self.transcript)
        view = self.query_one(TranscriptView)
        view.clear(self.transcript["prompt"])
        view.show(self.transcript["turns"])


class EvalScreen(Screen[None]):
    """Targets on the left; the summary table, notes and per-query table on the right."""

    DEFAULT_CSS = """
    EvalScreen #side { width: 30%; max-width: 34; min-width: 22; padding: 0 1; border-right: solid $panel; }
    EvalScreen #targets { height: 1fr; }
    EvalScreen #add-target { margin: 1 0 0 0; }
    EvalScreen .field { color: $text-muted; }
    EvalScreen #main { width: 1fr; }
    EvalScreen #status { height: auto; padding: 0 1; }
    EvalScreen #progress { padding: 0 1; }
    EvalScreen #summary { height: auto; max-height: 12; }
    EvalScreen #notes { height: auto; padding: 0 1; color: $text-muted; }
    EvalScreen #queries { height: 1fr; }
    """
    BINDINGS = [
        Binding("ctrl+r", "run", "Run", id="eval.run", tooltip="Run the suite on the checked targets"),
        Binding("escape", "cancel", "Cancel", id="eval.cancel", tooltip="Stop the running eval after the current query"),
        Binding("ctrl+e", "export", "Export", id="eval.export", tooltip=f"Write the report to {REPORT_FILE} in the workspace"),
        Binding("ctrl+o", "open_cell", "Transcript", id="eval.open", tooltip="Show the chat transcript of the selected cell"),
    ]

    class Progressed(Message):
        """One query finished (or a target started); results are few and each is kept, so none are coalesced."""

        def __init__(self, progress: Any) -> None:
            super().__init__()
            self.progress = progress

    class Finished(Message):
        def __init__(self, report: Any) -> None:
            super().__init__()
            self.report = report

    class Failed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, workspace: Workspace, targets: list[Any] | None = None, queries: list[Any] | None = None,
                 references: list[Any] | None = None, options: Any = None, opener: Any = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.queries = queries
        self.references = references
        self.options = options
        # Opens a target's model; tests pass one that yields scripted FunctionModels.
        self.opener = opener
        self.report: Any = None
        self._cancel = threading.Event()
        self._columns: list[str] = []
        self._live: dict[tuple[int, int], Any] = {}
        self.candidates = self._candidates(targets)

    def _candidates(self, targets: list[Any] | None) -> list[Candidate]:
        from punie_tui.core.chat.mlx_model import ADAPTER_CONFIG

        found = [Candidate(target.name, lambda t=target: [t]) for target in targets or []]
        if not targets:
            found.append(Candidate("base model", lambda: _default_targets(self.workspace)))
        runs = sorted(p for p in self.workspace.runs_dir.iterdir() if p.is_dir()) if self.workspace.runs_dir.is_dir() else []
        for run in runs:
            if any(run.rglob(ADAPTER_CONFIG)):
                found.append(Candidate(f"run {run.name} (every checkpoint)", lambda r=run: _run_targets(self.workspace, r), run))
        return found

    def compose(self) -> ComposeResult:
        yield Header()
        if not self.workspace.settings.model:
            # Targets resolve the demo model when they run: the trained one once this has built it.
            yield DemoModelOffer()
        with Horizontal():
            with Vertical(id="side"):
                yield Static("targets (space to check)", classes="field")
                yield SelectionList[int](*[(c.label, i, i == 0) for i, c in enumerate(self.candidates)], id="targets")
                yield Input(placeholder="add: model, adapter, run folder or URL", id="add-target", compact=True)
            with Vertical(id="main"):
                yield Static("Check targets and press ctrl+r to run the suite.", id="status", markup=False)
                yield ProgressBar(id="progress", show_eta=False)
                yield DataTable(id="summary", cursor_type="row", zebra_stripes=True)
                yield Static("", id="notes", markup=False)
                yield DataTable(id="queries", cursor_type="cell")
        yield KeyFooter()

    def on_mount(self) -> None:
        from punie_tui.core.eval_report import COLUMNS

        summary = self.query_one("#summary", DataTable)
        summary.add_columns("target", *(heading for _, heading in COLUMNS), "val loss")
        # Shown once a run starts: an idle bar would only animate.
        self.query_one("#progress", ProgressBar).display = False
        self.query_one("#targets", SelectionList).focus()

    @on(Input.Submitted, "#add-target")
    def add_target(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        path = Path(text).expanduser()
        if text.startswith(("http://", "https://")):
            from punie_tui.core.eval_targets import server_target

            candidate = Candidate(text, lambda: [server_target(text)])
        elif path.is_dir() and not (path / "config.json").exists() and not (path / "adapter_config.json").exists():
            candidate = Candidate(f"run {path.name} (every checkpoint)", lambda: _run_targets(self.workspace, path), path)
        else:
            candidate = Candidate(path.name, lambda: _path_targets(self.workspace, path))
        self.candidates.append(candidate)
        index = len(self.candidates) - 1
        self.query_one("#targets", SelectionList).add_option((candidate.label, index, True))
        event.input.value = ""

    def action_run(self) -> None:
        chosen = [self.candidates[i] for i in self.query_one("#targets", SelectionList).selected]
        if not chosen:
            self.notify("Check at least one target", severity="warning")
            return
        self._cancel = threading.Event()
        self._live.clear()
        self.report = None
        self.query_one("#status", Static).update("resolving targets...")
        self.run_eval(chosen, self._cancel)

    def action_cancel(self) -> None:
        self._cancel.set()

    @work(thread=True, exclusive=True, exit_on_error=False, name="eval")
    def run_eval(self, chosen: list[Candidate], cancel: threading.Event) -> None:
        from punie_tui.core.chat.mlx_model import ModelSourceError
        from punie_tui.core.eval_suite import SuiteError, build_suite, workspace_references
        from punie_tui.core.evaluate import EvalOptions, open_target_model, run_suite

        try:
            targets = [target for candidate in chosen for target in candidate.resolve()]
            queries = self.queries if self.queries is not None else build_suite(
                self.workspace, run_dirs=[c.run_dir for c in chosen if c.run_dir is not None])
            references = self.references if self.references is not None else workspace_references(self.workspace)
        except (ModelSourceError, SuiteError) as exc:
            self.post_message(self.Failed(str(exc)))
            return
        self.app.call_from_thread(self._start_tables, [t.name for t in targets], queries)
        report = run_suite(
            self.workspace, targets, queries, options=self.options or EvalOptions(), references=references,
            on_progress=lambda progress: self.post_message(self.Progressed(progress)), cancel=cancel,
            opener=self.opener or open_target_model,
        )
        self.post_message(self.Finished(report))

    def _start_tables(self, names: list[str], queries: list[Any]) -> None:
        self._columns = names
        self.query_one("#summary", DataTable).clear()
        self.query_one("#notes", Static).update("")
        table = self.query_one("#queries", DataTable)
        table.clear(columns=True)
        table.add_columns("query", "set", "expected", *names)
        for query in queries:
            tables.add_row(table, _short(query.prompt, 40), query.set, query.expected, *["" for _ in names])
        progress = self.query_one("#progress", ProgressBar)
        progress.update(total=len(names) * len(queries), progress=0)
        progress.display = True

    def on_eval_screen_progressed(self, message: Progressed) -> None:
        from punie_tui.core.eval_report import result_cell

        step = message.progress
        self.query_one("#status", Static).update(f"{step.target}: {step.done}/{step.total} queries (target {step.target_index + 1} of {step.target_count})")
        if step.result is None:
            return
        row = step.done - 1
        self._live[(step.target_index, row)] = step.result
        cell = _cell(result_cell(step.result), step.result.correct)
        tables.update_cell_at(self.query_one("#queries", DataTable), (row, 3 + step.target_index), cell)
        self.query_one("#progress", ProgressBar).advance(1)

    def on_eval_screen_failed(self, message: Failed) -> None:
        self.query_one("#status", Static).update(f"cannot run: {message.error}")

    def on_eval_screen_finished(self, message: Finished) -> None:
        from punie_tui.core.eval_report import summary_rows
        from punie_tui.core.evaluate import memorisation_note

        report = self.report = message.report
        by_behaviour, by_loss = report.best_by_behaviour(), report.best_by_val_loss()
        rows = []
        for index, row in enumerate(summary_rows(report, notes=False)):
            target = report.targets[index] if index < len(report.targets) else None
            marks = "".join(mark for mark, best in ((BEST_BEHAVIOUR, by_behaviour), (BEST_LOSS, by_loss)) if target is not None and best is target)
            rows.append([Text(f"{marks} {row[0]}" if marks else row[0], style="italic" if target is None else ""), *row[1:]])
        tables.set_rows(self.query_one("#summary", DataTable), rows)
        notes = [f"{t.name}: {memorisation_note(t.metrics())}" for t in report.targets if not t.error]
        if by_behaviour is not None:
            loss = f"{BEST_LOSS} best by validation loss: {by_loss.name}" if by_loss else "no validation losses recorded"
            notes.append(f"{BEST_BEHAVIOUR} best checkpoint by behaviour: {by_behaviour.name};  {loss}")
        notes += [f"{t.name} failed: {t.error}" for t in report.targets if t.error]
        notes += [f"{r.name} [reference]: {r.note}" for r in report.references if r.note]
        self.query_one("#notes", Static).update("\n".join(notes))
        done = sum(len(t.results) for t in report.targets)
        if done:
            queries = self.query_one("#queries", DataTable)
            queries.focus()
            queries.move_cursor(row=0, column=3)
        self.query_one("#status", Static).update(f"{'cancelled' if report.cancelled else 'finished'}: {done} results; ctrl+o on a cell shows its transcript, ctrl+e exports")

    @on(DataTable.CellSelected, "#queries")
    def cell_selected(self, event: DataTable.CellSelected) -> None:
        self._open(event.coordinate.row, event.coordinate.column)

    def action_open_cell(self) -> None:
        table = self.query_one("#queries", DataTable)
        self._open(table.cursor_coordinate.row, table.cursor_coordinate.column)

    def _open(self, row: int, column: int) -> None:
        # On the query's own columns, open its first target's result.
        column = max(column, 3)
        result = self._live.get((column - 3, row))
        if result is None:
            self.notify("Pick a result cell (one target's column)", severity="warning")
            return
        title = f"{self._columns[column - 3]}  |  {result.query.set}, expected {result.query.expected}  |  {result.query.prompt}"
        self.app.push_screen(TranscriptDialog(title, result.transcript))

    def action_export(self) -> None:
        from punie_tui.core.eval_report import write_markdown

        if self.report is None:
            self.notify("Run the suite first", severity="warning")
            return
        path = self.workspace.root / REPORT_FILE
        write_markdown(self.report, path)
        self.notify(f"Report written to {path}")

    def on_unmount(self) -> None:
        self._cancel.set()


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _cell(text: str, correct: bool) -> Text:
    return Text(text, style="green" if correct else "bold red")


def _default_targets(workspace: Workspace) -> list[Any]:
    from punie_tui.core.eval_targets import resolve_targets

    return resolve_targets(workspace)


def _run_targets(workspace: Workspace, run: Path) -> list[Any]:
    from punie_tui.core.eval_targets import resolve_targets

    return resolve_targets(workspace, runs=[run])


def _path_targets(workspace: Workspace, path: Path) -> list[Any]:
    from punie_tui.core.eval_targets import resolve_targets

    if (path / "config.json").exists():
        return resolve_targets(workspace, model=path)
    return resolve_targets(workspace, adapters=[path])
