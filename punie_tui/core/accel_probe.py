"""Measurements of MLX in a child process: which BLAS it binds to, matmul GFLOPS, a demo training run.

Run as `python -m punie_tui.core.accel_probe matmul|train ...`; prints one JSON object. It runs in
a child so that the environment (LD_PRELOAD) under test is the child's, and so that the caller
never imports MLX. `run_probe()` starts it; doctor and benchmarks/blas.py use it.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from typing import Any

# A float32 product of two 1024x1024 matrices: 2 GFLOP, under a second even on the reference BLAS.
MATMUL_SIZE = 1024


class ProbeError(RuntimeError):
    """The probe process failed; the message holds its error output."""


def run_probe(args: list[str], env: Mapping[str, str] | None = None, timeout: float = 600) -> dict[str, Any]:
    """Run the probe in a child with `env` and return its JSON result."""
    proc = subprocess.run(
        [sys.executable, "-m", "punie_tui.core.accel_probe", *args],
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise ProbeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class _DlInfo(ctypes.Structure):
    _fields_ = [
        ("dli_fname", ctypes.c_char_p),
        ("dli_fbase", ctypes.c_void_p),
        ("dli_sname", ctypes.c_char_p),
        ("dli_saddr", ctypes.c_void_p),
    ]


def _mapped_library(fragment: str) -> str | None:
    with open("/proc/self/maps", encoding="utf-8") as maps:
        for line in maps:
            path = line.rstrip("\n").split(maxsplit=5)[-1]
            if fragment in path.rsplit("/", 1)[-1]:
                return path
    return None


def bound_blas_library(symbol: str = "cblas_sgemm") -> str | None:
    """The file that MLX's `symbol` calls resolve to in this process (after importing mlx).

    ld.so binds a library's references through the global scope (the program, LD_PRELOAD) before
    the library's own dependencies, so: the global definition if there is one, else libmlx's.
    None off Linux (on macOS MLX uses Accelerate and Metal).
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None)
    try:
        address = ctypes.cast(getattr(libc, symbol), ctypes.c_void_p).value
    except AttributeError:
        address = None
    if address is None:
        libmlx = _mapped_library("libmlx")
        if libmlx is None:
            return None
        address = ctypes.cast(getattr(ctypes.CDLL(libmlx), symbol), ctypes.c_void_p).value
    info = _DlInfo()
    if not libc.dladdr(ctypes.c_void_p(address), ctypes.byref(info)):
        return None
    return os.path.normpath(info.dli_fname.decode())


def probe_matmul(seconds: float) -> dict[str, Any]:
    """The MLX device, the BLAS it uses and float32 matmul GFLOPS over about `seconds`."""
    import mlx.core as mx

    n = MATMUL_SIZE
    a = mx.random.normal((n, n), key=mx.random.key(0))
    b = mx.random.normal((n, n), key=mx.random.key(1))
    mx.eval(a @ b)  # the first product loads and warms up the kernels
    products = 0
    start = time.perf_counter()
    while True:
        mx.eval(a @ b)
        products += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    return {
        "mlx": mx.__version__,
        "device": mx.default_device().type.name,
        "blas": bound_blas_library(),
        "gflops": round(2 * n**3 * products / elapsed / 1e9, 2),
        "products": products,
        "seconds": round(elapsed, 3),
    }


def probe_train(iters: int, batch: int, seq: int, examples: int) -> dict[str, Any]:
    """A short LoRA run of the demo model on the demo examples through mlx-lm's trainer.

    Returns the loss of every step, the step times and the BLAS MLX used. Sequences are cut at
    `seq` tokens, so the cost per step is set by `batch` and `seq`.
    """
    import mlx.core as mx
    import mlx.optimizers as optim
    import numpy as np
    from mlx_lm.tuner.callbacks import TrainingCallback
    from mlx_lm.tuner.datasets import CacheDataset, ChatDataset
    from mlx_lm.tuner.trainer import TrainingArgs, train
    from mlx_lm.tuner.utils import linear_to_lora_layers
    from mlx_lm.utils import load

    from punie_tui.core.demo import bundled_data_dir
    from punie_tui.core.demo_model import ensure_demo_model

    mx.random.seed(0)
    np.random.seed(0)  # the trainer shuffles batches with numpy's global generator
    model, tokenizer = load(str(ensure_demo_model()))
    model.freeze()
    linear_to_lora_layers(model, len(model.layers), {"rank": 8, "scale": 20.0, "dropout": 0.0})
    with open(bundled_data_dir() / "examples.jsonl", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle][:examples]
    dataset = CacheDataset(ChatDataset(records, tokenizer))

    class Losses(TrainingCallback):
        def __init__(self) -> None:
            self.values: list[float] = []
            self.step_seconds: list[float] = []

        def on_train_loss_report(self, train_info: dict) -> None:
            self.values.append(train_info["train_loss"])
            self.step_seconds.append(round(1 / train_info["iterations_per_second"], 4))

    losses = Losses()
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        start, cpu_start = time.perf_counter(), time.process_time()
        train(
            model,
            optim.Adam(learning_rate=5e-4),
            dataset,
            args=TrainingArgs(
                batch_size=batch,
                iters=iters,
                steps_per_report=1,
                steps_per_save=iters + 1,
                max_seq_length=seq,
                adapter_file=f"{tmp}/adapters.safetensors",
            ),
            training_callback=losses,
        )
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "blas": bound_blas_library(),
        "losses": losses.values,
        "step_seconds": losses.step_seconds,
        "seconds": round(elapsed, 3),
        "cpu_seconds": round(cpu, 3),
        "iters": iters,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m punie_tui.core.accel_probe")
    sub = parser.add_subparsers(dest="probe", required=True)
    matmul = sub.add_parser("matmul", help="device, BLAS in use and float32 matmul GFLOPS")
    matmul.add_argument("--seconds", type=float, default=1.0)
    training = sub.add_parser("train", help="a short LoRA run of the demo model on the demo examples")
    training.add_argument("--iters", type=int, default=4)
    training.add_argument("--batch", type=int, default=2)
    training.add_argument("--seq", type=int, default=64, help="cut sequences at this many tokens")
    training.add_argument("--examples", type=int, default=16, help="how many demo examples to train on")
    args = parser.parse_args(argv)
    if args.probe == "matmul":
        result = probe_matmul(args.seconds)
    else:
        result = probe_train(args.iters, args.batch, args.seq, args.examples)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
