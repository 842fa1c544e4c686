"""Tokens/s of one short config through punie's runner vs plain `python -m mlx_lm lora -c`,
interleaved, on length-uniform rows and on the mixed-length demo rows (same BLAS for both: the
environment of this process, e.g. LD_PRELOAD=<openblas>).

Both speeds come from mlx-lm's own table (tok/s per report, cumulative tokens), parsed the same
way; the first report of each run (kernel compilation) is left out. The runner batches by real
token length (length_batching.py), plain mlx-lm 0.32.2 does not; the padding ratios show why.

Run: LD_PRELOAD=<openblas> .venv/bin/python benchmarks/train_overhead.py [--iters N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from collections import Counter
import sys
import tempfile
from pathlib import Path

from punie_tui.core.demo import bundled_data_dir
from punie_tui.core.demo_model import ensure_demo_model
from punie_tui.core.training.config import TrainConfig
from punie_tui.core.training.demo_training import write_training_data
from punie_tui.core.training.events import TrainEvent
from punie_tui.core.training.length_batching import padding_ratio
from punie_tui.core.training.logparse import parse_log, parse_log_text
from punie_tui.core.training.preflight import token_lengths
from punie_tui.core.training.supervisor import LaunchOptions, supervise


def tokens_per_second(events: list) -> float:
    """Tokens over training time, from the table's reports, skipping the first (compilation)."""
    train = [e for e in events if isinstance(e, TrainEvent)]
    tokens = seconds = 0.0
    for previous, report in zip(train, train[1:]):
        delta = report.trained_tokens - previous.trained_tokens
        tokens += delta
        seconds += delta / report.tokens_per_second
    return tokens / seconds


def uniform_data(mixed: Path, out: Path, lengths: list[int]) -> None:
    """Rows that all pad to one width (mlx-lm pads to 32k+1): the fullest 32-token bucket.

    One width means one compiled step for both trainers; rows of merely similar length would give
    the sorted trainer a second width to compile, which a short run cannot amortise.
    """
    rows = (mixed / "train.jsonl").read_text(encoding="utf-8").splitlines()
    buckets = Counter((n + 31) // 32 for n in lengths)
    fullest = buckets.most_common(1)[0][0]
    keep = [i for i, n in enumerate(lengths) if (n + 31) // 32 == fullest][:64]
    out.mkdir(parents=True)
    (out / "train.jsonl").write_text("".join(rows[i] + "\n" for i in keep), encoding="utf-8")
    (out / "valid.jsonl").write_text("".join(rows[i] + "\n" for i in keep[:8]), encoding="utf-8")


def config(model: Path, data: Path, iters: int) -> TrainConfig:
    return TrainConfig(
        model=str(model), data=str(data), fine_tune_type="full", num_layers=-1, optimizer="adamw",
        batch_size=4, iters=iters, learning_rate=1e-4, steps_per_report=10, steps_per_eval=100000,
        val_batches=1, save_every=100000, mask_prompt=True, max_seq_length=1024,
    )


def run_punie(cfg: TrainConfig, run_dir: Path) -> float:
    result = supervise(cfg, LaunchOptions(run_dir=run_dir, allow_concurrent=True))
    if result.status != "finished":
        sys.exit(f"runner failed: {result.message} ({run_dir})")
    return tokens_per_second(parse_log(run_dir / "train.log"))


def run_plain(cfg: TrainConfig, work: Path) -> float:
    yaml_path = work / "plain.yaml"
    cfg.model_copy(update={"adapter_path": str(work / "plain-adapters")}).save(yaml_path)
    proc = subprocess.run([sys.executable, "-m", "mlx_lm", "lora", "-c", str(yaml_path)], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"plain mlx-lm failed:\n{proc.stderr[-2000:]}")
    return tokens_per_second(parse_log_text(proc.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    model = ensure_demo_model()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        mixed = work / "mixed"
        write_training_data(bundled_data_dir() / "examples.jsonl", mixed)
        rows = [json.loads(line) for line in (mixed / "train.jsonl").read_text(encoding="utf-8").splitlines()]
        lengths = token_lengths(config(model, mixed, 1), rows)
        uniform = work / "uniform"
        uniform_data(mixed, uniform, lengths)
        uniform_lengths = token_lengths(config(model, uniform, 1), [json.loads(x) for x in (uniform / "train.jsonl").read_text().splitlines()])

        speeds: dict[tuple[str, str], list[float]] = {}
        n = 0
        for _ in range(args.rounds):
            for name, data in (("uniform", uniform), ("mixed", mixed)):
                cfg = config(model, data, args.iters)
                n += 1
                speeds.setdefault((name, "plain"), []).append(run_plain(cfg, work))
                speeds.setdefault((name, "punie"), []).append(run_punie(cfg, work / f"run-{n}"))

    print(f"{args.iters} iterations, batch 4, full fine-tune of the demo model; {args.rounds} interleaved rounds")
    print(f"{'data':<9} {'rows':>5} {'padding sorted':>15} {'padding unsorted':>17} {'punie tok/s':>12} {'plain tok/s':>12} {'ratio':>6}")
    for name, lens in (("uniform", uniform_lengths), ("mixed", lengths)):
        punie = statistics.median(speeds[(name, "punie")])
        plain = statistics.median(speeds[(name, "plain")])
        rounds = "  ".join(f"{p:.0f}/{q:.0f}" for p, q in zip(speeds[(name, "punie")], speeds[(name, "plain")]))
        print(
            f"{name:<9} {len(lens):>5} {padding_ratio(lens, 4, sort=True):>14.2f}x {padding_ratio(lens, 4, sort=False):>16.2f}x "
            f"{punie:>12.0f} {plain:>12.0f} {punie / plain:>5.2f}x   rounds punie/plain: {rounds}"
        )


if __name__ == "__main__":
    main()
