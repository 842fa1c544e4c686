"""The memory guard: stop a run before the machine runs out of memory, and say why.

When system-available memory falls below the threshold (default: the larger of 10% of RAM and
2 GB), the run gets SIGINT, then SIGTERM, then SIGKILL, each after a grace period.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from punie_tui.core.training.probe import SystemMemory, system_memory


def default_threshold_gb(total_gb: float) -> float:
    return max(0.10 * total_gb, 2.0)


@dataclass
class GuardSettings:
    threshold_gb: float | None = None
    poll_s: float = 0.5
    sigint_grace_s: float = 10.0
    sigterm_grace_s: float = 5.0

    def resolved_threshold(self, total_gb: float) -> float:
        return self.threshold_gb if self.threshold_gb is not None else default_threshold_gb(total_gb)


@dataclass(frozen=True)
class GuardTrip:
    available_gb: float
    threshold_gb: float
    signals: tuple[str, ...]

    @property
    def message(self) -> str:
        return (
            f"stopped by the memory guard: {self.available_gb:.2f} GB available, below the "
            f"{self.threshold_gb:.2f} GB threshold (sent {', '.join(self.signals)})"
        )


def breached(settings: GuardSettings, probe: Callable[[], SystemMemory] = system_memory) -> SystemMemory | None:
    """The memory reading if it is below the threshold, else None."""
    memory = probe()
    return memory if memory.available_gb < settings.resolved_threshold(memory.total_gb) else None


def stop_process(proc: subprocess.Popen, settings: GuardSettings) -> tuple[str, ...]:
    """SIGINT, then SIGTERM, then SIGKILL until the process exits; the signals that were sent."""
    sent: list[str] = []
    for sig, grace in ((signal.SIGINT, settings.sigint_grace_s), (signal.SIGTERM, settings.sigterm_grace_s), (signal.SIGKILL, None)):
        if proc.poll() is not None:
            break
        proc.send_signal(sig)
        sent.append(sig.name)
        if grace is None:
            proc.wait()
            break
        deadline = time.monotonic() + grace
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    return tuple(sent)
