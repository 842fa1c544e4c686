"""The one-run-per-machine lock and the memory guard's signal ladder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from punie_tui.core.training.guard import GuardSettings, breached, default_threshold_gb, stop_process
from punie_tui.core.training.lock import RunLock, RunLockedError
from punie_tui.core.training.probe import SystemMemory


def test_second_lock_is_refused_naming_the_first_run(tmp_path: Path) -> None:
    lock_path = tmp_path / "train.lock"
    with RunLock(tmp_path / "run-a", lock_path):
        with pytest.raises(RunLockedError, match="run-a"):
            RunLock(tmp_path / "run-b", lock_path).acquire()
    with RunLock(tmp_path / "run-b", lock_path):
        pass


@pytest.mark.slow
def test_lock_of_a_dead_process_is_free(tmp_path: Path) -> None:
    lock_path = tmp_path / "train.lock"
    code = (
        "import os, sys; from pathlib import Path; from punie_tui.core.training.lock import RunLock; "
        f"RunLock(Path('x'), Path({str(lock_path)!r})).acquire(); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with RunLock(tmp_path / "run", lock_path):
        pass


def test_default_threshold_is_ten_percent_of_ram_but_at_least_2_gb() -> None:
    assert default_threshold_gb(64.0) == pytest.approx(6.4)
    assert default_threshold_gb(8.0) == 2.0


def test_guard_fires_only_below_the_threshold() -> None:
    settings = GuardSettings()
    assert breached(settings, lambda: SystemMemory(total_gb=16.0, available_gb=1.9)) is not None
    assert breached(settings, lambda: SystemMemory(total_gb=16.0, available_gb=2.1)) is None


@pytest.mark.slow
def test_a_process_ignoring_sigint_and_sigterm_is_killed_in_order() -> None:
    code = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    sent = stop_process(proc, GuardSettings(sigint_grace_s=0.3, sigterm_grace_s=0.3))
    assert sent == ("SIGINT", "SIGTERM", "SIGKILL")
    assert proc.returncode == -9


@pytest.mark.slow
def test_a_process_that_stops_on_sigint_gets_nothing_more() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    assert stop_process(proc, GuardSettings(sigint_grace_s=10)) == ("SIGINT",)
