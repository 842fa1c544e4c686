"""`punie-tui inspect FILE` in a real terminal: rows and problems appear, a fix is applied and saved."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxApp

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_inspect_a_file_fix_its_first_problem_save_and_quit(tmp_path: Path) -> None:
    workspace = shutil.copytree(FIXTURES / "small_workspace", tmp_path / "ws")
    path = workspace / "poc.jsonl"
    before = path.read_bytes()
    app = TmuxApp(["inspect", str(path)], env={"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")},
                  size=(140, 40))
    try:
        screen = app.wait_for("poc.jsonl: 4 examples")
        assert "raw-distill" in screen and "broken" in screen
        app.wait_for("tool-call-wrong-key")  # the cursor starts on line 1, which has the "tool" key
        app.press("n")
        app.wait_for("raw-distill query: Which files import asyncio?")
        app.press("p", "x")
        app.wait_for("Fix line 1")
        app.press("y")
        app.wait_for("unsaved")
        app.press("C-s")
        app.wait_for("Saved poc.jsonl")
        app.press("C-q")
        assert "EXITED 0" in app.wait_for("EXITED")
    finally:
        app.close()
    assert (workspace / "poc.jsonl.bak").read_bytes() == before
    first = json.loads(path.read_text().splitlines()[0])
    assert "messages" in first and "tool_calls" not in first  # converted to the workspace's qwen25-json
    assert path.read_bytes().splitlines()[1:] == before.splitlines()[1:]


def test_inspect_of_a_missing_file_exits_2_with_a_message(tmp_path: Path) -> None:
    app = TmuxApp(["inspect", str(tmp_path / "nope.jsonl")], env={"XDG_DATA_HOME": str(tmp_path / "data")})
    try:
        screen = app.wait_for("EXITED")
        assert "nope.jsonl: no such file or folder" in screen and "EXITED 2" in screen
    finally:
        app.close()
