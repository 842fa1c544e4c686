"""The home screen's notice when MLX would run on the slow reference BLAS with nothing to fix it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from punie_tui.app import PunieApp
from punie_tui.config import open_workspace
from punie_tui.core import accel
from punie_tui.widgets import blas_notice
from punie_tui.widgets.blas_notice import BlasNotice


@pytest.fixture()
def linux_mlx_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLX as the mlx-cpu wheel on Linux installs it, whatever machine the test runs on."""
    monkeypatch.setattr(blas_notice, "install_notice", accel.install_notice)
    monkeypatch.delenv(accel.SWITCH_ENV, raising=False)
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(accel, "reference_blas", lambda: Path("/site/mlx_cpu.libs/libblas-bd8a282c.so.3.10.0"))


async def test_notice_names_the_speed_up_and_install_command_when_no_library_is_found(
    small_workspace: Path, linux_mlx_cpu: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accel, "SYSTEM_BLAS_PATHS", ())
    monkeypatch.delenv(accel.LIB_ENV, raising=False)
    app = PunieApp(open_workspace(small_workspace))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        notices = app.screen.query(BlasNotice)
        assert len(notices) == 1 and notices.first().display
        text = str(notices.first().render())
        assert "training runs 4-8x faster" in text
        assert "sudo apt-get install libopenblas0-pthread" in text


async def test_notice_explains_a_library_setting_that_points_nowhere(
    small_workspace: Path, linux_mlx_cpu: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(accel.LIB_ENV, str(tmp_path / "nowhere.so"))
    app = PunieApp(open_workspace(small_workspace))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        notice = app.screen.query_one(BlasNotice)
        assert notice.display and "nowhere.so does not exist" in str(notice.render())


async def test_no_notice_when_a_library_is_found(small_workspace: Path, linux_mlx_cpu: None, monkeypatch: pytest.MonkeyPatch) -> None:
    found = Path("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0")
    monkeypatch.setattr(accel, "find_optimized_blas", lambda env=None: (found, "system", None))
    app = PunieApp(open_workspace(small_workspace))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert not app.screen.query_one(BlasNotice).display


def test_notice_snapshot(snap_compare, small_workspace: Path, linux_mlx_cpu: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accel, "SYSTEM_BLAS_PATHS", ())
    monkeypatch.delenv(accel.LIB_ENV, raising=False)

    async def settle(pilot) -> None:
        for _ in range(100):
            if pilot.app.screen.summary is not None:
                break
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(PunieApp(open_workspace(small_workspace)), terminal_size=(100, 30), run_before=settle)
