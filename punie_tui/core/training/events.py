"""Training events: one pydantic model per `type`, read and appended as JSON lines, tailed live.

A run writes `RUN_DIR/metrics.jsonl`; old and new mlx-lm logs are parsed into the same events
(`logparse.py`), so everything downstream (monitor, screen, history) reads one shape.
Sizes are in GB of 1e9 bytes, as mlx-lm reports them.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

FailureCause = Literal["out-of-memory", "data-error", "killed", "disk-full", "unknown"]


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    # Seconds since the epoch; None for events parsed from logs, which carry no clock.
    time: float | None = None


class StartedEvent(_Event):
    type: Literal["started"] = "started"
    config: dict[str, Any] = Field(default_factory=dict)
    trainable_parameters: int | None = None
    total_parameters: int | None = None
    iters: int | None = None
    pid: int | None = None
    blas: str | None = None


class TrainEvent(_Event):
    type: Literal["train"] = "train"
    iteration: int
    train_loss: float
    learning_rate: float | None = None
    iterations_per_second: float | None = None
    tokens_per_second: float | None = None
    trained_tokens: int | None = None
    peak_memory_gb: float | None = None


class ValEvent(_Event):
    type: Literal["val"] = "val"
    # The iteration as mlx-lm prints it (`Iter 1: Val loss` is taken before the first step).
    iteration: int
    val_loss: float
    val_time: float | None = None


class CheckpointEvent(_Event):
    type: Literal["checkpoint"] = "checkpoint"
    iteration: int
    path: str


class MemoryEvent(_Event):
    type: Literal["memory"] = "memory"
    rss_gb: float | None = None
    system_available_gb: float
    system_total_gb: float
    mlx_active_gb: float | None = None
    mlx_cache_gb: float | None = None
    mlx_peak_gb: float | None = None
    iteration: int | None = None


class AlertEvent(_Event):
    type: Literal["alert"] = "alert"
    code: str
    message: str
    severity: Literal["info", "warning", "error"] = "warning"
    iteration: int | None = None


class TestEvent(_Event):
    __test__ = False  # a pydantic model, not a pytest test class

    type: Literal["test"] = "test"
    test_loss: float
    test_ppl: float | None = None


class FinishedEvent(_Event):
    type: Literal["finished"] = "finished"
    duration_s: float | None = None


class FailedEvent(_Event):
    type: Literal["failed"] = "failed"
    cause: FailureCause
    message: str = ""
    exit_code: int | None = None
    stderr_tail: list[str] = Field(default_factory=list)


Event = Annotated[
    Union[
        StartedEvent,
        TrainEvent,
        ValEvent,
        CheckpointEvent,
        MemoryEvent,
        AlertEvent,
        TestEvent,
        FinishedEvent,
        FailedEvent,
    ],
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


class EventFileError(ValueError):
    """A metrics line that is not a valid event; the message names the file and the line."""


def parse_event_line(line: str, path: Path | str = "<events>", lineno: int = 0) -> Event:
    """Parse one JSON line into its event model."""
    try:
        return _ADAPTER.validate_json(line)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(line)"
        raise EventFileError(f"{path}:{lineno}: not a training event ({where}: {first['msg']})") from exc


def event_to_json(event: Event) -> str:
    return json.dumps(event.model_dump(mode="json", exclude_none=True), ensure_ascii=False, allow_nan=True)


def read_events(path: Path) -> list[Event]:
    """All complete events of a metrics file; a half-written last line (a live run) is left out."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.split("\n")
    # Without a trailing newline the last line may still be being written.
    complete = lines[:-1]
    return [parse_event_line(line, path, n) for n, line in enumerate(complete, 1) if line.strip()]


class EventWriter:
    """Appends events to a metrics file, one `write` per line so concurrent readers see whole lines.

    Safe to share between threads; several processes may append to the same file (O_APPEND).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._lock = threading.Lock()

    def write(self, event: Event) -> Event:
        if event.time is None:
            event.time = time.time()
        data = (event_to_json(event) + "\n").encode("utf-8")
        with self._lock:
            os.write(self._fd, data)
        return event

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LineTail:
    """Reads the complete lines appended to a growing file since the last call.

    A file that shrank (replaced or truncated) is read again from the start.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._offset = 0
        self._partial = b""
        self.lines_read = 0

    def poll(self) -> list[str]:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        if size < self._offset:
            self._offset, self._partial, self.lines_read = 0, b"", 0
        if size == self._offset:
            return []
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read(size - self._offset)
        self._offset += len(chunk)
        data = self._partial + chunk
        *complete, self._partial = data.split(b"\n")
        self.lines_read += len(complete)
        return [line.decode("utf-8", errors="replace") for line in complete]

    def poll_partial(self) -> str:
        """Take the unterminated text at the end of the file (a log that ended without a newline)."""
        self.poll()
        text = self._partial.decode("utf-8", errors="replace")
        self._partial = b""
        return text


class EventTail:
    """New events of a metrics file since the last `poll`, with file and line in errors."""

    def __init__(self, path: Path) -> None:
        self._lines = LineTail(path)

    @property
    def path(self) -> Path:
        return self._lines.path

    def poll(self) -> list[Event]:
        first = self._lines.lines_read
        lines = self._lines.poll()
        return [
            parse_event_line(line, self.path, first + n)
            for n, line in enumerate(lines, 1)
            if line.strip()
        ]


def follow(poll, *, interval: float = 0.5) -> Iterator[Event]:
    """Yield events from `poll()` as they appear, until the run ends (finished or failed)."""
    while True:
        events = poll()
        yield from events
        if any(event.type in ("finished", "failed") for event in events):
            return
        time.sleep(interval)
