"""Peak-memory estimate against measured MLX peaks: demo models of several sizes trained here,
and the real runs recorded in ../shared/punie-data (7B, 30B-A3B and 32B LoRA runs on Macs).

Run: LD_PRELOAD=<openblas> .venv/bin/python benchmarks/memory_estimate.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from punie_tui.core.demo import bundled_data_dir
from punie_tui.core.demo_model import build_demo_model
from punie_tui.core.training.config import TrainConfig
from punie_tui.core.training.demo_training import write_training_data
from punie_tui.core.training.estimate import ModelShape, estimate_peak
from punie_tui.core.training.events import read_events
from punie_tui.core.training.preflight import token_lengths
from punie_tui.core.training.summary import summarize
from punie_tui.core.training.supervisor import LaunchOptions, supervise

SIZES = [  # hidden, layers, heads, kv heads, ffn
    (64, 2, 2, 1, 256),
    (128, 4, 4, 2, 512),
    (256, 4, 4, 2, 1024),
    (256, 8, 8, 4, 1024),
]

# Real runs (punie-data README and logs). Sequence lengths were not recorded: the estimate uses
# mlx-lm's default max_seq_length 2048, a worst case.
REAL = [
    (
        "Qwen2.5-Coder-7B-4bit lora b2 16L (README)",
        {"hidden_size": 3584, "num_hidden_layers": 28, "intermediate_size": 18944, "vocab_size": 152064,
         "num_attention_heads": 28, "num_key_value_heads": 4, "quantization": {"bits": 4, "group_size": 64}},
        TrainConfig(model="m", batch_size=2, num_layers=16),
        18.493,
    ),
    (
        "Qwen3-Coder-30B-A3B-4bit lora b1 8L (train_phase28.log)",
        {"hidden_size": 2048, "num_hidden_layers": 48, "intermediate_size": 6144, "vocab_size": 151936,
         "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128, "num_experts": 128,
         "num_experts_per_tok": 8, "moe_intermediate_size": 768, "quantization": {"bits": 4, "group_size": 64}},
        TrainConfig(model="m", batch_size=1, num_layers=8),
        21.059,
    ),
    (
        "Qwen2.5-Coder-32B-4bit lora b1 8L (phase26_lsp_training.log)",
        {"hidden_size": 5120, "num_hidden_layers": 64, "intermediate_size": 27648, "vocab_size": 152064,
         "num_attention_heads": 40, "num_key_value_heads": 8, "quantization": {"bits": 4, "group_size": 64}},
        # The log's 8.389M trainable parameters are rank-8 adapters on all projections of 8 layers.
        TrainConfig(model="m", batch_size=1, num_layers=8),
        22.295,
    ),
]


def measure(work: Path, data: Path, size: tuple[int, ...], fine_tune_type: str) -> tuple[float, float, int]:
    hidden, layers, heads, kv, ffn = size
    model = work / f"model-{'-'.join(map(str, size))}"
    if not model.exists():
        build_demo_model(model, hidden_size=hidden, num_layers=layers, num_heads=heads, num_kv_heads=kv, intermediate_size=ffn)
    config = TrainConfig(
        model=str(model), data=str(data), fine_tune_type=fine_tune_type, num_layers=-1, optimizer="adamw",
        batch_size=4, iters=10, learning_rate=1e-4, steps_per_report=5, steps_per_eval=1000, val_batches=1,
        save_every=1000, mask_prompt=True, max_seq_length=1024,
    )
    run_dir = work / f"run-{'-'.join(map(str, size))}-{fine_tune_type}"
    result = supervise(config, LaunchOptions(run_dir=run_dir, allow_concurrent=True))
    if result.status != "finished":
        sys.exit(f"run failed: {result.message} ({run_dir})")
    measured = summarize(read_events(run_dir / "metrics.jsonl"))["peak_memory_gb"]
    longest = max(token_lengths(config, [json.loads(line) for line in (data / "train.jsonl").read_text().splitlines()]))
    estimate = estimate_peak(ModelShape.from_model_dir(model), config, longest).total_gb
    return estimate, measured, longest


def longest_rows(source: Path, out: Path, model: Path, count: int = 16) -> None:
    """Only the longest training rows, so every batch is as wide as the estimate assumes (a short
    run of random batches would otherwise rarely meet the widest one)."""
    rows = [json.loads(line) for line in (source / "train.jsonl").read_text().splitlines()]
    lengths = token_lengths(TrainConfig(model=str(model), mask_prompt=True), rows)
    keep = sorted(range(len(rows)), key=lengths.__getitem__)[-count:]
    out.mkdir()
    text = "".join(json.dumps(rows[i]) + "\n" for i in keep)
    (out / "train.jsonl").write_text(text)
    (out / "valid.jsonl").write_text(text)


def main() -> None:
    print(f"{'model':<58} {'estimate GB':>11} {'measured GB':>11} {'ratio':>6}")
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_training_data(bundled_data_dir() / "examples.jsonl", work / "all")
        data = work / "data"
        longest_rows(work / "all", data, build_demo_model(work / "tokenizer-model"))
        for size in SIZES:
            for kind in ("full", "lora"):
                estimate, measured, longest = measure(work, data, size, kind)
                ratios.append(estimate / measured)
                label = f"demo h{size[0]} L{size[1]} ffn{size[4]} {kind} b4 (longest {longest} tok)"
                print(f"{label:<58} {estimate:>11.3f} {measured:>11.3f} {estimate / measured:>6.2f}")
    for label, config_json, config, measured in REAL:
        estimate = estimate_peak(ModelShape.from_config(config_json), config).total_gb
        print(f"{label:<58} {estimate:>11.2f} {measured:>11.2f} {estimate / measured:>6.2f}")
    print(f"demo models: estimate/measured from {min(ratios):.2f} to {max(ratios):.2f}")


if __name__ == "__main__":
    main()
