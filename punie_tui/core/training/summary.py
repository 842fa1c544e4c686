"""A run at a glance from its events: status, failure cause, losses, checkpoints, peak memory.

This is the shape `punie-tui monitor --once --json` prints (a stable, documented interface).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from punie_tui.core.training.events import Event, FailedEvent


def _row(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json", exclude_none=True, exclude={"type"})


def _last_failure(failures: list[FailedEvent]) -> FailedEvent | None:
    # A chained traceback ends in a generic error; the specific cause seen earlier explains more.
    known = [f for f in failures if f.cause != "unknown"]
    return (known or failures or [None])[-1]


def summarize(events: Iterable[Event]) -> dict[str, Any]:
    """{"status", "failure", "train", "val", "checkpoints", "peak_memory_gb", "final"}."""
    events = list(events)
    train = [e for e in events if e.type == "train"]
    val = [e for e in events if e.type == "val"]
    tests = [e for e in events if e.type == "test"]
    failures = [e for e in events if e.type == "failed"]
    failure = _last_failure(failures)
    if failure is not None:
        status = "failed"
    elif any(e.type == "finished" for e in events):
        status = "finished"
    else:
        status = "running"
    peaks = [e.peak_memory_gb for e in train if e.peak_memory_gb is not None]
    peaks += [e.mlx_peak_gb for e in events if e.type == "memory" and e.mlx_peak_gb is not None]
    peaks = [p for p in peaks if math.isfinite(p)]
    return {
        "status": status,
        "failure": failure.cause if failure else None,
        "train": [_row(e) for e in train],
        "val": [_row(e) for e in val],
        "checkpoints": [_row(e) for e in events if e.type == "checkpoint"],
        "peak_memory_gb": max(peaks) if peaks else None,
        "final": {
            "train_loss": train[-1].train_loss if train else None,
            "val_loss": val[-1].val_loss if val else None,
            "test_loss": tests[-1].test_loss if tests else None,
        },
    }
