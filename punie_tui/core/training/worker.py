"""The training process: `python -m punie_tui.core.training.worker RUN_DIR`.

Runs mlx-lm's own trainer on `RUN_DIR/config.yaml` and writes events to `RUN_DIR/metrics.jsonl`.
It follows `mlx_lm.lora.train_model` step by step because `lora.run()` drops the callback it is
given; the differences are the callback, the memory sampler, MLX memory limits and real length
batching (`length_batching.py`). Started by `supervisor.py`, which guards memory and records
how the process ended; it runs in its own process because MLX training in a thread of the TUI
aborts the interpreter at exit.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

from punie_tui.core.accel_probe import bound_blas_library
from punie_tui.core.training.alerts import AlertTracker
from punie_tui.core.training.config import TrainConfig, load_config
from punie_tui.core.training.events import (
    AlertEvent,
    CheckpointEvent,
    Event,
    EventWriter,
    MemoryEvent,
    StartedEvent,
    TestEvent,
    TrainEvent,
    ValEvent,
)
from punie_tui.core.training.probe import GB, mlx_memory, process_rss_gb, system_memory

CONFIG_FILE = "config.yaml"
RUNNER_FILE = "runner.json"


class Recorder:
    """Writes events and feeds them to the alert tracker; shared by the trainer and the sampler."""

    def __init__(self, writer: EventWriter, tracker: AlertTracker) -> None:
        self.writer = writer
        self.tracker = tracker
        self.iteration = 0
        self._lock = threading.Lock()

    def record(self, event: Event) -> None:
        with self._lock:
            self.writer.write(event)
            for alert in self.tracker.add(event):
                self.writer.write(alert)


class CheckpointWatcher:
    """Reports the `NNNNNNN_adapters.safetensors` files mlx-lm saves (it has no callback for saves)."""

    def __init__(self, adapter_dir: Path, recorder: Recorder) -> None:
        self.adapter_dir = adapter_dir
        self.recorder = recorder
        self._seen: set[str] = set()

    def scan(self) -> None:
        for path in sorted(self.adapter_dir.glob("*_adapters.safetensors")):
            prefix = path.name.split("_", 1)[0]
            if path.name in self._seen or not prefix.isdigit():
                continue
            self._seen.add(path.name)
            self.recorder.record(CheckpointEvent(iteration=int(prefix), path=str(path)))


def make_callback(recorder: Recorder, watcher: CheckpointWatcher):
    from mlx_lm.tuner.trainer import TrainingCallback

    class MetricsCallback(TrainingCallback):
        def on_train_loss_report(self, info: dict[str, Any]) -> None:
            watcher.scan()
            recorder.iteration = int(info["iteration"])
            recorder.record(
                TrainEvent(
                    iteration=int(info["iteration"]),
                    train_loss=float(info["train_loss"]),
                    learning_rate=float(info["learning_rate"]),
                    iterations_per_second=float(info["iterations_per_second"]),
                    tokens_per_second=float(info["tokens_per_second"]),
                    trained_tokens=int(info["trained_tokens"]),
                    peak_memory_gb=float(info["peak_memory"]),
                )
            )

        def on_val_loss_report(self, info: dict[str, Any]) -> None:
            watcher.scan()
            # mlx-lm passes the steps done so far; its printed table (and old logs) say one more.
            recorder.record(ValEvent(iteration=int(info["iteration"]) + 1, val_loss=float(info["val_loss"]), val_time=float(info["val_time"])))

    return MetricsCallback()


def sample_memory(recorder: Recorder) -> None:
    system = system_memory()
    mlx = mlx_memory()
    recorder.record(
        MemoryEvent(
            rss_gb=process_rss_gb(),
            system_available_gb=system.available_gb,
            system_total_gb=system.total_gb,
            mlx_active_gb=mlx.active_gb,
            mlx_cache_gb=mlx.cache_gb,
            mlx_peak_gb=mlx.peak_gb,
            iteration=recorder.iteration,
            time=time.time(),
        )
    )


class Sampler:
    """Samples memory every `interval` seconds in a daemon thread until `stop()`."""

    def __init__(self, recorder: Recorder, interval: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(recorder, interval), name="memory-sampler", daemon=True)
        self._thread.start()

    def _loop(self, recorder: Recorder, interval: float) -> None:
        while not self._stop.wait(interval):
            sample_memory(recorder)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def mlx_args(config: TrainConfig) -> types.SimpleNamespace:
    """The namespace `mlx_lm lora` builds: its defaults, overridden by the config (as in lora.main)."""
    from mlx_lm.lora import CONFIG_DEFAULTS

    args = dict(CONFIG_DEFAULTS)
    args.update(config.to_mlx_dict())
    return types.SimpleNamespace(**args)


def apply_memory_limits(config: TrainConfig) -> None:
    import mlx.core as mx

    if config.cache_limit_gb is not None:
        mx.set_cache_limit(int(config.cache_limit_gb * GB))
    if config.memory_limit_gb is not None:
        mx.set_memory_limit(int(config.memory_limit_gb * GB))


def prepare_model(args: types.SimpleNamespace, model) -> None:
    """Freeze and unfreeze, or add adapters, exactly as mlx_lm.lora.train_model does."""
    from mlx_lm.tuner.utils import linear_to_lora_layers

    model.freeze()
    if args.num_layers > len(model.layers):
        raise ValueError(f"Requested to train {args.num_layers} layers but the model only has {len(model.layers)} layers.")
    if args.fine_tune_type == "full":
        for layer in model.layers[-max(args.num_layers, 0) :]:
            layer.unfreeze()
        args.lora_parameters = None
    else:
        linear_to_lora_layers(model, args.num_layers, args.lora_parameters, use_dora=(args.fine_tune_type == "dora"))
    if args.resume_adapter_file is not None:
        model.load_weights(args.resume_adapter_file, strict=False)


def make_optimizer(args: types.SimpleNamespace):
    import mlx.optimizers as optim
    from mlx_lm.tuner.utils import build_schedule

    classes = {"adam": optim.Adam, "adamw": optim.AdamW, "muon": optim.Muon, "sgd": optim.SGD, "adafactor": optim.Adafactor}
    lr = build_schedule(args.lr_schedule) if args.lr_schedule else args.learning_rate
    name = args.optimizer.lower()
    return classes[name](learning_rate=lr, **args.optimizer_config.get(name, {}))


def count_parameters(model) -> tuple[int, int]:
    from mlx.utils import tree_flatten
    from mlx_lm.tuner.utils import get_total_parameters

    trainable = sum(v.size for _, v in tree_flatten(model.trainable_parameters()))
    return trainable, int(get_total_parameters(model))


def run(run_dir: Path) -> int:
    import mlx.core as mx
    import numpy as np
    from mlx_lm.tuner.datasets import load_dataset
    from mlx_lm.tuner.trainer import TrainingArgs, evaluate, train
    from mlx_lm.utils import load, save_config

    from punie_tui.core.training.length_batching import token_length_dataset

    config = load_config(run_dir / CONFIG_FILE)
    runner = json.loads((run_dir / RUNNER_FILE).read_text(encoding="utf-8"))
    writer = EventWriter(run_dir / "metrics.jsonl")
    recorder = Recorder(writer, AlertTracker(guard_threshold_gb=runner["guard_threshold_gb"], total_iters=config.iters))
    args = mlx_args(config)

    apply_memory_limits(config)
    np.random.seed(args.seed)
    model, tokenizer = load(args.model)
    train_set, valid_set, test_set = load_dataset(args, tokenizer)
    mx.random.seed(args.seed)
    prepare_model(args, model)
    trainable, total = count_parameters(model)

    adapter_dir = Path(args.adapter_path)
    adapter_dir.mkdir(parents=True, exist_ok=True)
    # `mlx_lm.load(model, adapter_path=...)` and `mlx_lm fuse` read this file.
    save_config(vars(args), adapter_dir / "adapter_config.json")
    recorder.record(
        StartedEvent(
            config=config.to_mlx_dict(),
            trainable_parameters=trainable,
            total_parameters=total,
            iters=config.iters,
            pid=os.getpid(),
            # Which BLAS this run's matrix products use: a reference BLAS makes a run ~5x slower.
            blas=bound_blas_library(),
        )
    )

    train_data = token_length_dataset(train_set)
    valid_data = token_length_dataset(valid_set)
    lengths = [train_data.itemlen(i) for i in range(len(train_data))]
    over = sum(1 for n in lengths if n > config.max_seq_length)
    if over:
        recorder.record(
            AlertEvent(code="truncated-examples", message=f"{over} training examples are longer than {config.max_seq_length} tokens and are cut")
        )

    watcher = CheckpointWatcher(adapter_dir, recorder)
    sampler = Sampler(recorder, float(runner["memory_interval_s"]))
    sample_memory(recorder)
    try:
        train(
            model=model,
            optimizer=make_optimizer(args),
            train_dataset=train_data,
            val_dataset=valid_data,
            args=TrainingArgs(
                batch_size=args.batch_size,
                iters=args.iters,
                val_batches=args.val_batches,
                steps_per_report=args.steps_per_report,
                steps_per_eval=args.steps_per_eval,
                steps_per_save=args.save_every,
                adapter_file=adapter_dir / "adapters.safetensors",
                max_seq_length=args.max_seq_length,
                grad_checkpoint=args.grad_checkpoint,
                grad_accumulation_steps=args.grad_accumulation_steps,
            ),
            training_callback=make_callback(recorder, watcher),
        )
        watcher.scan()
        if args.test:
            test_loss = evaluate(
                model=model,
                dataset=token_length_dataset(test_set),
                batch_size=args.batch_size,
                num_batches=args.test_batches,
                max_seq_length=args.max_seq_length,
            )
            print(f"Test loss {test_loss:.3f}, Test ppl {math.exp(test_loss):.3f}.", flush=True)
            recorder.record(TestEvent(test_loss=test_loss, test_ppl=math.exp(test_loss)))
    finally:
        sampler.stop()
        sample_memory(recorder)
        writer.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m punie_tui.core.training.worker RUN_DIR", file=sys.stderr)
        return 2
    return run(Path(argv[0]))


if __name__ == "__main__":
    raise SystemExit(main())
