"""Train the demo model: the recipe, the training rows from the demo examples, fusing, caching.

Full fine-tune through the same runner as any real run (AdamW, lr 1e-3 with linear warmup and
cosine decay, batch 4, mask_prompt). Each tool conversation also gives a row that ends at the
tool call, so the model sees the decision point as a training target of its own.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from punie_tui.core.atomic import atomic_write_text
from punie_tui.core.training.config import LrSchedule, TrainConfig
from punie_tui.core.training.supervisor import LaunchOptions, RunResult, supervise
from punie_tui.locations import user_cache_dir, user_data_dir

# Bump when the recipe or the row making changes, so cached trained models are rebuilt.
RECIPE_VERSION = 1
DEFAULT_ITERS = 1000
VALID_SHARE = 0.1
TRAINING_FILE = "punie_training.json"


class DemoTrainingError(RuntimeError):
    """Training the demo model did not finish; the message names the run folder and the cause."""


def _is_tool_call(message: dict[str, Any]) -> bool:
    return message.get("role") == "assistant" and "<tool_call>" in str(message.get("content", ""))


def training_rows(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """The conversation, plus (for a tool conversation) the same cut after its first tool call."""
    messages = conversation["messages"]
    rows = [{"messages": messages}]
    for index, message in enumerate(messages):
        if _is_tool_call(message):
            if index + 1 < len(messages):
                rows.append({"messages": messages[: index + 1]})
            break
    return rows


def write_training_data(examples: Path, out: Path, *, seed: int = 0, batch_size: int = 4) -> tuple[int, int]:
    """Split conversations (not rows, so no conversation leaks into both) and write train/valid."""
    conversations = [json.loads(line) for line in examples.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(seed).shuffle(conversations)
    n_valid = max(batch_size, round(len(conversations) * VALID_SHARE))
    splits = {"valid": conversations[:n_valid], "train": conversations[n_valid:]}
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, items in splits.items():
        rows = [row for conversation in items for row in training_rows(conversation)]
        atomic_write_text(out / f"{name}.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), backup=False)
        counts[name] = len(rows)
    return counts["train"], counts["valid"]


def recipe(model: Path, data: Path, iters: int, seed: int = 0) -> TrainConfig:
    warmup = min(50, max(1, iters // 10))
    return TrainConfig(
        model=str(model),
        data=str(data),
        fine_tune_type="full",
        num_layers=-1,
        optimizer="adamw",
        batch_size=4,
        iters=iters,
        learning_rate=1e-3,
        lr_schedule=LrSchedule(name="cosine_decay", arguments=[1e-3, iters, 1e-5], warmup=warmup),
        mask_prompt=True,
        max_seq_length=1024,
        steps_per_report=10,
        steps_per_eval=max(10, iters // 5),
        val_batches=-1,
        save_every=iters,
        seed=seed,
    )


def fuse_full_weights(base: Path, adapters: Path, out: Path) -> None:
    """Write `base` with the fine-tuned weights of `adapters` into `out` (a model mlx_lm.load loads)."""
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.utils import load_model

    model, _ = load_model(base)
    model.load_weights(str(adapters), strict=False)
    mx.eval(model.parameters())
    for path in base.iterdir():
        if path.is_file() and not path.name.endswith(".safetensors") and path.name != "model.safetensors.index.json":
            shutil.copy2(path, out / path.name)
    mx.save_safetensors(str(out / "model.safetensors"), dict(tree_flatten(model.parameters())), metadata={"format": "mlx"})


def train_demo_model(
    out: Path,
    *,
    iters: int = DEFAULT_ITERS,
    examples: Path | None = None,
    run_dir: Path | None = None,
    seed: int = 0,
) -> RunResult:
    """Build the untrained demo model, fine-tune it with the runner, and leave the fused model in `out`."""
    from punie_tui.core.demo import bundled_data_dir
    from punie_tui.core.demo_model import build_demo_model

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out}: already exists and is not empty; choose a new folder")
    examples = examples or bundled_data_dir() / "examples.jsonl"
    work = out.with_name(f".{out.name}.{os.getpid()}.work")
    if work.exists():
        shutil.rmtree(work)
    try:
        base = build_demo_model(work / "base", seed=seed)
        write_training_data(examples, work / "data", seed=seed)
        run_dir = Path(run_dir) if run_dir is not None else work / "run"
        # The demo model needs well under 1 GB: it does not take the machine's run lock, so tests
        # and screens that need it are not blocked by a real run.
        result = supervise(recipe(base, work / "data", iters, seed), LaunchOptions(run_dir=run_dir, allow_concurrent=True))
        if result.status != "finished":
            raise DemoTrainingError(f"training the demo model failed ({result.cause}): {result.message}; see {run_dir}")
        staging = work / "fused"
        staging.mkdir()
        fuse_full_weights(base, run_dir / "adapters" / "adapters.safetensors", staging)
        info = {"iters": iters, "seed": seed, "recipe_version": RECIPE_VERSION, "run_dir": str(run_dir)}
        atomic_write_text(staging / TRAINING_FILE, json.dumps(info, indent=2) + "\n", backup=False)
        if out.exists():
            out.rmdir()
        staging.rename(out)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def demo_model_install_dir() -> Path:
    """Where the screens build the trained demo model for a user's demo workspace."""
    return user_data_dir() / "demo-model"


