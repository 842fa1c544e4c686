"""Fixtures for pilot and snapshot tests."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


async def wait_until(pilot, condition, timeout: float = 15.0) -> None:
    """Let the app run until `condition()` holds (polled every 50 ms), then assert it."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            break
        await pilot.pause(0.05)
    await pilot.pause()
    assert condition()


def fixed_copy(fixture: str) -> Path:
    """Copy a fixture workspace to a fixed path, so that snapshots (which show it) are stable."""
    target = Path(tempfile.gettempdir()) / "punie-snapshots" / fixture
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(FIXTURES / fixture, target)
    return target


@pytest.fixture()
def small_workspace() -> Path:
    return fixed_copy("small_workspace")


@pytest.fixture()
def fixed_domain_workspace() -> Path:
    """tests/fixtures/domain_ws (66 real examples) at a fixed path, for label screen snapshots."""
    return fixed_copy("domain_ws")


@pytest.fixture(autouse=True)
def _no_blas_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    # Screens must look the same whether or not this machine has OpenBLAS: the home screen's
    # BLAS notice stays hidden unless a test puts the real check back.
    monkeypatch.setattr("punie_tui.widgets.blas_notice.install_notice", lambda: None)


@pytest.fixture(autouse=True)
def _steady_cursors(monkeypatch: pytest.MonkeyPatch) -> None:
    # A focused input's cursor blinks every 0.5 s, and a snapshot taken on a loaded machine
    # caught either phase: every input and text area in a test keeps its cursor shown.
    for widget in (Input, TextArea):
        def steady(self, *args, _init=widget.__init__, **kwargs) -> None:
            _init(self, *args, **kwargs)
            self.cursor_blink = False

        monkeypatch.setattr(widget, "__init__", steady)


@pytest.fixture()
def train_workspace() -> Path:
    """A workspace with two real recorded training runs (tests/fixtures/train_workspace)."""
    return fixed_copy("train_workspace")
