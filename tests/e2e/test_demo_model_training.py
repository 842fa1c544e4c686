"""The demo model built, trained through the runner, loaded by mlx-lm and generating."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _first_reply(model_dir: Path, messages: list[dict], max_tokens: int = 60) -> str:
    from mlx_lm import generate, load

    model, tokenizer = load(str(model_dir))
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True)
    return generate(model, tokenizer, prompt=prompt, max_tokens=max_tokens)


def test_trained_demo_model_calls_tools_for_tool_prompts_and_answers_direct_ones(trained_demo_model: Path) -> None:
    from mlx_lm import generate, load

    model, tokenizer = load(str(trained_demo_model))
    rows = [json.loads(line) for line in (REPO / "data" / "examples.jsonl").read_text(encoding="utf-8").splitlines()[:12]]
    right = valid_calls = calls = 0
    for row in rows:
        messages = row["messages"]
        wants_tool = any("<tool_call>" in m.get("content", "") for m in messages if m["role"] == "assistant")
        prompt = tokenizer.apply_chat_template(messages[:2], add_generation_prompt=True)
        reply = generate(model, tokenizer, prompt=prompt, max_tokens=60)
        right += wants_tool == ("<tool_call>" in reply)
        if reply.startswith("<tool_call>\n{"):
            calls += 1
            head = reply.split("\n", 1)[1]
            valid_calls += head.startswith('{"name": "') and '"arguments": {' in head
    # It memorises its training prompts (the measurement: 100% on training prompts).
    assert right >= 11, f"{right}/12 tool-or-direct decisions right"
    assert calls and valid_calls == calls


def test_demo_model_command_builds_an_untrained_model_that_mlx_lm_loads(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "punie_tui", "demo-model", str(out), "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"model": str(out), "trained": False}
    reply = _first_reply(out, [{"role": "user", "content": "hello"}], max_tokens=5)
    assert isinstance(reply, str)


def test_demo_model_command_trains_and_leaves_a_fused_model(tmp_path: Path) -> None:
    import mlx.core as mx

    from punie_tui.core.training.events import read_events

    out, run_dir = tmp_path / "trained", tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "punie_tui", "demo-model", str(out), "--train", "--iters", "10", "--run-dir", str(run_dir), "--json"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["trained"] is True
    assert json.loads((out / "punie_training.json").read_text())["iters"] == 10
    assert read_events(run_dir / "metrics.jsonl")[-1].type == "finished"
    untrained = tmp_path / "untrained"
    subprocess.run([sys.executable, "-m", "punie_tui", "demo-model", str(untrained)], check=True, capture_output=True)
    trained_weights = mx.load(str(out / "model.safetensors"))
    base_weights = mx.load(str(untrained / "model.safetensors"))
    key = "model.layers.0.self_attn.q_proj.weight"
    assert not mx.allclose(trained_weights[key], base_weights[key]).item()
    # Embeddings are not among mlx-lm's trained layers: they stay as built.
    assert mx.array_equal(trained_weights["model.embed_tokens.weight"], base_weights["model.embed_tokens.weight"]).item()
    assert _first_reply(out, [{"role": "user", "content": "hello"}], max_tokens=5) is not None