def trained_demo_model_installed() -> bool:
    """Whether the screens' trained demo model is there (a finished build writes TRAINING_FILE last)."""
    return (demo_model_install_dir() / TRAINING_FILE).exists()


def start_demo_model_build(iters: int = DEFAULT_ITERS) -> tuple[subprocess.Popen, Path]:
    """Start `punie-tui demo-model --train` into the install folder; return the process and its run
    folder, whose metrics.jsonl shows its progress (its output goes to `<run folder>.log`).
    A process of its own, like every training."""
    out = demo_model_install_dir()
    run_dir = out.with_name("demo-model-runs") / time.strftime("%Y%m%d-%H%M%S")
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    # Its output goes to a file beside the run: a pipe nobody reads would fill and stall the build.
    with open(run_dir.with_suffix(".log"), "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "punie_tui", "demo-model", str(out), "--train", "--iters", str(iters), "--run-dir", str(run_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, run_dir


def trained_demo_model_key(iters: int = DEFAULT_ITERS, examples: Path | None = None, seed: int = 0) -> str:
    """Content hash of everything the trained model depends on: base model, examples, recipe."""
    from punie_tui.core.demo import bundled_data_dir
    from punie_tui.core.demo_model import demo_model_key

    examples = examples or bundled_data_dir() / "examples.jsonl"
    digest = hashlib.sha256(f"punie trained demo model v{RECIPE_VERSION}\n".encode())
    digest.update(demo_model_key(seed=seed).encode())
    digest.update(recipe(Path("m"), Path("d"), iters, seed).to_yaml().encode())
    digest.update(examples.read_bytes())
    return digest.hexdigest()[:16]


def trained_demo_model_dir(iters: int = DEFAULT_ITERS, seed: int = 0) -> Path:
    return user_cache_dir() / "demo-model-trained" / trained_demo_model_key(iters, seed=seed)


def ensure_trained_demo_model(iters: int = DEFAULT_ITERS, seed: int = 0) -> Path:
    """The cached trained demo model, trained first if missing; concurrent callers wait for one build.

    The build's run folder is kept beside it (`<key>.run`), to look at how it trained.
    """
    folder = trained_demo_model_dir(iters, seed)
    folder.parent.mkdir(parents=True, exist_ok=True)
    if (folder / TRAINING_FILE).exists():
        return folder
    with open(folder.with_name(folder.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / TRAINING_FILE).exists():
            return folder
        if folder.exists():
            shutil.rmtree(folder)
        run_dir = folder.with_name(folder.name + ".run")
        if run_dir.exists():
            shutil.rmtree(run_dir)
        train_demo_model(folder, iters=iters, run_dir=run_dir, seed=seed)
    return folder
