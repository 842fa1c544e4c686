"""The tokenizer gate on the demo model (passes) and on copies broken the ways that stop a model
switch: a `</tool_call>` split into several tokens, EOS ids that disagree, a template that breaks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from punie_tui.config import open_workspace
from punie_tui.core.gate import render_text, run_gate

pytestmark = pytest.mark.slow


def punie(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "punie_tui", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.fixture()
def split_end_model(demo_model: Path, tmp_path: Path) -> Path:
    """The demo model's tokenizer and configs with `</tool_call>` no longer an added token."""
    folder = tmp_path / "split"
    folder.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "config.json", "generation_config.json"):
        shutil.copy(demo_model / name, folder / name)
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    tokenizer["added_tokens"] = [t for t in tokenizer["added_tokens"] if t["content"] != "</tool_call>"]
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["added_tokens_decoder"] = {k: v for k, v in config["added_tokens_decoder"].items() if v["content"] != "</tool_call>"}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def test_gate_passes_on_the_demo_model_and_exits_0(demo_model, demo_workspace):
    done = punie("gate", str(demo_workspace), "--model", str(demo_model))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ PASS: '<tool_call>'\n  Token IDs: [3]\n  Count: 1 token" in done.stdout
    assert "✓ PASS: '</tool_call>'\n  Token IDs: [4]\n  Count: 1 token" in done.stdout
    for marker in ("<|im_end|>", "<tool_response>", "</tool_response>"):
        assert f"✓ PASS: '{marker}'" in done.stdout
    assert "✓ GATE PASSED" in done.stdout
    data = json.loads(punie("gate", str(demo_workspace), "--model", str(demo_model), "--json").stdout)
    assert data["passed"] is True and data["template"]["examples"] > 200
    assert data["eos"] == {"passed": True, "config": [2], "generation_config": [2, 0], "tokenizer": 2}


def test_gate_fails_with_the_ids_of_a_split_tool_call_end(split_end_model, demo_workspace):
    from transformers import PreTrainedTokenizerFast

    pieces = PreTrainedTokenizerFast(tokenizer_file=str(split_end_model / "tokenizer.json")).encode("</tool_call>", add_special_tokens=False)
    assert len(pieces) > 1
    done = punie("gate", str(demo_workspace), "--model", str(split_end_model))
    assert done.returncode == 1
    assert f"✗ FAIL: '</tool_call>'\n  Token IDs: {pieces}\n  Count: {len(pieces)} tokens" in done.stdout
    assert "✓ PASS: '<tool_call>'" in done.stdout
    assert done.stdout.rstrip().endswith("✗ GATE FAILED\nFailed delimiters: </tool_call>")


def test_gate_fails_when_eos_ids_disagree(demo_model, demo_workspace, tmp_path):
    folder = tmp_path / "eos"
    folder.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "config.json"):
        shutil.copy(demo_model / name, folder / name)
    # A base model's generation config stops on <|endoftext|> only: a chat would never stop.
    (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": 0}))
    result = run_gate(folder, open_workspace(demo_workspace))
    assert not result.passed and all(d.passed for d in result.delimiters) and result.template.passed
    assert result.eos.generation_config == [0] and result.eos.tokenizer == 2
    assert "✗ FAIL: EOS ids agree\n  config.json: [2]\n  generation_config.json: [0]\n  tokenizer: 2" in render_text(result)


def test_gate_fails_when_the_template_cannot_render_an_example(demo_model, demo_workspace, tmp_path):
    folder = tmp_path / "template"
    folder.mkdir()
    for name in ("tokenizer.json", "config.json", "generation_config.json"):
        shutil.copy(demo_model / name, folder / name)
    config = json.loads((demo_model / "tokenizer_config.json").read_text())
    config["chat_template"] = config["chat_template"].replace("message.content", "message.content.missing()")
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    result = run_gate(folder, open_workspace(demo_workspace))
    assert not result.template.passed
    where, detail = result.template.failures[0]
    assert where.endswith("examples.jsonl:1") and detail.startswith("the chat template fails:")


def test_gate_on_a_missing_or_tokenizerless_folder_is_unusable_input(demo_workspace, tmp_path):
    done = punie("gate", str(demo_workspace), "--model", str(tmp_path / "nothing"))
    assert done.returncode == 2 and "nothing: no such model folder" in done.stderr
    # A Hugging Face id is fetched (configs and tokenizer only); offline and uncached it cannot be.
    done = punie("gate", str(demo_workspace), "--model", "nobody/no-such-model", env={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hf")})
    assert done.returncode == 2 and "nobody/no-such-model: cannot fetch its tokenizer from the Hugging Face hub" in done.stderr
    done = punie("gate", str(demo_workspace), "--model", str(tmp_path))
    assert done.returncode == 2 and f"{tmp_path}: no tokenizer.json or tokenizer_config.json" in done.stderr


def test_a_template_without_tool_calls_is_checked_with_the_target_formats_delimiters(demo_model, demo_workspace, tmp_path):
    folder = tmp_path / "plain-template"
    folder.mkdir()
    for name in ("tokenizer.json", "config.json", "generation_config.json"):
        shutil.copy(demo_model / name, folder / name)
    config = json.loads((demo_model / "tokenizer_config.json").read_text())
    config["chat_template"] = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    result = run_gate(folder, open_workspace(demo_workspace))
    # mlx-lm finds no tool parser in this template; the workspace's qwen25-json delimiters are checked,
    # and the tool-result markers the template never writes are not.
    assert [check.text for check in result.delimiters] == ["<tool_call>", "</tool_call>", "<|im_end|>"]
    assert result.passed
