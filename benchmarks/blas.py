"""MLX with the wheel's reference BLAS against the optimized BLAS punie preloads, side by side.

Measures, in child processes started the same way, float32 matmul GFLOPS and the median step time
of a short LoRA run of a tiny Qwen2 model (goals here: >= 10x on the product, >= 5x on training),
and checks that both runs give the same losses.
"""

from __future__ import annotations

import os
import statistics
import sys

from punie_tui.core.accel import blas_status, mlx_env, without_preload
from punie_tui.core.accel_probe import run_probe

# Big enough that matrix products dominate a step, as they do for real models; ~15 s on the
# reference BLAS here.
TRAIN_ARGS = ["train", "--iters", "4", "--hidden", "256", "--layers", "4", "--seq", "256", "--batch", "4", "--vocab", "4096"]


def median_step(result: dict) -> float:
    # The first step includes compiling the step function; later steps are the steady state.
    return statistics.median(result["step_seconds"][1:])


def main() -> None:
    status = blas_status(without_preload(os.environ))
    if status.reference_blas is None:
        sys.exit("benchmarks/blas.py: this MLX does not use the bundled reference BLAS (not mlx-cpu on Linux)")
    if status.optimized is None:
        sys.exit(f"benchmarks/blas.py: no optimized BLAS found ({status.problem or 'install: sudo apt-get install libopenblas0-pthread'})")
    plain = without_preload(os.environ)
    fast = mlx_env(plain, status)
    # Warm MLX's compiled-kernel cache so that neither side pays for compiling kernels.
    run_probe(["train", "--iters", "2"], fast)

    ref_mm, opt_mm = run_probe(["matmul", "--seconds", "2"], plain), run_probe(["matmul", "--seconds", "2"], fast)
    ref_tr, opt_tr = run_probe(TRAIN_ARGS, plain), run_probe(TRAIN_ARGS, fast)
    ref_step, opt_step = median_step(ref_tr), median_step(opt_tr)
    worst = max(abs(a - b) / abs(a) for a, b in zip(ref_tr["losses"], opt_tr["losses"], strict=True))

    print(f"MLX {ref_mm['mlx']} on {ref_mm['device']}, {os.uname().machine}, {os.cpu_count()} cores")
    print(f"reference BLAS: {ref_mm['blas']}")
    print(f"optimized BLAS: {opt_mm['blas']}")
    print(f"{'':34}{'reference':>14}{'optimized':>14}{'ratio':>9}")
    print(f"{'matmul 1024x1024 float32, GFLOPS':34}{ref_mm['gflops']:>14.1f}{opt_mm['gflops']:>14.1f}{opt_mm['gflops'] / ref_mm['gflops']:>8.1f}x  (goal >= 10x)")
    print(f"{'training step (median), s':34}{ref_step:>14.3f}{opt_step:>14.3f}{ref_step / opt_step:>8.1f}x  (goal >= 5x)")
    print(f"{'training run of 4 steps, s':34}{ref_tr['seconds']:>14.2f}{opt_tr['seconds']:>14.2f}{ref_tr['seconds'] / opt_tr['seconds']:>8.1f}x")
    print(f"losses: {', '.join(f'{x:.6f}' for x in ref_tr['losses'])}  (largest relative difference {worst:.1e})")


if __name__ == "__main__":
    main()
