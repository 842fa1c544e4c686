"""An offer to build and train the demo model, with a progress bar, where a screen would use it.

Shown when the workspace names no model and the trained demo model is not installed yet; the build
runs as its own process (`punie-tui demo-model --train`) and its progress is read from the run's
metrics.jsonl, as the monitor reads any run.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Button, ProgressBar, Static


def build_progress(run_dir: Path) -> tuple[int, int | None]:
    """(last reported iteration, total iterations) of a build's run so far."""
    from punie_tui.core.training.events import read_events

    metrics = run_dir / "metrics.jsonl"
    if not metrics.is_file():
        return 0, None
    events = read_events(metrics)
    total = next((e.iters for e in events if e.type == "started"), None)
    done = [e.iteration for e in events if e.type == "train"]
    return (done[-1] if done else 0), total


class DemoModelOffer(Horizontal):
    """"No trained demo model yet" + a Build button + the build's progress."""

    DEFAULT_CSS = """
    DemoModelOffer { height: 3; padding: 0 1; background: $boost; }
    DemoModelOffer Static { width: auto; padding: 1 1 0 0; }
    DemoModelOffer ProgressBar { width: 1fr; padding: 1 0 0 1; }
    """

    class Finished(Message):
        """The build ended; `ok` when the trained demo model is now installed."""

        def __init__(self, ok: bool) -> None:
            super().__init__()
            self.ok = ok

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.process: subprocess.Popen | None = None
        self.run_dir: Path | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("No trained demo model yet (the untrained one answers):")
        yield Button("Build demo model", id="build-demo-offer", compact=True)
        yield ProgressBar(id="demo-offer-progress", show_eta=False)

    def on_mount(self) -> None:
        from punie_tui.core.training.demo_training import trained_demo_model_installed

        self.display = not trained_demo_model_installed()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "build-demo-offer":
            return
        event.stop()
        self.start()

    def start(self) -> None:
        from punie_tui.core.training.demo_training import start_demo_model_build

        if self.process is not None:
            return
        self.process, self.run_dir = start_demo_model_build()
        self.query_one(Button).disabled = True
        self._timer = self.set_interval(0.5, self._poll, name="demo build progress")

    def _poll(self) -> None:
        if self.process is None or self.run_dir is None:
            return
        iteration, total = build_progress(self.run_dir)
        self.query_one(ProgressBar).update(total=total, progress=iteration)
        code = self.process.poll()
        if code is None:
            return
        self.process = None
        if self._timer is not None:
            self._timer.stop()
        self.query_one(Button).disabled = False
        ok = code == 0
        if ok:
            self.display = False
            self.notify("The demo model is trained and ready.", title="Demo model")
        else:
            self.notify(f"Building the demo model failed; {self.run_dir} says why.", severity="error", title="Demo model")
        self.post_message(self.Finished(ok))
