"""A real `punie-tui label` process killed with SIGKILL loses none of the decisions it showed."""

from __future__ import annotations

import signal
from pathlib import Path

import psutil
import pytest

from punie_tui.config import open_workspace
from punie_tui.core.labelled import open_labelled_datasets
from tests.e2e.tmux import TmuxApp

pytestmark = pytest.mark.slow


def _punie_process(app: TmuxApp) -> psutil.Process:
    # The pane runs a shell that runs punie-tui; the decisions live in that child process.
    return next(p for p in psutil.Process(app.pane_pid()).children() if "punie_tui" in " ".join(p.cmdline()))


def test_decisions_survive_kill_9_and_are_there_on_reopen(domain_workspace: Path, tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    keys = ["t", "d", "t", "Space", "t", "d", "d"]
    app = TmuxApp(["label", str(domain_workspace)], env=env, size=(120, 36))
    try:
        app.wait_for("0/66 labelled")
        for number, key in enumerate(keys, start=1):
            app.press(key)
            # The screen shows a decision only after it is fsynced to the journal.
            app.wait_for(f"{number}/66 labelled")
        process = _punie_process(app)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        app.wait_for("EXITED 137")
    finally:
        app.close()
    labels = [label.label for label in open_labelled_datasets(open_workspace(domain_workspace)).labels]
    assert labels[: len(keys) + 1] == ["tool", "direct", "tool", "skip", "tool", "direct", "direct", None]
    reopened = TmuxApp(["label", str(domain_workspace)], env=env, size=(120, 36))
    try:
        screen = reopened.wait_for(f"{len(keys)}/66 labelled")
        assert f"{len(keys)} decisions journaled, not saved" in screen
    finally:
        reopened.close()
