"""The training runner through real processes: mlx-lm's trainer on the demo model, supervised."""

from __future__ import annotations

import json
import math
import re
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from punie_tui.core.accel import blas_status
from punie_tui.core.training.config import TrainConfig
from punie_tui.core.training.demo_training import write_training_data
from punie_tui.core.training.events import read_events
from punie_tui.core.training.logparse import parse_log
from punie_tui.core.training.supervisor import LaunchOptions, supervise

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples.jsonl"


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    write_training_data(EXAMPLES, data)
    return data


def _config(model: Path, data: Path, **overrides) -> TrainConfig:
    options = dict(
        model=str(model),
        data=str(data),
        fine_tune_type="full",
        num_layers=-1,
        optimizer="adamw",
        batch_size=4,
        iters=20,
        learning_rate=1e-3,
        steps_per_report=5,
        steps_per_eval=10,
        val_batches=-1,
        save_every=10,
        mask_prompt=True,
        max_seq_length=1024,
    )
    options.update(overrides)
    return TrainConfig(**options)


def _train_cli(config_path: Path, run_dir: Path, *extra: str, env: dict | None = None, **popen) -> subprocess.Popen:
    command = [sys.executable, "-m", "punie_tui", "train", "--config", str(config_path), "--run-dir", str(run_dir), *extra]
    return subprocess.Popen(command, env={**os.environ, **(env or {})}, text=True, **popen)


