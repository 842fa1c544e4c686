"""Drive a real `punie-tui` process in tmux: start it, read the screen, send keys."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def require_tmux() -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux); .ci/run installs it")


class TmuxApp:
    """One punie-tui process in its own tmux server, so tests never touch a user's sessions."""

    def __init__(self, args: list[str], env: dict[str, str], size: tuple[int, int] = (100, 30)) -> None:
        require_tmux()
        self.socket = f"punie-test-{uuid.uuid4().hex[:8]}"
        command = " ".join([sys.executable, "-m", "punie_tui", *args])
        full_env = {**os.environ, **env, "PYTHONPATH": str(REPO), "TERM": "xterm-256color"}
        self._tmux(
            "new-session", "-d", "-s", "app", "-x", str(size[0]), "-y", str(size[1]),
            f"{command}; echo EXITED $?; sleep 30",
            env=full_env,
        )

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=env, timeout=10)
        return result.stdout

    def screen(self) -> str:
        # -J joins lines that the terminal wrapped, so messages can be matched whole.
        return self._tmux("capture-pane", "-p", "-J", "-t", "app")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear within {timeout}s; the screen was:\n{self.screen()}")

    def press(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "app", *keys)

    def pane_pid(self) -> int:
        return int(self._tmux("display-message", "-p", "-t", "app", "#{pane_pid}").strip())

    def close(self) -> None:
        self._tmux("kill-server")
