"""Train: the run config form with preflight, Start/Stop, live charts of loss, memory and speed,
alerts, and the workspace's run history with an overlay of a past run.

Training and preflight run in other processes (`punie-tui train`), never in this one: MLX work in
a thread of the TUI process aborts the interpreter at exit. The screen tails the run's
metrics.jsonl (or any log) in a worker and redraws at most ten times a second.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Checkbox, DataTable, Header, Input, Label, ProgressBar, Select, Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from punie_tui.core.training.config import TrainConfig
from punie_tui.core.training.events import Event, read_events
from punie_tui.core.training.run_state import RunState, debiased_ema
from punie_tui.widgets.footer import KeyFooter

if TYPE_CHECKING:
    from punie_tui.config import Workspace
    from punie_tui.core.training.history import RunRecord

# (field, label, kind): the options the form edits; the rest come from the workspace defaults.
FORM_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("model", "model", "text"),
    ("data", "data", "text"),
    ("iters", "iterations", "int"),
    ("batch_size", "batch size", "int"),
    ("learning_rate", "learning rate", "float"),
    ("num_layers", "layers", "int"),
    ("lora_rank", "LoRA rank", "int"),
    ("max_seq_length", "max seq", "int"),
)
REDRAW_INTERVAL_S = 0.1
# What `punie-tui train` said when the screen launched it (a refusal such as the run lock).
LAUNCH_LOG = "launch.log"
TAIL_INTERVAL_S = 0.2


def default_form(workspace: Workspace) -> dict[str, Any]:
    """The form's first values: the workspace's model (else the trained demo model) and defaults."""
    from punie_tui.core.training.demo_training import demo_model_install_dir

    settings = workspace.settings
    training = settings.training
    data = workspace.root / "data" if (workspace.root / "data").is_dir() else workspace.root
    model = settings.model or str(demo_model_install_dir())
    return {
        "model": model,
        "data": str(data),
        "iters": training.iters,
        "batch_size": training.batch_size,
        "learning_rate": training.learning_rate,
        "num_layers": training.num_layers,
        "lora_rank": training.lora_rank,
        "max_seq_length": settings.max_seq_length,
        "fine_tune_type": training.fine_tune_type,
        "mask_prompt": training.mask_prompt,
    }


def config_from_form(values: dict[str, Any], workspace: Workspace) -> TrainConfig:
    """A TrainConfig from the form's text values (pydantic does the checking)."""
    training = workspace.settings.training
    return TrainConfig(
        model=values["model"],
        data=values["data"],
        iters=values["iters"],
        batch_size=values["batch_size"],
        learning_rate=values["learning_rate"],
        num_layers=values["num_layers"],
        max_seq_length=values["max_seq_length"],
        fine_tune_type=values["fine_tune_type"],
        mask_prompt=values["mask_prompt"],
        lora_parameters={"rank": values["lora_rank"], "scale": training.lora_scale, "dropout": training.lora_dropout},
        grad_checkpoint=training.grad_checkpoint,
        steps_per_report=training.steps_per_report,
        steps_per_eval=training.steps_per_eval,
        save_every=training.save_every,
        val_batches=training.val_batches,
        seed=training.seed,
    )


def _fmt(value: float | None, spec: str = ".3f", none: str = "-") -> str:
    return none if value is None else format(value, spec)


def _short(value: Any) -> str:
    """An option value for a table cell: paths by their last two parts."""
    text = str(value)
    if text.startswith("/") and "/" in text[1:]:
        return "/".join(Path(text).parts[-2:])
    return text if len(text) <= 24 else text[:23] + "…"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


