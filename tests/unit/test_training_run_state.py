"""The live view of a run: debiased smoothing, ETA, best val with its checkpoint, history diffs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from punie_tui.core.training.events import CheckpointEvent, StartedEvent, TrainEvent, ValEvent
from punie_tui.core.training.history import config_differences, list_runs
from punie_tui.core.training.logparse import parse_log
from punie_tui.core.training.run_state import RunState, debiased_ema


def test_debiased_ema_starts_at_the_first_value_not_at_zero() -> None:
    assert debiased_ema([4.0, 4.0, 4.0], 0.9) == pytest.approx([4.0, 4.0, 4.0])
    assert debiased_ema([1.0, 3.0], 0.0) == [1.0, 3.0]
    smoothed = debiased_ema([2.0, float("nan"), 2.0], 0.5)
    assert smoothed[0] == 2.0 and smoothed[1] != smoothed[1] and smoothed[2] == pytest.approx(2.0)


def test_eta_best_val_and_improvement() -> None:
    state = RunState()
    state.extend(
        [
            StartedEvent(iters=100),
            TrainEvent(iteration=10, train_loss=4.0, iterations_per_second=2.0),
            ValEvent(iteration=10, val_loss=3.0),
            TrainEvent(iteration=20, train_loss=2.0, iterations_per_second=2.0),
            ValEvent(iteration=20, val_loss=2.5),
            CheckpointEvent(iteration=20, path="adapters/0000020_adapters.safetensors"),
            ValEvent(iteration=30, val_loss=2.7),
        ]
    )
    assert state.eta_seconds() == pytest.approx(40.0)
    best, checkpoint = state.best_val()
    assert (best.iteration, checkpoint.iteration) == (20, 20)
    assert state.improvement_pct() == pytest.approx(50.0)


def test_a_cut_off_log_reads_as_a_running_run_without_false_alerts(punie_data: Path) -> None:
    state = RunState()
    state.extend(parse_log(punie_data / "logs" / "phase26_lsp_training.log"))
    # Its val loss rose only once at the end (1.597 -> 1.639): no memorising alert yet.
    assert state.status == "running" and state.alerts == []
    assert state.iteration == 300 and state.total_iters == 500
    assert state.peak_memory_gb() == 22.295


def test_history_lists_runs_with_status_and_the_options_that_differ(tmp_path: Path) -> None:
    for name, lr, cause in (("20260101-a", "1e-4", None), ("20260102-b", "1e-4", None), ("20260103-c", "5e-4", "killed")):
        run = tmp_path / name
        run.mkdir()
        (run / "config.yaml").write_text(f"model: m\nlearning_rate: {lr}\nadapter_path: {run}/adapters\n", encoding="utf-8")
        events = [
            {"type": "started", "iters": 10, "time": 100.0},
            {"type": "train", "iteration": 10, "train_loss": 1.5, "peak_memory_gb": 0.4, "time": 160.0},
            {"type": "failed", "cause": cause, "time": 161.0} if cause else {"type": "finished", "time": 161.0},
        ]
        (run / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    (tmp_path / "not-a-run").mkdir()
    runs = list_runs(tmp_path)
    assert [(r.name, r.status, r.failure) for r in runs] == [
        ("20260101-a", "finished", None),
        ("20260102-b", "finished", None),
        ("20260103-c", "failed", "killed"),
    ]
    assert runs[0].duration_s == 61.0 and runs[0].peak_memory_gb == 0.4
    assert config_differences(runs) == {"20260101-a": {}, "20260102-b": {}, "20260103-c": {"learning_rate": 5e-4}}