def _wait_for(predicate, timeout: float = 240.0, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


def test_short_run_writes_every_event_type_checkpoints_and_a_test_loss(untrained_demo_model: Path, data_dir: Path, tmp_path: Path) -> None:
    (data_dir / "test.jsonl").write_text((data_dir / "valid.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    config = _config(untrained_demo_model, data_dir, test=True, test_batches=2, cache_limit_gb=0.01)
    run_dir = tmp_path / "run"
    result = supervise(config, LaunchOptions(run_dir=run_dir, allow_concurrent=True, memory_interval_s=0.5))
    assert (result.status, result.exit_code) == ("finished", 0), (run_dir / "stderr.log").read_text()

    events = read_events(run_dir / "metrics.jsonl")
    types = [e.type for e in events]
    assert types[0] == "started" and types[-1] == "finished"
    started = events[0]
    assert started.trainable_parameters > 0 and started.iters == 20 and started.pid != os.getpid()
    optimized = blas_status().optimized
    if optimized is not None:
        # The worker runs with the optimized BLAS even though this process did not re-execute.
        assert Path(started.blas).resolve() == optimized.resolve()
    train = [e for e in events if e.type == "train"]
    assert [e.iteration for e in train] == [5, 10, 15, 20]
    for e in train:
        assert all(math.isfinite(v) for v in (e.train_loss, e.learning_rate, e.tokens_per_second, e.peak_memory_gb))
        assert e.trained_tokens > 0
    assert [e.iteration for e in events if e.type == "val"] == [1, 10, 20]
    checkpoints = [e for e in events if e.type == "checkpoint"]
    assert [e.iteration for e in checkpoints] == [10, 20]
    assert all(Path(e.path).is_file() for e in checkpoints)
    assert (run_dir / "adapters" / "adapters.safetensors").is_file()
    (test,) = [e for e in events if e.type == "test"]
    assert math.isfinite(test.test_loss)
    memory = [e for e in events if e.type == "memory"]
    assert len(memory) >= 2
    assert all(e.rss_gb > 0 and e.system_available_gb > 0 for e in memory)
    # The MLX cache limit from the config is applied inside the worker.
    assert max(e.mlx_cache_gb for e in memory) <= 0.01 + 1e-3
    # The run's own log is mlx-lm's table and parses into the same reports.
    logged = parse_log(run_dir / "train.log")
    assert [e.iteration for e in logged if e.type == "train"] == [5, 10, 15, 20]


def test_run_yaml_reproduces_with_plain_mlx_lm(untrained_demo_model: Path, data_dir: Path, tmp_path: Path) -> None:
    config = _config(untrained_demo_model, data_dir, iters=10, save_every=10, steps_per_eval=10)
    run_dir = tmp_path / "run"
    assert supervise(config, LaunchOptions(run_dir=run_dir, allow_concurrent=True)).status == "finished"
    plain_adapters = tmp_path / "plain-adapters"
    plain = subprocess.run(
        [sys.executable, "-m", "mlx_lm", "lora", "-c", str(run_dir / "config.yaml"), "--adapter-path", str(plain_adapters)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert (plain_adapters / "adapters.safetensors").is_file()
    from punie_tui.core.training.logparse import parse_log_text

    plain_events = parse_log_text(plain.stdout)
    ours = [e for e in read_events(run_dir / "metrics.jsonl") if e.type == "val"]
    theirs = [e for e in plain_events if e.type == "val"]
    assert [e.iteration for e in theirs] == [e.iteration for e in ours] == [1, 10]
    # Same weights, same validation set, whole set evaluated: the first val loss agrees (only
    # the batch grouping differs, and padding is masked).
    assert theirs[0].val_loss == pytest.approx(ours[0].val_loss, abs=2e-3)


def test_worker_killed_mid_run_is_recorded_as_killed(untrained_demo_model: Path, data_dir: Path, tmp_path: Path) -> None:
    config_path = tmp_path / "lora.yaml"
    _config(untrained_demo_model, data_dir, iters=5000, steps_per_report=1, steps_per_eval=10000).save(config_path)
    run_dir = tmp_path / "run"
    proc = _train_cli(config_path, run_dir, "--allow-concurrent", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        metrics = run_dir / "metrics.jsonl"

        def trained_pid():
            events = read_events(metrics) if metrics.exists() else []
            if any(e.type == "train" for e in events):
                return next(e.pid for e in events if e.type == "started")
            return None

        os.kill(_wait_for(trained_pid), signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    failed = read_events(run_dir / "metrics.jsonl")[-1]
    assert (failed.type, failed.cause, failed.exit_code) == ("failed", "killed", -9)
    assert "SIGKILL" in failed.message
    assert "failed" in out and "[killed]" in out


def test_broken_dataset_fails_as_a_data_error(untrained_demo_model: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text('{"question": "no messages here"}\n' * 8, encoding="utf-8")
    (data / "valid.jsonl").write_text('{"question": "no messages here"}\n' * 4, encoding="utf-8")
    result = supervise(_config(untrained_demo_model, data), LaunchOptions(run_dir=tmp_path / "run", allow_concurrent=True))
    assert (result.status, result.cause) == ("failed", "data-error")
    failed = read_events(tmp_path / "run" / "metrics.jsonl")[-1]
    assert failed.cause == "data-error"
    assert "Unsupported data format" in failed.message
    assert any("ValueError" in line for line in failed.stderr_tail)


def test_memory_guard_stops_the_run_under_a_forced_low_probe(untrained_demo_model: Path, data_dir: Path, tmp_path: Path) -> None:
    config_path = tmp_path / "lora.yaml"
    _config(untrained_demo_model, data_dir, iters=5000).save(config_path)
    run_dir = tmp_path / "run"
    proc = _train_cli(
        config_path, run_dir, "--allow-concurrent", "--json", env={"PUNIE_TUI_FAKE_AVAILABLE_GB": "0.5"}, stdout=subprocess.PIPE
    )
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1
    result = json.loads(out)["result"]
    assert (result["status"], result["cause"]) == ("failed", "out-of-memory")
    events = read_events(run_dir / "metrics.jsonl")
    alert = next(e for e in events if e.type == "alert")
    assert alert.code == "memory-guard" and alert.severity == "error"
    failed = events[-1]
    assert failed.type == "failed" and failed.cause == "out-of-memory"
    assert re.fullmatch(r"stopped by the memory guard: 0\.50 GB available, below the [\d.]+ GB threshold \(sent SIGINT.*\)", failed.message)


def test_second_run_is_refused_while_one_holds_the_lock(untrained_demo_model: Path, data_dir: Path, tmp_path: Path) -> None:
    from punie_tui.core.training.lock import RunLock

    config_path = tmp_path / "lora.yaml"
    _config(untrained_demo_model, data_dir).save(config_path)
    with RunLock(tmp_path / "first-run"):
        proc = _train_cli(config_path, tmp_path / "second-run", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "another training run is active" in err and "first-run" in err
    assert not (tmp_path / "second-run" / "metrics.jsonl").exists()
