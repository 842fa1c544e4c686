"""Where a run's events come from: a run folder's metrics.jsonl, a metrics file, or an mlx-lm log.

`open_source(path)` gives an object whose `poll()` returns the events added since the last call,
so the monitor and the screen follow all three the same way.
"""

from __future__ import annotations

from pathlib import Path

from punie_tui.core.training.events import Event, EventTail, LineTail
from punie_tui.core.training.logparse import LogParser

METRICS_FILE = "metrics.jsonl"


class SourceError(ValueError):
    """A path that holds no training events."""


class LogSource:
    """Events parsed from a growing mlx-lm log."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines = LineTail(path)
        self._parser = LogParser()

    def poll(self) -> list[Event]:
        events: list[Event] = []
        for line in self._lines.poll():
            events.extend(self._parser.feed(line + "\n"))
        return events

    def drain(self) -> list[Event]:
        """Everything left, including an unterminated last line (for a finished or one-shot read)."""
        events = self.poll()
        tail = self._lines.poll_partial()
        if tail:
            events.extend(self._parser.feed(tail))
        return events + self._parser.finish()


class MetricsSource:
    """Events of a metrics.jsonl written by the runner."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tail = EventTail(path)

    def poll(self) -> list[Event]:
        return self._tail.poll()

    def drain(self) -> list[Event]:
        return self.poll()


def metrics_path(path: Path) -> Path | None:
    """The metrics file a path names, or None when it names a log."""
    path = Path(path)
    if path.is_dir():
        return path / METRICS_FILE
    if path.suffix == ".jsonl":
        return path
    return None


def open_source(path: Path) -> LogSource | MetricsSource:
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    metrics = metrics_path(path)
    if metrics is None:
        return LogSource(path)
    if path.is_dir() and not metrics.exists():
        raise SourceError(f"{path}: no {METRICS_FILE} in this folder (not a run folder?)")
    return MetricsSource(metrics)
