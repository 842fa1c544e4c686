"""What a live view of one run shows, computed from its events: series, smoothing, ETA, best val.

Fed incrementally (`RunState.add`), so the screen, the monitor and tests compute the same numbers.
Alerts recorded by the runner are kept; for logs and older runs the same detectors run here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from punie_tui.core.training.alerts import AlertTracker
from punie_tui.core.training.events import (
    AlertEvent,
    CheckpointEvent,
    Event,
    FailedEvent,
    MemoryEvent,
    StartedEvent,
    TestEvent,
    TrainEvent,
    ValEvent,
)
from punie_tui.core.training.guard import default_threshold_gb


def debiased_ema(values: list[float], smoothing: float) -> list[float]:
    """Exponential moving average with bias correction (as TensorBoard smooths), NaNs skipped.

    `smoothing` in [0, 1): 0 gives the raw values, 0.9 a heavy smoothing.
    """
    out: list[float] = []
    average = 0.0
    steps = 0
    for value in values:
        if not math.isfinite(value):
            out.append(value)
            continue
        steps += 1
        average = smoothing * average + (1 - smoothing) * value
        out.append(average / (1 - smoothing**steps) if smoothing > 0 else value)
    return out


@dataclass
class RunState:
    """The accumulated view of one run."""

    started: StartedEvent | None = None
    train: list[TrainEvent] = field(default_factory=list)
    val: list[ValEvent] = field(default_factory=list)
    memory: list[MemoryEvent] = field(default_factory=list)
    checkpoints: list[CheckpointEvent] = field(default_factory=list)
    alerts: list[AlertEvent] = field(default_factory=list)
    test: TestEvent | None = None
    failed: FailedEvent | None = None
    finished: bool = False
    _tracker: AlertTracker | None = None

    def add(self, event: Event) -> None:
        if isinstance(event, StartedEvent):
            self.started = event
        elif isinstance(event, TrainEvent):
            self.train.append(event)
        elif isinstance(event, ValEvent):
            self.val.append(event)
        elif isinstance(event, MemoryEvent):
            self.memory.append(event)
        elif isinstance(event, CheckpointEvent):
            self.checkpoints.append(event)
        elif isinstance(event, AlertEvent):
            self._add_alert(event)
        elif isinstance(event, TestEvent):
            self.test = event
        elif isinstance(event, FailedEvent):
            self.failed = event
        elif event.type == "finished":
            self.finished = True
        for alert in self._alert_tracker().add(event):
            self._add_alert(alert)

    def extend(self, events: list[Event]) -> None:
        for event in events:
            self.add(event)

    def _alert_tracker(self) -> AlertTracker:
        if self._tracker is None:
            total = self.memory[-1].system_total_gb if self.memory else None
            self._tracker = AlertTracker(
                guard_threshold_gb=default_threshold_gb(total) if total else 2.0,
                total_iters=self.total_iters,
            )
        return self._tracker

    def _add_alert(self, alert: AlertEvent) -> None:
        # The runner's own alert and the same one found here again are one alert.
        if alert.code == "memory-growing" or all(a.code != alert.code for a in self.alerts):
            self.alerts.append(alert)

    @property
    def status(self) -> str:
        return "failed" if self.failed else "finished" if self.finished else "running"

    @property
    def total_iters(self) -> int | None:
        return self.started.iters if self.started else None

    @property
    def iteration(self) -> int:
        return self.train[-1].iteration if self.train else 0

    def smoothed_speed(self, smoothing: float = 0.6) -> float | None:
        speeds = [e.iterations_per_second for e in self.train if e.iterations_per_second]
        return debiased_ema(speeds, smoothing)[-1] if speeds else None

    def eta_seconds(self) -> float | None:
        speed = self.smoothed_speed()
        if self.total_iters is None or not speed or self.status != "running":
            return None
        return max(0, self.total_iters - self.iteration) / speed

    def best_val(self) -> tuple[ValEvent, CheckpointEvent | None] | None:
        """The lowest val loss and the checkpoint saved at (or nearest after) its iteration."""
        finite = [v for v in self.val if math.isfinite(v.val_loss)]
        if not finite:
            return None
        best = min(finite, key=lambda v: v.val_loss)
        later = [c for c in self.checkpoints if c.iteration >= best.iteration]
        return best, min(later, key=lambda c: c.iteration) if later else None

    def improvement_pct(self) -> float | None:
        """How much the (smoothed) train loss fell since the first report, in percent."""
        losses = [e.train_loss for e in self.train if math.isfinite(e.train_loss)]
        if len(losses) < 2 or losses[0] == 0:
            return None
        return 100 * (losses[0] - losses[-1]) / losses[0]

    def peak_memory_gb(self) -> float | None:
        peaks = [e.peak_memory_gb for e in self.train if e.peak_memory_gb is not None]
        peaks += [e.mlx_peak_gb for e in self.memory if e.mlx_peak_gb is not None]
        return max(peaks) if peaks else None
