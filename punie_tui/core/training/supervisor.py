"""Launch and watch one training run: run folder, lock, worker process, memory guard, final event.

The worker (`worker.py`) trains and reports; this side holds the machine's run lock, stops the
worker when memory runs low, and writes the `finished` or `failed` event with the cause, because
a process killed for memory cannot write its own obituary.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from punie_tui.core.accel import mlx_env
from punie_tui.core.atomic import atomic_write_text
from punie_tui.core.training.config import TrainConfig
from punie_tui.core.training.events import AlertEvent, EventWriter, FailedEvent, FinishedEvent
from punie_tui.core.training.failures import classify_exit
from punie_tui.core.training.guard import GuardSettings, GuardTrip, breached, stop_process
from punie_tui.core.training.lock import RunLock
from punie_tui.core.training.probe import SystemMemory, system_memory
from punie_tui.core.training.source import METRICS_FILE
from punie_tui.core.training.worker import CONFIG_FILE, RUNNER_FILE

LOG_FILE = "train.log"
STDERR_FILE = "stderr.log"
STDERR_TAIL_LINES = 20


class RunDirError(ValueError):
    """A run folder that cannot take a new run (it already holds one)."""


@dataclass
class LaunchOptions:
    run_dir: Path
    allow_concurrent: bool = False
    guard: GuardSettings = field(default_factory=GuardSettings)
    memory_interval_s: float = 2.0


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    exit_code: int
    status: str
    cause: str | None
    message: str


def prepare_run_dir(config: TrainConfig, options: LaunchOptions, total_gb: float) -> TrainConfig:
    """Write the run's config.yaml (adapters inside the run folder) and the runner's settings."""
    run_dir = options.run_dir
    if (run_dir / METRICS_FILE).exists():
        raise RunDirError(f"{run_dir}: already holds a run ({METRICS_FILE} exists); choose a new run folder")
    run_dir.mkdir(parents=True, exist_ok=True)
    config = config.model_copy(update={"adapter_path": str((run_dir / "adapters").resolve())})
    config.save(run_dir / CONFIG_FILE)
    runner = {
        "guard_threshold_gb": options.guard.resolved_threshold(total_gb),
        "memory_interval_s": options.memory_interval_s,
    }
    atomic_write_text(run_dir / RUNNER_FILE, json.dumps(runner, indent=2) + "\n", backup=False)
    return config


def worker_command(run_dir: Path) -> list[str]:
    return [sys.executable, "-m", "punie_tui.core.training.worker", str(run_dir)]


def _stderr_tail(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    lines = [line.split("\r")[-1].rstrip() for line in text.splitlines()]
    return [line for line in lines if line.strip()][-STDERR_TAIL_LINES:]


class _StopRequest:
    """Turns SIGINT/SIGTERM to the supervisor into a stop of the worker, recorded as such."""

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _StopRequest:
        # Python lets only the main thread install handlers; elsewhere the caller's stay.
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, _frame: object) -> None:
        self.requested = signal.Signals(signum).name

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def supervise(
    config: TrainConfig,
    options: LaunchOptions,
    probe: Callable[[], SystemMemory] = system_memory,
) -> RunResult:
    """Run one training to its end; returns how it ended (also written to metrics.jsonl)."""
    run_dir = options.run_dir
    lock = None if options.allow_concurrent else RunLock(run_dir)
    if lock is not None:
        lock.acquire()
    try:
        prepare_run_dir(config, options, probe().total_gb)
        return _watch(run_dir, options, probe)
    finally:
        if lock is not None:
            lock.release()


def _watch(run_dir: Path, options: LaunchOptions, probe: Callable[[], SystemMemory]) -> RunResult:
    started = time.monotonic()
    # The worker is MLX-heavy: it gets the optimized BLAS on Linux (core/accel.py).
    env = mlx_env({**os.environ, "PYTHONUNBUFFERED": "1"})
    with (
        EventWriter(run_dir / METRICS_FILE) as writer,
        open(run_dir / LOG_FILE, "wb") as log,
        open(run_dir / STDERR_FILE, "wb") as err,
        _StopRequest() as stop,
    ):
        # Own process group: a Ctrl+C in the terminal reaches the supervisor, which stops the
        # worker in order and records it, instead of both dying unrecorded.
        proc = subprocess.Popen(worker_command(run_dir), stdout=log, stderr=err, env=env, start_new_session=True)
        trip: GuardTrip | None = None
        user_stop: str | None = None
        try:
            while proc.poll() is None:
                if stop.requested:
                    user_stop = stop.requested
                    stop_process(proc, options.guard)
                    break
                reading = breached(options.guard, probe)
                if reading is not None:
                    threshold = options.guard.resolved_threshold(reading.total_gb)
                    writer.write(
                        AlertEvent(
                            code="memory-guard",
                            severity="error",
                            message=f"{reading.available_gb:.2f} GB available, below {threshold:.2f} GB: stopping the run",
                        )
                    )
                    trip = GuardTrip(reading.available_gb, threshold, stop_process(proc, options.guard))
                    break
                time.sleep(options.guard.poll_s)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        code = proc.returncode
        duration = time.monotonic() - started
        tail = _stderr_tail(run_dir / STDERR_FILE)
        if trip is not None:
            event = FailedEvent(cause="out-of-memory", message=trip.message, exit_code=code, stderr_tail=tail)
        elif user_stop is not None:
            event = FailedEvent(cause="killed", message=f"stopped on request ({user_stop})", exit_code=code, stderr_tail=tail)
        elif code == 0:
            writer.write(FinishedEvent(duration_s=duration))
            return RunResult(run_dir, code, "finished", None, f"finished in {duration:.1f} s")
        else:
            cause, message = classify_exit(code, tail)
            event = FailedEvent(cause=cause, message=message, exit_code=code, stderr_tail=tail)
        writer.write(event)
        return RunResult(run_dir, code, "failed", event.cause, event.message)
