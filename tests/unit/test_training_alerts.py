"""Alerts raised from a run's events: NaN, divergence, memorising, throughput, memory growth."""

from __future__ import annotations

from punie_tui.core.training.alerts import AlertTracker, project_guard_iteration
from punie_tui.core.training.events import MemoryEvent, TrainEvent, ValEvent


def _codes(tracker: AlertTracker, events) -> list[str]:
    return [alert.code for event in events for alert in tracker.add(event)]


def test_nan_loss_raises_one_error_alert() -> None:
    tracker = AlertTracker(guard_threshold_gb=2.0)
    events = [TrainEvent(iteration=i, train_loss=float("nan")) for i in (10, 20)]
    assert _codes(tracker, events) == ["nan-loss"]


def test_val_rising_while_train_falls_is_memorising() -> None:
    tracker = AlertTracker(guard_threshold_gb=2.0)
    events = [
        ValEvent(iteration=1, val_loss=3.0),
        TrainEvent(iteration=10, train_loss=2.0),
        ValEvent(iteration=10, val_loss=3.2),
        TrainEvent(iteration=20, train_loss=1.0),
        ValEvent(iteration=20, val_loss=3.5),
    ]
    assert _codes(tracker, events) == ["memorising"]


def test_loss_climbing_above_start_and_twice_its_best_is_divergence() -> None:
    tracker = AlertTracker(guard_threshold_gb=2.0)
    losses = [3.0, 1.0, 1.5, 4.0]
    assert _codes(tracker, [TrainEvent(iteration=10 * i, train_loss=v) for i, v in enumerate(losses, 1)]) == ["divergence"]


def test_one_slow_report_is_noise_but_three_under_half_the_median_are_a_collapse() -> None:
    tracker = AlertTracker(guard_threshold_gb=2.0)
    assert _codes(tracker, [TrainEvent(iteration=10 * i, train_loss=1.0, tokens_per_second=s) for i, s in enumerate([1000, 1100, 900, 300, 1000], 1)]) == []
    tracker = AlertTracker(guard_threshold_gb=2.0)
    speeds = [1000, 1100, 900, 300, 250, 400]
    events = [TrainEvent(iteration=10 * i, train_loss=1.0, tokens_per_second=s) for i, s in enumerate(speeds, 1)]
    assert _codes(tracker, events) == ["throughput-collapse"]


def test_projection_finds_the_iteration_where_available_memory_meets_the_threshold() -> None:
    # 1 GB lost per 10 s, 5 GB above the threshold: 50 s more at 2 it/s is 100 iterations.
    samples = [(0.0, 12.0), (10.0, 11.0), (20.0, 10.0)]
    assert project_guard_iteration(samples, threshold_gb=5.0, iteration=40, iterations_per_second=2.0) == 140
    assert project_guard_iteration([(0.0, 10.0), (10.0, 10.5)], 5.0, 40, 2.0) is None


def test_memory_growing_alert_projects_the_guard_iteration_within_the_run() -> None:
    tracker = AlertTracker(guard_threshold_gb=5.0, total_iters=1000, window=5)
    tracker.add(TrainEvent(iteration=40, train_loss=1.0, iterations_per_second=2.0))
    events = [
        MemoryEvent(time=10.0 * i, system_available_gb=12.0 - i, system_total_gb=16.0, iteration=40) for i in range(5)
    ]
    alerts = [a for e in events for a in tracker.add(e)]
    assert [a.code for a in alerts] == ["memory-growing"]
    assert "near iteration 100" in alerts[0].message


def test_flat_memory_raises_nothing() -> None:
    tracker = AlertTracker(guard_threshold_gb=5.0, total_iters=1000, window=5)
    tracker.add(TrainEvent(iteration=40, train_loss=1.0, iterations_per_second=2.0))
    events = [MemoryEvent(time=10.0 * i, system_available_gb=12.0, system_total_gb=16.0) for i in range(8)]
    assert _codes(tracker, events) == []
