"""The untrained demo model: built from the bundled tokenizer, loadable by mlx-lm, cached by content."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from punie_tui.core.demo_model import (
    build_demo_model,
    bundled_tokenizer_dir,
    demo_model_cache_dir,
    demo_model_key,
    ensure_demo_model,
)


def _load_and_generate(folder: Path, tokens: int) -> list:
    from mlx_lm import load, stream_generate

    model, tokenizer = load(str(folder))
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Where is load_dataset?"}], add_generation_prompt=True)
    return list(stream_generate(model, tokenizer, prompt, max_tokens=tokens))


def test_cache_key_is_stable_and_changes_with_every_build_parameter() -> None:
    assert demo_model_key() == demo_model_key(seed=0, hidden_size=128, num_layers=4)
    keys = {
        demo_model_key(),
        demo_model_key(seed=1),
        demo_model_key(hidden_size=64),
        demo_model_key(num_layers=2),
        demo_model_key(intermediate_size=256),
    }
    assert len(keys) == 5


def test_cache_key_changes_when_a_tokenizer_file_changes(tmp_path: Path) -> None:
    copy = tmp_path / "tokenizer"
    shutil.copytree(bundled_tokenizer_dir(), copy)
    assert demo_model_key(copy) == demo_model_key()
    config = copy / "tokenizer_config.json"
    config.write_text(config.read_text(encoding="utf-8").replace('"model_max_length": 2048', '"model_max_length": 4096'))
    assert demo_model_key(copy) != demo_model_key()


def test_cache_dir_is_under_the_user_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = demo_model_cache_dir()
    assert folder == tmp_path / "punie-tui" / "demo-model" / demo_model_key()


def test_build_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        build_demo_model(tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_importing_the_module_does_not_import_mlx() -> None:
    code = "import sys, punie_tui.core.demo_model; print(any(m.split('.')[0] in ('mlx', 'mlx_lm') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_build_writes_a_qwen2_model_that_mlx_lm_loads_and_generates_five_tokens(tmp_path: Path) -> None:
    folder = build_demo_model(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    added = {entry["content"]: entry["id"] for entry in tokenizer["added_tokens"]}
    assert config["model_type"] == "qwen2"
    assert (config["hidden_size"], config["num_hidden_layers"], config["intermediate_size"]) == (128, 4, 512)
    assert (config["num_attention_heads"], config["num_key_value_heads"]) == (4, 2)
    assert config["tie_word_embeddings"] is True and config["max_position_embeddings"] == 2048
    assert config["vocab_size"] == len(tokenizer["model"]["vocab"])
    assert config["eos_token_id"] == added["<|im_end|>"]
    assert (folder / "tokenizer_config.json").read_bytes() == (bundled_tokenizer_dir() / "tokenizer_config.json").read_bytes()
    assert not list(tmp_path.glob(".*partial"))

    responses = _load_and_generate(folder, 5)
    assert len(responses) == 5
    assert responses[-1].generation_tokens == 5


@pytest.mark.slow
def test_ensure_demo_model_builds_once_then_reuses_the_cached_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = ensure_demo_model(num_layers=2)
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    again = ensure_demo_model(num_layers=2)
    assert again == first == demo_model_cache_dir(num_layers=2)
    assert (again / "model.safetensors").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_the_shared_demo_model_fixture_loads_with_mlx_lm(demo_model: Path) -> None:
    from mlx_lm import load

    model, tokenizer = load(str(demo_model))
    assert tokenizer.has_tool_calling and tokenizer.tool_call_start == "<tool_call>"
    assert set(tokenizer.eos_token_ids) == {tokenizer.convert_tokens_to_ids("<|im_end|>"), tokenizer.convert_tokens_to_ids("<|endoftext|>")}
