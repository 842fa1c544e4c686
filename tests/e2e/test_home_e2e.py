"""The real app in a real terminal: start on a demo workspace copy, see the home screen, quit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxApp

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_app_opens_the_demo_workspace_and_quits_with_a_key(tmp_path: Path, size: tuple[int, int]) -> None:
    app = TmuxApp([], env={"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}, size=size)
    try:
        screen = app.wait_for("records in")
        assert "Workspace" in screen and "Files" in screen and "Balance" in screen
        unwrapped = "".join(line.strip() for line in screen.splitlines())
        assert str(tmp_path / "data" / "punie-tui" / "demo") in unwrapped
        app.press("C-q")
        assert "EXITED 0" in app.wait_for("EXITED")
    finally:
        app.close()
    assert (tmp_path / "data" / "punie-tui" / "demo").is_dir()


def test_an_invalid_workspace_stops_with_a_message_naming_the_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "punie.toml").write_text('target_format = "xml"\n')
    app = TmuxApp([str(tmp_path)], env={})
    try:
        screen = app.wait_for("EXITED")
        assert "punie.toml: key 'target_format'" in screen
        assert "EXITED 2" in screen
    finally:
        app.close()
