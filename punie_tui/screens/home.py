"""Home: the workspace's files, record shapes and formats, label balance and runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from punie_tui.widgets import tables
from punie_tui.widgets.balance import BalanceGauge
from punie_tui.widgets.blas_notice import BlasNotice
from punie_tui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from punie_tui.config import Workspace
    from punie_tui.core.summary import RunBrief, WorkspaceSummary


def _counts(counter, total: int) -> str:
    """`name` alone when every record has it, else `name N`: short enough for 80 columns."""
    return ", ".join(name if count == total else f"{name} {count}" for name, count in counter.most_common()) or "-"


_STATUS_COLOURS = {"finished": "green", "failed": "red", "running": "cyan"}


def _run_line(run: RunBrief) -> str:
    colour = _STATUS_COLOURS.get(run.status, "yellow")
    status = f"[{colour}]{run.status}{f' ({run.failure})' if run.failure and run.status == 'failed' else ''}[/{colour}]"
    losses = "  ".join(
        f"{name} {value:.3f}" for name, value in (("train", run.train_loss), ("val", run.val_loss)) if value is not None
    )
    return f"{run.name}  {status}  [dim]{losses}[/dim]"


class HomeScreen(Screen[None]):
    """The first screen of a workspace."""

    DEFAULT_CSS = """
    HomeScreen #settings { height: auto; padding: 0 1; }
    HomeScreen #files { height: 1fr; margin: 0 1; }
    HomeScreen #lower { height: auto; max-height: 10; margin: 1 1 0 1; }
    HomeScreen #balance-box { width: 50; height: auto; }
    HomeScreen #runs { width: 1fr; height: auto; padding: 0 1; }
    HomeScreen #problems { height: auto; padding: 0 1; color: $warning; display: none; }
    HomeScreen #problems.shown { display: block; }
    """
    # Home is the hub: one letter opens each screen (f1 comes back from anywhere).
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="home.refresh", tooltip="Read the workspace again"),
        Binding("i", "app.show_screen('inspect')", "Inspect", id="home.inspect", tooltip="Find and fix broken tool calls"),
        Binding("l", "app.show_screen('label')", "Label", id="home.label", tooltip="Label examples tool or direct"),
        Binding("t", "app.show_screen('train')", "Train", id="home.train", tooltip="Launch and watch training runs"),
        Binding("c", "app.show_screen('chat')", "Chat", id="home.chat", tooltip="Spot-check the model's tool loop"),
        Binding("e", "app.show_screen('evaluate')", "Eval", id="home.eval", tooltip="Score tool-vs-direct discrimination"),
    ]

    class Summarized(Message):
        def __init__(self, summary: WorkspaceSummary) -> None:
            super().__init__()
            self.summary = summary

    def __init__(self, workspace: Workspace | None) -> None:
        super().__init__()
        self.workspace = workspace
        self.summary: WorkspaceSummary | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static(self._settings_text() if self.workspace else f"Opening {self.app.root}...", id="settings")
            yield BlasNotice()
            yield Static("", id="problems")
            yield Static("Files", classes="section-title")
            yield DataTable(id="files", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="lower"):
                yield BalanceGauge(id="balance-box")
                yield Static("Runs: reading...", id="runs")
        yield KeyFooter()

    def _settings_text(self, model: str | None = None) -> str:
        ws = self.workspace
        settings = ws.settings
        source = ws.settings_path.name if ws.has_settings_file else "no punie.toml (defaults)"
        return (
            f"[b]Workspace[/b] {ws.root}  [dim]{source}[/dim]\n"
            f"model: {model or settings.model or '...'}   adapter: {settings.adapter or '-'}   "
            f"target format: {settings.target_format}   max seq: {settings.max_seq_length}"
        )

    def on_mount(self) -> None:
        if self.workspace is not None:
            self.load_summary()

    def workspace_opened(self, workspace: Workspace) -> None:
        """Called by the app when the workspace it opened in the background is ready."""
        self.workspace = workspace
        self.query_one("#settings", Static).update(self._settings_text())
        self.load_summary()

    def action_refresh(self) -> None:
        if self.workspace is not None:
            self.load_summary()

    @work(thread=True, exclusive=True, exit_on_error=False, name="workspace summary")
    def load_summary(self) -> None:
        # Imported here, in the worker: reading datasets needs modules the first paint does not.
        from punie_tui.core.summary import summarize_workspace

        self.post_message(self.Summarized(summarize_workspace(self.workspace)))

    def on_home_screen_summarized(self, message: Summarized) -> None:
        self.summary = summary = message.summary
        self.query_one("#settings", Static).update(self._settings_text(summary.model))
        table = self.query_one("#files", DataTable)
        table.clear(columns=True)
        table.add_columns("file", "records", "broken", "shapes", "tool-call formats")
        for file in summary.files:
            name = str(file.path.relative_to(summary.root))
            if file.error:
                tables.add_row(table, name, "-", "-", file.error, "")
                continue
            broken = f"[red]{file.broken}[/red]" if file.broken else "0"
            tables.add_row(table, name, str(file.records), broken, _counts(file.shapes, file.records), _counts(file.formats, file.records))
        self.query_one(BalanceGauge).update_counts(summary.labels, summary.content, self.workspace.settings.label_target)
        runs = summary.runs
        self.query_one("#runs", Static).update(
            "[b]Runs[/b]\n" + ("\n".join(_run_line(run) for run in runs[-6:]) if runs else "[dim]none yet (runs/ is empty)[/dim]")
        )
        problems = self.query_one("#problems", Static)
        problems.set_class(bool(summary.problems), "shown")
        if summary.problems:
            first = summary.problems[0]
            problems.update(f"Label journal: {len(summary.problems)} entries not applied; first: {first}")
        self.sub_title = f"{summary.records} records in {len(summary.files)} files"
