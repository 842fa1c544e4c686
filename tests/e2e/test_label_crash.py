"""A real `punie-tui label` process killed with SIGKILL loses none of the decisions it showed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from punie_tui.config import open_workspace
from punie_tui.core.labelled import open_labelled_datasets

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (needed to drive a real terminal)"),
]


# A tmux server of our own, so the test never touches anyone else's sessions.
SOCKET = f"punie-label-test-{os.getpid()}"


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=True).stdout


def _wait_for(session: str, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} did not appear within {timeout}s; the screen was:\n{screen}")


def _start(session: str, workspace: Path) -> int:
    command = f"exec {sys.executable} -m punie_tui label {workspace}"
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "36", command)
    return int(_tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip())


def test_decisions_survive_kill_9_and_are_there_on_reopen(domain_workspace):
    session = f"punie-label-{os.getpid()}"
    keys = ["t", "d", "t", "Space", "t", "d", "d"]
    try:
        pid = _start(session, domain_workspace)
        _wait_for(session, "0/66 labelled")
        for number, key in enumerate(keys, start=1):
            _tmux("send-keys", "-t", session, key)
            # The screen shows a decision only after it is fsynced to the journal.
            _wait_for(session, f"{number}/66 labelled")
        os.kill(pid, signal.SIGKILL)
        _wait_for_exit(pid)
        labels = [label.label for label in open_labelled_datasets(open_workspace(domain_workspace)).labels]
        assert labels[: len(keys) + 1] == ["tool", "direct", "tool", "skip", "tool", "direct", "direct", None]
        # The pane ended with its process; a new session opens the workspace again.
        subprocess.run(["tmux", "-L", SOCKET, "kill-session", "-t", session], capture_output=True)
        _start(session, domain_workspace)
        screen = _wait_for(session, f"{len(keys)}/66 labelled")
        assert f"{len(keys)} decisions journaled, not saved" in screen
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-session", "-t", session], capture_output=True)


def _wait_for_exit(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
