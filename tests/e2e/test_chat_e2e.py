"""The chat screen in a real terminal: `punie-tui chat` on the demo workspace and its demo model,
one prompt typed, its verdict shown, quit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxApp

pytestmark = pytest.mark.slow


def test_chat_command_opens_the_screen_runs_a_prompt_and_quits(tmp_path: Path, demo_model: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    app = TmuxApp(["chat"], env=env)
    try:
        app.wait_for("quick probes")
        app.press("C-o")
        app.press("What is a closure?", "Enter")
        screen = app.wait_for("no-stop", timeout=120)
        assert "turn 1 hit the token limit" in screen
        app.press("C-q")
        assert "EXITED 0" in app.wait_for("EXITED")
    finally:
        app.close()
    assert list((tmp_path / "data" / "punie-tui" / "demo" / ".punie" / "chat").glob("chat-*.jsonl"))
