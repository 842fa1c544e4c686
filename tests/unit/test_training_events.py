"""Training events: JSON lines written whole, read back typed, tailed while a run writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from punie_tui.core.training.events import (
    CheckpointEvent,
    EventFileError,
    EventTail,
    EventWriter,
    FailedEvent,
    TrainEvent,
    read_events,
)


def test_written_events_read_back_as_the_same_models(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    with EventWriter(path) as writer:
        writer.write(TrainEvent(iteration=10, train_loss=1.5, peak_memory_gb=0.2))
        writer.write(CheckpointEvent(iteration=10, path="adapters/0000010_adapters.safetensors"))
    events = read_events(path)
    assert [type(e) for e in events] == [TrainEvent, CheckpointEvent]
    assert events[0].train_loss == 1.5 and events[0].time is not None


def test_half_written_last_line_is_left_for_later(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"type":"train","iteration":1,"train_loss":2.0}\n{"type":"val","itera', encoding="utf-8")
    assert [e.type for e in read_events(path)] == ["train"]


def test_tail_returns_only_new_events_and_completes_split_lines(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    tail = EventTail(path)
    assert tail.poll() == []
    path.write_text('{"type":"train","iteration":1,"train_loss":2.0}\n{"type":"val",', encoding="utf-8")
    assert [e.type for e in tail.poll()] == ["train"]
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('"iteration":1,"val_loss":3.0}\n')
    (event,) = tail.poll()
    assert (event.type, event.val_loss) == ("val", 3.0)
    assert tail.poll() == []


def test_a_replaced_file_is_read_again_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"type":"train","iteration":1,"train_loss":2.0}\n' * 3, encoding="utf-8")
    tail = EventTail(path)
    assert len(tail.poll()) == 3
    path.write_text('{"type":"finished"}\n', encoding="utf-8")
    assert [e.type for e in tail.poll()] == ["finished"]


def test_a_bad_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"type":"train","iteration":1,"train_loss":2.0}\n{"type":"bogus"}\n', encoding="utf-8")
    with pytest.raises(EventFileError, match=r"metrics.jsonl:2: not a training event"):
        read_events(path)


def test_failure_cause_must_be_a_known_one() -> None:
    with pytest.raises(ValueError):
        FailedEvent(cause="bad-luck")
