"""Alerts from a run's events: NaN loss, divergence, memorising, throughput collapse, memory trouble.

`AlertTracker.add(event)` returns the alerts that event raises, each code at most once per run
(a memory projection may repeat when it moves a lot). The runner writes them into metrics.jsonl;
the monitor and the screen show the same ones for logs and other people's runs.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field

from punie_tui.core.training.events import AlertEvent, Event, MemoryEvent, TrainEvent, ValEvent



def project_guard_iteration(
    samples: list[tuple[float, float]], threshold_gb: float, iteration: int, iterations_per_second: float
) -> int | None:
    """The iteration at which available memory, falling linearly, would cross the guard threshold.

    `samples` are (seconds, available GB). None when memory is not falling.
    """
    if len(samples) < 2 or iterations_per_second <= 0:
        return None
    times = [t for t, _ in samples]
    values = [v for _, v in samples]
    slope = statistics.linear_regression(times, values).slope if len(set(times)) > 1 else 0.0
    if slope >= 0:
        return None
    seconds_left = max(0.0, (values[-1] - threshold_gb) / -slope)
    return iteration + math.ceil(seconds_left * iterations_per_second)


@dataclass
class AlertTracker:
    """Feeds on events in order; see the module docstring."""

    guard_threshold_gb: float
    total_iters: int | None = None
    # Memory falling by less than this over the window is noise, not growth.
    growth_min_drop_gb: float = 0.05
    window: int = 10
    _fired: set[str] = field(default_factory=set)
    _train: list[TrainEvent] = field(default_factory=list)
    _val: list[ValEvent] = field(default_factory=list)
    _memory: deque = field(default_factory=lambda: deque(maxlen=30))
    _projected: int | None = None

    def add(self, event: Event) -> list[AlertEvent]:
        if isinstance(event, TrainEvent):
            self._train.append(event)
            return self._check_train(event)
        if isinstance(event, ValEvent):
            self._val.append(event)
            return self._check_memorising(event)
        if isinstance(event, MemoryEvent):
            return self._check_memory(event)
        return []

    def _once(self, code: str, message: str, severity: str = "warning", iteration: int | None = None) -> list[AlertEvent]:
        if code in self._fired:
            return []
        self._fired.add(code)
        return [AlertEvent(code=code, message=message, severity=severity, iteration=iteration)]

    def _check_train(self, event: TrainEvent) -> list[AlertEvent]:
        alerts: list[AlertEvent] = []
        if not math.isfinite(event.train_loss):
            alerts += self._once("nan-loss", f"train loss is {event.train_loss} at iteration {event.iteration}", "error", event.iteration)
            return alerts
        finite = [e.train_loss for e in self._train if math.isfinite(e.train_loss)]
        if len(finite) >= 4 and event.train_loss > 2 * min(finite) and event.train_loss > finite[0]:
            alerts += self._once(
                "divergence",
                f"train loss {event.train_loss:.3f} is above its start {finite[0]:.3f} and twice its best {min(finite):.3f}",
                iteration=event.iteration,
            )
        # Length-sorted batches make single reports swing; three slow ones in a row are a collapse.
        speeds = [e.tokens_per_second for e in self._train if e.tokens_per_second]
        earlier, recent = speeds[:-3], speeds[-3:]
        if len(earlier) >= 3 and len(recent) == 3 and max(recent) < 0.5 * statistics.median(earlier):
            alerts += self._once(
                "throughput-collapse",
                f"the last three reports ran at {max(recent):.0f} tokens/s or less, under half the run's median "
                f"{statistics.median(earlier):.0f}",
                iteration=event.iteration,
            )
        return alerts

    def _check_memorising(self, event: ValEvent) -> list[AlertEvent]:
        if len(self._val) < 3:
            return []
        last = self._val[-3:]
        rising = last[0].val_loss < last[1].val_loss < last[2].val_loss
        span = [t.train_loss for t in self._train if last[0].iteration <= t.iteration <= last[2].iteration]
        falling = len(span) >= 2 and span[-1] < span[0]
        if rising and falling:
            return self._once(
                "memorising",
                f"val loss rose {last[0].val_loss:.3f} -> {last[2].val_loss:.3f} while train loss fell "
                f"{span[0]:.3f} -> {span[-1]:.3f}: the model is memorising the training set",
                iteration=event.iteration,
            )
        return []

    def _check_memory(self, event: MemoryEvent) -> list[AlertEvent]:
        alerts: list[AlertEvent] = []
        if event.system_available_gb < 1.5 * self.guard_threshold_gb:
            alerts += self._once(
                "memory-near-limit",
                f"{event.system_available_gb:.1f} GB available; the guard stops the run below {self.guard_threshold_gb:.1f} GB",
                iteration=event.iteration,
            )
        if event.time is not None:
            self._memory.append((event.time, event.system_available_gb))
        samples = list(self._memory)[-self.window :]
        if len(samples) < self.window or not self._train or samples[0][1] - samples[-1][1] < self.growth_min_drop_gb:
            return alerts
        last = self._train[-1]
        speed = last.iterations_per_second or 0.0
        projected = project_guard_iteration(samples, self.guard_threshold_gb, last.iteration, speed)
        if projected is None or (self.total_iters is not None and projected > self.total_iters):
            return alerts
        # Repeat only when the projection moved by more than a tenth: a steady leak says it once.
        if self._projected is not None and abs(projected - self._projected) <= 0.1 * max(self._projected, 1):
            return alerts
        self._projected = projected
        drop = samples[0][1] - samples[-1][1]
        alerts.append(
            AlertEvent(
                code="memory-growing",
                message=f"memory growing: available fell {drop:.2f} GB in {samples[-1][0] - samples[0][0]:.0f} s; "
                f"the guard would stop the run near iteration {projected}",
                iteration=last.iteration,
            )
        )
        return alerts
