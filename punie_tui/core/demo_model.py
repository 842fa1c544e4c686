"""The demo model: a tiny, untrained Qwen2-architecture model built locally around the bundled
tokenizer, so loading, training, chat and eval all run on a CPU without downloading weights.

Builds are cached under the user cache folder, keyed by a hash of the tokenizer files and the build
parameters; mlx is imported only inside `build_demo_model`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from punie_tui.core.atomic import atomic_write_text
from punie_tui.core.demo import bundled_data_dir
from punie_tui.locations import user_cache_dir

# Bump when the files a build writes change, so older cached builds are not reused.
BUILD_VERSION = 1
WEIGHTS_FILE = "model.safetensors"


@dataclass(frozen=True)
class DemoModelSpec:
    """The build parameters; each one changes the cache key."""

    seed: int = 0
    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int = 512
    max_position_embeddings: int = 2048


def bundled_tokenizer_dir() -> Path:
    return bundled_data_dir() / "tokenizer"


def _tokenizer_files(tokenizer: Path) -> list[Path]:
    files = sorted(p for p in tokenizer.iterdir() if p.is_file())
    if not (tokenizer / "tokenizer.json").is_file():
        raise FileNotFoundError(f"{tokenizer}: no tokenizer.json")
    return files


def _token_ids(tokenizer: Path) -> tuple[int, dict[str, int]]:
    """(vocabulary size, ids of the added tokens) from tokenizer.json."""
    data = json.loads((tokenizer / "tokenizer.json").read_text(encoding="utf-8"))
    added = {entry["content"]: entry["id"] for entry in data["added_tokens"]}
    size = max([*data["model"]["vocab"].values(), *added.values()]) + 1
    return size, added


def model_config(spec: DemoModelSpec, vocab_size: int, eos_id: int, pad_id: int) -> dict[str, Any]:
    """config.json of the demo model, in the shape Hugging Face Qwen2 checkpoints use."""
    return {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "hidden_size": spec.hidden_size,
        "num_hidden_layers": spec.num_layers,
        "num_attention_heads": spec.num_heads,
        "num_key_value_heads": spec.num_kv_heads,
        "intermediate_size": spec.intermediate_size,
        "hidden_act": "silu",
        "max_position_embeddings": spec.max_position_embeddings,
        "rms_norm_eps": 1e-6,
        "rope_theta": 1000000.0,
        "tie_word_embeddings": True,
        "vocab_size": vocab_size,
        "bos_token_id": pad_id,
        "eos_token_id": eos_id,
        "torch_dtype": "float32",
    }


def _write_weights(path: Path, config: dict[str, Any], seed: int) -> None:
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.models.qwen2 import Model, ModelArgs

    mx.random.seed(seed)
    model = Model(ModelArgs.from_dict(config))
    mx.eval(model.parameters())
    mx.save_safetensors(str(path), dict(tree_flatten(model.parameters())), metadata={"format": "mlx"})


def build_demo_model(
    out: Path,
    *,
    seed: int = 0,
    hidden_size: int = 128,
    num_layers: int = 4,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    intermediate_size: int = 512,
    max_position_embeddings: int = 2048,
    tokenizer: Path | None = None,
) -> Path:
    """Write a randomly initialised Qwen2 model that `mlx_lm.load(out)` loads; return `out`.

    The folder appears complete or not at all: it is built beside `out` and renamed into place.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out}: already exists and is not empty; choose a new folder")
    spec = DemoModelSpec(seed, hidden_size, num_layers, num_heads, num_kv_heads, intermediate_size, max_position_embeddings)
    tokenizer = Path(tokenizer) if tokenizer is not None else bundled_tokenizer_dir()
    files = _tokenizer_files(tokenizer)
    vocab_size, added = _token_ids(tokenizer)
    eos_id, pad_id = added["<|im_end|>"], added["<|endoftext|>"]
    config = model_config(spec, vocab_size, eos_id, pad_id)

    staging = out.with_name(f".{out.name}.{os.getpid()}.partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        for path in files:
            shutil.copy2(path, staging / path.name)
        atomic_write_text(staging / "config.json", json.dumps(config, indent=2) + "\n", backup=False)
        generation = {"bos_token_id": pad_id, "eos_token_id": [eos_id, pad_id], "pad_token_id": pad_id}
        atomic_write_text(staging / "generation_config.json", json.dumps(generation, indent=2) + "\n", backup=False)
        _write_weights(staging / WEIGHTS_FILE, config, seed)
        if out.exists():
            out.rmdir()
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return out


def demo_model_key(tokenizer: Path | None = None, **params: int) -> str:
    """A content hash of the tokenizer files and the build parameters (defaults filled in)."""
    tokenizer = Path(tokenizer) if tokenizer is not None else bundled_tokenizer_dir()
    digest = hashlib.sha256(f"punie demo model v{BUILD_VERSION}\n".encode())
    digest.update(json.dumps(asdict(DemoModelSpec(**params)), sort_keys=True).encode())
    for path in _tokenizer_files(tokenizer):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def demo_model_cache_dir(tokenizer: Path | None = None, **params: int) -> Path:
    """Where the demo model built from these inputs is cached (it may not exist yet)."""
    return user_cache_dir() / "demo-model" / demo_model_key(tokenizer, **params)


def is_complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in ("config.json", "tokenizer.json", WEIGHTS_FILE))


def ensure_demo_model(tokenizer: Path | None = None, **params: int) -> Path:
    """The cached demo model for these inputs, built first if it is not there yet."""
    folder = demo_model_cache_dir(tokenizer, **params)
    if is_complete(folder):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        return build_demo_model(folder, tokenizer=tokenizer, **params)
    except OSError:
        # Another process finished the same build first; its result is identical.
        if is_complete(folder):
            return folder
        raise
