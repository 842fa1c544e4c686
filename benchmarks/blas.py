"""MLX with the wheel's reference BLAS against the optimized BLAS punie preloads, side by side.

Measures, in child processes started the same way, float32 matmul GFLOPS and the median step time
of a short LoRA run of the demo model on the demo examples (goals here: >= 10x on the product,
>= 5x on training), and shows that both runs give the same losses. The machine's load average is
printed too: OpenBLAS's threads lose the most when other jobs share the cores.
"""

from __future__ import annotations

import os
import statistics
import sys

from punie_tui.core.accel import blas_status, mlx_env, without_preload
from punie_tui.core.accel_probe import run_probe

# The demo workspace's batch size with sequences cut at 512 tokens: about 10 s a step on the
# reference BLAS here.
TRAIN_ARGS = ["train", "--iters", "4", "--batch", "4", "--seq", "512", "--examples", "32"]


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

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"MLX {ref_mm['mlx']} on {ref_mm['device']}, {os.uname().machine}, {os.cpu_count()} cores, load average {load}")
    print(f"reference BLAS: {ref_mm['blas']}")
    print(f"optimized BLAS: {opt_mm['blas']}")
    print(f"{'':34}{'reference':>14}{'optimized':>14}{'ratio':>9}")
    print(f"{'matmul 1024x1024 float32, GFLOPS':34}{ref_mm['gflops']:>14.1f}{opt_mm['gflops']:>14.1f}{opt_mm['gflops'] / ref_mm['gflops']:>8.1f}x  (goal >= 10x)")
    print(f"{'training step (median), s':34}{ref_step:>14.3f}{opt_step:>14.3f}{ref_step / opt_step:>8.1f}x  (goal >= 5x)")
    print(f"{'demo training, 4 steps, s':34}{ref_tr['seconds']:>14.2f}{opt_tr['seconds']:>14.2f}{ref_tr['seconds'] / opt_tr['seconds']:>8.1f}x")
    print(f"{'demo training, 4 steps, CPU s':34}{ref_tr['cpu_seconds']:>14.2f}{opt_tr['cpu_seconds']:>14.2f}{ref_tr['cpu_seconds'] / opt_tr['cpu_seconds']:>8.1f}x  (all threads)")
    print(f"losses: {', '.join(f'{x:.6f}' for x in ref_tr['losses'])}  (largest relative difference {worst:.1e})")


if __name__ == "__main__":
    main()
