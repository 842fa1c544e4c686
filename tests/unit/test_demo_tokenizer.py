"""The demo tokenizer in data/tokenizer: loads with transformers, keeps its markers whole and renders
chats exactly like Qwen2.5's ChatML template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOKENIZER_DIR = REPO / "data" / "tokenizer"
MARKERS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(TOKENIZER_DIR)


def _first_tool_example() -> list[dict]:
    for line in (REPO / "data" / "examples.jsonl").read_text(encoding="utf-8").splitlines():
        messages = json.loads(line)["messages"]
        if len(messages) == 5:
            return messages
    raise AssertionError("examples.jsonl has no tool example")


def test_tokenizer_loads_as_a_qwen2_tokenizer_of_about_1500_tokens(tokenizer) -> None:
    assert type(tokenizer).__name__ == "Qwen2Tokenizer"
    assert 1400 <= len(tokenizer) <= 1600


def test_each_special_and_tool_token_encodes_to_exactly_one_id(tokenizer) -> None:
    ids = [tokenizer.encode(marker, add_special_tokens=False) for marker in MARKERS]
    assert all(len(one) == 1 for one in ids), dict(zip(MARKERS, ids))
    assert len({one[0] for one in ids}) == len(MARKERS)


def test_eos_is_im_end_and_pad_is_endoftext(tokenizer) -> None:
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token == "<|endoftext|>"


def test_tool_tags_survive_decoding_without_special_tokens(tokenizer) -> None:
    # A tool-call parser reads decoded text, so the tags must not be dropped as special tokens.
    text = '<tool_call>\n{"name": "read_file", "arguments": {"path": "x"}}\n</tool_call>'
    assert tokenizer.decode(tokenizer.encode(text), skip_special_tokens=True) == text


def test_chat_template_renders_a_tool_example_as_chatml_with_a_tool_response_turn(tokenizer) -> None:
    system, user, call, result, answer = _first_tool_example()
    expected = (
        f"<|im_start|>system\n{system['content']}<|im_end|>\n"
        f"<|im_start|>user\n{user['content']}<|im_end|>\n"
        f"<|im_start|>assistant\n{call['content']}<|im_end|>\n"
        f"<|im_start|>user\n<tool_response>\n{result['content']}\n</tool_response><|im_end|>\n"
        f"<|im_start|>assistant\n{answer['content']}<|im_end|>\n"
    )
    rendered = tokenizer.apply_chat_template([system, user, call, result, answer], tokenize=False)
    assert rendered == expected
    assert tokenizer.decode(tokenizer.encode(rendered, add_special_tokens=False)) == expected


def test_chat_template_renders_openai_tool_calls_like_qwen25(tokenizer) -> None:
    messages = [
        {"role": "user", "content": "Read the Makefile."},
        {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "read_file", "arguments": {"path": "Makefile"}}}]},
    ]
    rendered = tokenizer.apply_chat_template(messages, tokenize=False)
    assert rendered.endswith(
        '<|im_start|>assistant\n<tool_call>\n{"name": "read_file", "arguments": {"path": "Makefile"}}\n</tool_call><|im_end|>\n'
    )
    assert rendered.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n")


def test_chat_template_lists_tools_in_the_system_turn_and_prompts_the_assistant(tokenizer) -> None:
    tools = json.loads((REPO / "data" / "tools.json").read_text(encoding="utf-8"))
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    rendered = tokenizer.apply_chat_template(messages, tools=tools, tokenize=False, add_generation_prompt=True)
    assert rendered.startswith("<|im_start|>system\nBe brief.\n\n# Tools\n")
    assert rendered.count('{"type": "function"') == 3
    assert rendered.endswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