class TrainScreen(Screen[None]):
    """Launch and watch training runs."""

    DEFAULT_CSS = """
    TrainScreen #left { width: 46; border-right: solid $panel; }
    TrainScreen .field { height: 1; }
    TrainScreen .field Label { width: 14; }
    TrainScreen .field Input { width: 1fr; height: 1; border: none; padding: 0 1; }
    TrainScreen .field Select { width: 1fr; }
    TrainScreen #type-row { height: 3; }
    TrainScreen #form-errors { color: $error; height: auto; }
    TrainScreen #demo-row { height: 3; display: none; }
    TrainScreen #demo-row.offered { display: block; }
    TrainScreen #demo-progress { width: 1fr; padding: 1 0 0 1; }
    TrainScreen #preflight { height: auto; max-height: 8; }
    TrainScreen #buttons { height: 3; }
    TrainScreen #buttons Button { min-width: 10; margin-right: 1; }
    TrainScreen #history { height: auto; max-height: 12; }
    TrainScreen #numbers { height: 3; padding: 0 1; }
    TrainScreen #loss-plot { height: 1fr; min-height: 8; }
    TrainScreen #lower-plots { height: 1fr; min-height: 6; }
    TrainScreen #alerts { height: auto; max-height: 5; padding: 0 1; color: $warning; }
    """
    # Function keys, because the form's inputs take letters.
    BINDINGS = [
        Binding("f5", "preflight", "Preflight", id="train.preflight", tooltip="Check the config and estimate its peak memory"),
        Binding("f6", "start", "Start", id="train.start", tooltip="Preflight passed: launch the run in its own process"),
        Binding("f7", "stop", "Stop", id="train.stop", tooltip="Stop the attached run (SIGINT to its trainer)"),
        Binding("f8", "overlay", "Overlay", id="train.overlay", tooltip="Overlay the selected past run's losses on the chart"),
        Binding("f9", "refresh_history", "Runs", id="train.history", tooltip="Read the workspace's runs again"),
        Binding("f3", "smoothing(-0.1)", "Smooth-", id="train.smooth_less", tooltip="Smooth the train loss less"),
        Binding("f4", "smoothing(0.1)", "Smooth+", id="train.smooth_more", tooltip="Smooth the train loss more"),
    ]

    class EventsArrived(Message):
        def __init__(self, generation: int, events: list[Event]) -> None:
            super().__init__()
            self.generation = generation
            self.events = events

    class PreflightDone(Message):
        def __init__(self, report: dict[str, Any] | None, error: str | None) -> None:
            super().__init__()
            self.report = report
            self.error = error

    class HistoryRead(Message):
        def __init__(self, runs: list[RunRecord], differences: dict[str, dict[str, Any]]) -> None:
            super().__init__()
            self.runs = runs
            self.differences = differences

    class OverlayRead(Message):
        def __init__(self, name: str, events: list[Event]) -> None:
            super().__init__()
            self.name = name
            self.events = events

    def __init__(self, workspace: Workspace, run: Path | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.initial_run = run
        self.state = RunState()
        self.run_path: Path | None = None
        self.smoothing = 0.6
        self.overlay: tuple[str, RunState] | None = None
        self.preflight_report: dict[str, Any] | None = None
        self.history: list[RunRecord] = []
        self.launched: subprocess.Popen | None = None
        self.building: subprocess.Popen | None = None
        self._generation = 0
        self._dirty = False

    # Layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        values = default_form(self.workspace)
        yield Header()
        with Horizontal():
            with VerticalScroll(id="left"):
                yield Static("Run config", classes="section-title")
                for name, label, _kind in FORM_FIELDS:
                    with Horizontal(classes="field"):
                        yield Label(label)
                        yield Input(str(values[name]), id=f"f-{name}")
                with Horizontal(classes="field", id="type-row"):
                    yield Label("fine-tune")
                    yield Select([(t, t) for t in ("lora", "dora", "full")], value=values["fine_tune_type"], allow_blank=False, id="f-fine_tune_type")
                yield Checkbox("mask prompt", values["mask_prompt"], id="f-mask_prompt")
                with Horizontal(id="demo-row"):
                    yield Button("Build demo model", id="build-demo")
                    yield ProgressBar(id="demo-progress", show_eta=False)
                yield Static("", id="form-errors")
                yield Static("[dim]preflight: not run yet (f5)[/dim]", id="preflight")
                with Horizontal(id="buttons"):
                    yield Button("Start", id="start", variant="success", disabled=True)
                    yield Button("Stop", id="stop", variant="error", disabled=True)
                yield Static("Runs", classes="section-title")
                with Horizontal(classes="field"):
                    yield Label("attach")
                    yield Input(placeholder="run folder or mlx-lm log, enter", id="attach")
                yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
            with Vertical(id="right"):
                yield Static("[dim]no run attached[/dim]", id="numbers")
                yield PlotextPlot(id="loss-plot")
                with Horizontal(id="lower-plots"):
                    yield PlotextPlot(id="memory-plot")
                    yield PlotextPlot(id="speed-plot")
                yield Static("", id="alerts")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#history", DataTable)
        # Fixed widths: auto-sizing re-lays out the table on every refresh of the history.
        for label, width in (("run", 24), ("status", 13), ("train", 6), ("val", 6), ("time", 7), ("peak GB", 7), ("differs", 48)):
            table.add_column(label, width=width)
        self.set_interval(REDRAW_INTERVAL_S, self._redraw_if_dirty)
        self.action_refresh_history()
        self.current_config()
        self._offer_demo_model()
        if self.initial_run is not None:
            self.attach(Path(self.initial_run))
        self._dirty = True

    # Form and preflight --------------------------------------------------------------------

    def form_values(self) -> dict[str, Any]:
        """The form's values converted to their types; raises ValueError naming the field."""
        values: dict[str, Any] = {}
        for name, label, kind in FORM_FIELDS:
            text = self.query_one(f"#f-{name}", Input).value.strip()
            try:
                values[name] = int(text) if kind == "int" else float(text) if kind == "float" else text
            except ValueError:
                raise ValueError(f"{label}: '{text}' is not a{'n integer' if kind == 'int' else ' number'}") from None
        values["fine_tune_type"] = self.query_one("#f-fine_tune_type", Select).value
        values["mask_prompt"] = self.query_one("#f-mask_prompt", Checkbox).value
        return values

    def current_config(self) -> TrainConfig | None:
        """The form as a config, or None with the problems shown under the form."""
        from pydantic import ValidationError

        errors = self.query_one("#form-errors", Static)
        try:
            config = config_from_form(self.form_values(), self.workspace)
        except ValueError as exc:
            if isinstance(exc, ValidationError):
                message = "\n".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            else:
                message = str(exc)
            errors.update(message)
            return None
        errors.update("")
        return config.with_paths_from(self.workspace.root)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "attach" or not event.value.strip():
            return
        path = Path(event.value.strip()).expanduser()
        if not path.is_absolute():
            path = self.workspace.root / path
        if not path.exists():
            self.notify(f"{path}: no such file or folder", severity="error")
            return
        self.attach(path)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "attach":
            return
        self.preflight_report = None
        self.query_one("#start", Button).disabled = True
        self.current_config()
        if event.input.id == "f-model":
            self._offer_demo_model()

    def _offer_demo_model(self) -> None:
        """Offer to build the trained demo model when the form names it and it is not there yet."""
        from punie_tui.core.training.demo_training import demo_model_install_dir

        model = self.query_one("#f-model", Input).value.strip()
        missing = Path(model) == demo_model_install_dir() and not (Path(model) / "config.json").exists()
        self.query_one("#demo-row").set_class(missing or self.building is not None, "offered")

    def action_build_demo_model(self) -> None:
        from punie_tui.core.training.demo_training import demo_model_install_dir, start_demo_model_build

        self.building, run_dir = start_demo_model_build()
        self.query_one("#build-demo", Button).disabled = True
        self.notify(f"Training the demo model into {demo_model_install_dir()}", title="Demo model")
        self.attach(run_dir)

    def _check_demo_build(self) -> None:
        if self.building is None or self.building.poll() is None:
            return
        code, self.building = self.building.returncode, None
        self.query_one("#build-demo", Button).disabled = False
        if code == 0:
            self.notify("The demo model is trained and ready.", title="Demo model")
            self.action_preflight()
        else:
            self.notify("Building the demo model failed; its run folder says why.", severity="error", title="Demo model")
        self._offer_demo_model()

    def action_preflight(self) -> None:
        config = self.current_config()
        if config is None:
            return
        self.query_one("#preflight", Static).update("[dim]preflight: checking...[/dim]")
        self.run_preflight(config)

    @work(thread=True, exclusive=True, exit_on_error=False, group="preflight", name="preflight")
    def run_preflight(self, config: TrainConfig) -> None:
        # In a child process: counting tokens loads the model's tokenizer through mlx-lm.
        scratch = self.workspace.punie_dir / "train-form.yaml"
        scratch.parent.mkdir(parents=True, exist_ok=True)
        config.save(scratch)
        proc = subprocess.run(
            [sys.executable, "-m", "punie_tui", "train", str(self.workspace.root), "--config", str(scratch), "--preflight-only", "--json"],
            capture_output=True,
            text=True,
        )
        try:
            report = json.loads(proc.stdout)["preflight"]
        except (json.JSONDecodeError, KeyError, TypeError):
            self.post_message(self.PreflightDone(None, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "preflight failed"))
            return
        self.post_message(self.PreflightDone(report, None))

    def on_train_screen_preflight_done(self, message: PreflightDone) -> None:
        widget = self.query_one("#preflight", Static)
        if message.report is None:
            widget.update(f"[red]preflight could not run: {message.error}[/red]")
            return
        self.preflight_report = report = message.report
        lines = []
        estimate = report.get("estimate")
        if estimate:
            lines.append(f"estimated peak {estimate['total_gb']:.2f} GB of {report['system_total_gb']:.0f} GB")
        for finding in report["findings"]:
            colour = {"error": "red", "warning": "yellow"}.get(finding["severity"], "dim")
            where = f"{Path(finding['path']).name}:{finding['line']} " if finding.get("path") and finding.get("line") else ""
            lines.append(f"[{colour}]{finding['severity']}[/{colour}] {where}{finding['message']}")
        lines.insert(0, "[green]preflight passed[/green]" if report["ok"] else "[red]preflight found errors[/red]")
        widget.update("\n".join(lines))
        self.query_one("#start", Button).disabled = not report["ok"] or self.state.status == "running" and self.run_path is not None

    # Start, stop, attach ---------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "build-demo":
            self.action_build_demo_model()
        elif event.button.id == "start":
            self.action_start()
        elif event.button.id == "stop":
            self.action_stop()

    def action_start(self) -> None:
        config = self.current_config()
        if config is None or not (self.preflight_report and self.preflight_report["ok"]):
            self.notify("Run preflight first (f5); Start needs it to pass.", severity="warning")
            return
        run_dir = self.workspace.runs_dir / time.strftime("%Y%m%d-%H%M%S")
        run_dir.mkdir(parents=True, exist_ok=True)
        config_path = run_dir / "lora.yaml"
        config.save(config_path)
        # Its own session: the run outlives the app, and the app's Ctrl+C does not reach it.
        with open(run_dir / LAUNCH_LOG, "wb") as log:
            self.launched = subprocess.Popen(
                [sys.executable, "-m", "punie_tui", "train", str(self.workspace.root), "--config", str(config_path), "--run-dir", str(run_dir), "--skip-preflight"],
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        self.notify(f"Started {run_dir.name}", title="Training")
        self.attach(run_dir)

    def action_stop(self) -> None:
        if self.launched is not None and self.launched.poll() is None:
            # The supervisor stops its trainer in order and records the stop.
            self.launched.send_signal(signal.SIGINT)
        elif self.state.started is not None and self.state.started.pid and self.state.status == "running":
            try:
                os.kill(self.state.started.pid, signal.SIGINT)
            except ProcessLookupError:
                self.notify("That run's trainer is no longer running.", severity="warning")
                return
        else:
            self.notify("No running run is attached.", severity="warning")
            return
        self.notify("Stopping the run...", title="Training")

    def attach(self, path: Path) -> None:
        """Follow a run folder, metrics file or log from its start."""
        self._generation += 1
        self.run_path = path
        self.state = RunState()
        self._dirty = True
        self.query_one("#stop", Button).disabled = False
        self.tail(path, self._generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tail", name="follow run")
    def tail(self, path: Path, generation: int) -> None:
        from punie_tui.core.training.source import open_source

        worker = get_current_worker()
        # A run folder just created has no metrics yet; wait for the trainer to write them.
        deadline = time.monotonic() + 60
        while not (path / "metrics.jsonl").exists() if path.is_dir() else not path.exists():
            if worker.is_cancelled or time.monotonic() > deadline:
                return
            time.sleep(TAIL_INTERVAL_S)
        source = open_source(path)
        while not worker.is_cancelled:
            events = source.poll()
            if events:
                self.post_message(self.EventsArrived(generation, events))
            if any(e.type in ("finished", "failed") for e in events):
                break
            if not path.is_dir() and path.suffix != ".jsonl" and not events:
                # A log that stopped growing: take its unterminated last line too.
                rest = source.drain()
                if rest:
                    self.post_message(self.EventsArrived(generation, rest))
            time.sleep(TAIL_INTERVAL_S)

    def on_train_screen_events_arrived(self, message: EventsArrived) -> None:
        if message.generation != self._generation:
            return
        self.state.extend(message.events)
        self._dirty = True
        if self.state.status != "running":
            self.query_one("#stop", Button).disabled = True
            self.action_refresh_history()

    # History and overlay ---------------------------------------------------------------------

    def action_refresh_history(self) -> None:
        self.read_history()

    @work(thread=True, exclusive=True, exit_on_error=False, group="history", name="run history")
    def read_history(self) -> None:
        from punie_tui.core.training.history import config_differences, list_runs

        runs = list_runs(self.workspace.runs_dir)
        self.post_message(self.HistoryRead(runs, config_differences(runs)))

    def on_train_screen_history_read(self, message: HistoryRead) -> None:
        self.history = message.runs
        table = self.query_one("#history", DataTable)
        table.clear()
        for run in reversed(message.runs):
            final = run.final
            differs = ", ".join(f"{k}={_short(v)}" for k, v in message.differences.get(run.name, {}).items())
            table.add_row(
                run.name,
                run.failure or run.status,
                _fmt(final.get("train_loss")),
                _fmt(final.get("val_loss")),
                _duration(run.duration_s),
                _fmt(run.peak_memory_gb, ".2f"),
                differs or "-",
                key=str(run.path),
            )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "history" and event.row_key.value:
            self.attach(Path(event.row_key.value))

    def action_overlay(self) -> None:
        table = self.query_one("#history", DataTable)
        if table.row_count == 0:
            self.notify("No past runs to overlay.", severity="warning")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if self.overlay is not None and self.overlay[0] == Path(key).name:
            self.overlay = None
            self._dirty = True
            return
        self.read_overlay(Path(key))

    @work(thread=True, exclusive=True, exit_on_error=False, group="overlay", name="overlay run")
    def read_overlay(self, path: Path) -> None:
        self.post_message(self.OverlayRead(path.name, read_events(path / "metrics.jsonl")))

    def on_train_screen_overlay_read(self, message: OverlayRead) -> None:
        state = RunState()
        state.extend(message.events)
        self.overlay = (message.name, state)
        self._dirty = True

    def action_smoothing(self, delta: float) -> None:
        self.smoothing = min(0.95, max(0.0, round(self.smoothing + delta, 2)))
        self._dirty = True

    # Drawing ---------------------------------------------------------------------------------

    def _check_launch(self) -> None:
        """Report a launch refused before training started (no metrics: lock, bad run folder)."""
        proc = self.launched
        if proc is None or proc.poll() is None or proc.returncode != 2 or self.run_path is None:
            return
        self.launched = None
        lines = (self.run_path / LAUNCH_LOG).read_text(encoding="utf-8", errors="replace").strip().splitlines()
        self.notify(lines[-1] if lines else "punie-tui train refused to start", severity="error", title="Not started", timeout=15)

    def _redraw_if_dirty(self) -> None:
        self._check_demo_build()
        self._check_launch()
        if self._dirty:
            self._dirty = False
            self.redraw()

    def redraw(self) -> None:
        state = self.state
        self.query_one("#numbers", Static).update(self.numbers_text())
        if self.building is not None and state.total_iters:
            self.query_one("#demo-progress", ProgressBar).update(total=state.total_iters, progress=state.iteration)
        self._draw_loss(state)
        self._draw_memory(state)
        self._draw_speed(state)
        alerts = [f"[{'red' if a.severity == 'error' else 'yellow'}]{a.code}[/]: {a.message}" for a in state.alerts]
        if state.failed is not None:
            alerts.insert(0, f"[red]failed ({state.failed.cause})[/red]: {state.failed.message}")
        self.query_one("#alerts", Static).update("\n".join(alerts[-5:]))

    def numbers_text(self) -> str:
        state = self.state
        if self.run_path is None:
            return "[dim]no run attached: Start one, or pick a past run below (enter)[/dim]"
        total = state.total_iters
        iteration = f"{state.iteration}/{total}" if total else str(state.iteration)
        best = state.best_val()
        if best is None:
            best_text = "-"
        else:
            val, checkpoint = best
            best_text = f"{val.val_loss:.3f} @ {val.iteration}" + (f" ({Path(checkpoint.path).name})" if checkpoint else "")
        improvement = state.improvement_pct()
        eta = state.eta_seconds()
        return (
            f"[b]{self.run_path.name}[/b]  {state.status}   iteration {iteration}   ETA {_duration(eta)}\n"
            f"best val {best_text}   checkpoints {len(state.checkpoints)}\n"
            f"train loss improved {_fmt(improvement, '.1f')}%   peak {_fmt(state.peak_memory_gb(), '.2f')} GB   "
            f"smoothing {self.smoothing:.1f}"
        )

    def _draw_loss(self, state: RunState) -> None:
        plot = self.query_one("#loss-plot", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("loss")
        xs = [e.iteration for e in state.train]
        ys = [e.train_loss for e in state.train]
        if xs:
            plt.plot(xs, ys, label="train", color="gray", marker="braille")
            plt.plot(xs, debiased_ema(ys, self.smoothing), label="train (smoothed)", color="cyan", marker="braille")
        if state.val:
            plt.scatter([v.iteration for v in state.val], [v.val_loss for v in state.val], label="val", color="orange", marker="o")
        if self.overlay is not None:
            name, other = self.overlay
            if other.train:
                ox = [e.iteration for e in other.train]
                plt.plot(ox, debiased_ema([e.train_loss for e in other.train], self.smoothing), label=f"{name} train", color="magenta", marker="braille")
            if other.val:
                plt.scatter([v.iteration for v in other.val], [v.val_loss for v in other.val], label=f"{name} val", color="red", marker="x")
        plot.refresh()

    def _draw_memory(self, state: RunState) -> None:
        plot = self.query_one("#memory-plot", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("memory GB")
        samples = state.memory
        if samples:
            start = samples[0].time or 0.0
            xs = [(m.time or start) - start for m in samples]
            plt.plot(xs, [m.system_available_gb for m in samples], label="available", color="green", marker="braille")
            rss = [(x, m.rss_gb) for x, m in zip(xs, samples) if m.rss_gb is not None]
            if rss:
                plt.plot([x for x, _ in rss], [v for _, v in rss], label="RSS", color="cyan", marker="braille")
            peak = [(x, m.mlx_peak_gb) for x, m in zip(xs, samples) if m.mlx_peak_gb is not None]
            if peak:
                plt.plot([x for x, _ in peak], [v for _, v in peak], label="MLX peak", color="orange", marker="braille")
            plt.horizontal_line(samples[-1].system_total_gb, color="red")
            plt.xlabel("seconds")
        elif state.train and any(e.peak_memory_gb is not None for e in state.train):
            pairs = [(e.iteration, e.peak_memory_gb) for e in state.train if e.peak_memory_gb is not None]
            plt.plot([i for i, _ in pairs], [v for _, v in pairs], label="MLX peak", color="orange", marker="braille")
            plt.xlabel("iteration")
        plot.refresh()

    def _draw_speed(self, state: RunState) -> None:
        plot = self.query_one("#speed-plot", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title("tokens/s")
        pairs = [(e.iteration, e.tokens_per_second) for e in state.train if e.tokens_per_second is not None]
        if pairs:
            plt.plot([i for i, _ in pairs], [v for _, v in pairs], color="cyan", marker="braille")
        plot.refresh()
