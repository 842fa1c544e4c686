"""Token counts: the chat-template rendering counted exactly as the HF tokenizer counts it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from punie_tui.config import open_workspace
from punie_tui.core.dataset import load_dataset, load_datasets
from punie_tui.core.demo import bundled_data_dir
from punie_tui.core.labels import Label, with_label
from punie_tui.core.tokens import (
    COUNT_SEPARATOR,
    HFEngine,
    TiktokenEngine,
    build_tiktoken,
    count_tokens,
    load_hf_tokenizer,
    pick_engine,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "domain_ws" / "domain_examples.jsonl"
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
ADDED = ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]
QWEN_SPLIT = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
# A ChatML template that lists tools and renders OpenAI tool calls, as Qwen2.5's does.
TEMPLATE = (
    "{%- if tools %}<|im_start|>system\nTools:{% for t in tools %}\n{{ t | tojson }}{% endfor %}<|im_end|>\n{% endif %}"
    "{%- for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content or '' }}"
    "{%- for c in m.tool_calls or [] %}\n<tool_call>\n{{ c.function | tojson }}\n</tool_call>{% endfor %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _train_tokenizer(folder: Path, pre_tokenizer: str) -> Path:
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFC()
    if pre_tokenizer == "qwen":
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
        )
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL])
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in ADDED])
    trainer = trainers.BpeTrainer(
        vocab_size=800, min_frequency=2, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator([line for line in FIXTURE.read_text().splitlines()], trainer=trainer)
    folder.mkdir(parents=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {"chat_template": TEMPLATE, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "bos_token": None}
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def bpe_dir(tmp_path_factory) -> Path:
    """A small byte-level BPE with Qwen's split pattern and special tokens, trained here."""
    return _train_tokenizer(tmp_path_factory.mktemp("tok") / "bpe", "qwen")


def _hf_reference(tokenizer, record) -> int:
    # What mlx-lm's ChatDataset does with a record.
    return len(tokenizer.apply_chat_template(record.data["messages"], tools=record.data.get("tools"), return_dict=False))


def _with_tools_and_calls(records_path: Path, out: Path) -> Path:
    """The fixture examples, every other one with a `tools` list and an OpenAI tool call."""
    lines = []
    for number, line in enumerate(records_path.read_text().splitlines()):
        data = json.loads(line)
        if number % 2:
            data["tools"] = [{"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}]
            data["messages"].append(
                {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "read_file", "arguments": {"path": "é.py"}}}]}
            )
        lines.append(json.dumps(data, ensure_ascii=False))
    out.write_text("\n".join(lines) + "\n")
    return out


def test_counts_equal_the_hf_tokenizer_on_every_example(bpe_dir, tmp_path):
    records = load_dataset(_with_tools_and_calls(FIXTURE, tmp_path / "ex.jsonl")).records
    result = count_tokens(records, bpe_dir, tmp_path / ".punie")
    tokenizer = load_hf_tokenizer(bpe_dir)
    assert result.counts == [_hf_reference(tokenizer, r) for r in records]
    assert result.engine in ("tiktoken", "hf")


def test_counts_equal_the_hf_tokenizer_on_every_demo_example(tmp_path):
    folder = bundled_data_dir() / "tokenizer"
    if not (folder / "tokenizer.json").exists():
        pytest.skip("the demo tokenizer (data/tokenizer/) is not in this checkout yet")
    records = [r for ds in load_datasets([bundled_data_dir()]) for r in ds.records if r.shape == "messages"]
    result = count_tokens(records, folder, tmp_path / ".punie")
    tokenizer = load_hf_tokenizer(folder)
    assert records
    assert result.counts == [_hf_reference(tokenizer, r) for r in records]


def test_counts_equal_the_hf_tokenizer_on_the_real_datasets(bpe_dir, punie_data, tmp_path):
    records = [r for ds in load_datasets([punie_data]) for r in ds.records if r.shape == "messages"]
    result = count_tokens(records, bpe_dir, None)
    tokenizer = load_hf_tokenizer(bpe_dir)
    assert result.counts == [_hf_reference(tokenizer, r) for r in records]


def test_counts_made_in_forked_processes_equal_the_hf_tokenizer(bpe_dir, tmp_path, monkeypatch):
    from punie_tui.core import parallel, tokens

    forked = []

    class Counted(parallel.Forked):
        def __init__(self, *args) -> None:
            forked.append(1)
            super().__init__(*args)

    # Parts of three examples over three "cores": hashing and counting both go to forked processes.
    monkeypatch.setattr(tokens, "MIN_FORKED_PART", 3)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 3)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    monkeypatch.setattr(parallel, "Forked", Counted)
    records = load_dataset(_with_tools_and_calls(FIXTURE, tmp_path / "ex.jsonl")).records
    result = count_tokens(records, bpe_dir, tmp_path / ".punie")
    tokenizer = load_hf_tokenizer(bpe_dir)
    assert result.engine == "tiktoken" and len(forked) == 4
    assert result.counts == [_hf_reference(tokenizer, r) for r in records]


def test_tiktoken_is_picked_when_exact_on_a_byte_level_bpe(bpe_dir):
    tokenizer = load_hf_tokenizer(bpe_dir)
    sample = [tokenizer.apply_chat_template(json.loads(line)["messages"], tokenize=False) for line in FIXTURE.read_text().splitlines()]
    engine, reason = pick_engine(tokenizer, sample)
    assert isinstance(engine, TiktokenEngine), reason
    assert engine.count(sample) == HFEngine(tokenizer).count(sample)


def test_a_batch_counted_in_one_call_equals_each_text_counted_alone(bpe_dir):
    tokenizer = load_hf_tokenizer(bpe_dir)
    engine = build_tiktoken(json.loads(tokenizer.backend_tokenizer.to_str()))
    texts = [
        "<|im_start|>user\nhi<|im_end|>\n", "", "  two  spaces  ", "<|endoftext|>", "x\n\n", "end without newline",
        "<tool_call>\n{\"name\": \"read_file\"}\n</tool_call>", "é" * 30,
    ]
    alone = [engine.count_batch([text])[0] for text in texts]
    assert engine.count_batch(texts) == alone == HFEngine(tokenizer).count(texts)
    # A text holding punie's own separator is counted text by text, the separator as text.
    odd = [*texts, f"a {COUNT_SEPARATOR} b"]
    assert engine.count_batch(odd) == HFEngine(tokenizer).count(odd)


def test_tiktoken_is_refused_where_its_merge_rule_differs_from_hf():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    # "abc" is made from "ab"+"c", but "b"+"c" merges first: HF stops at [a, bc], while tiktoken
    # takes the whole word "abc" because it is in the vocabulary.
    vocab = {"a": 0, "b": 1, "c": 2, "bc": 3, "ab": 4, "abc": 5}
    bpe = Tokenizer(models.BPE(vocab=vocab, merges=[("b", "c"), ("a", "b"), ("ab", "c")]))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe)
    converted = build_tiktoken(json.loads(tokenizer.backend_tokenizer.to_str()))
    assert (converted.count(["abc"]), HFEngine(tokenizer).count(["abc"])) == ([1], [2])
    engine, reason = pick_engine(tokenizer, ["abc"])
    assert isinstance(engine, HFEngine)
    assert "differed" in reason


def test_a_tokenizer_tiktoken_cannot_express_falls_back_to_hf_with_exact_counts(tmp_path):
    folder = _train_tokenizer(tmp_path / "meta", "metaspace")
    tokenizer = load_hf_tokenizer(folder)
    engine, reason = pick_engine(tokenizer, ["hello world"])
    assert isinstance(engine, HFEngine)
    assert "cannot express" in reason
    records = load_dataset(FIXTURE).records
    result = count_tokens(records, folder, None)
    assert result.engine == "hf"
    assert result.counts == [_hf_reference(tokenizer, r) for r in records]


def test_a_warm_recount_comes_from_the_cache_without_the_tokenizer(bpe_dir, tmp_path):
    dataset = load_dataset(FIXTURE)
    first = count_tokens(dataset.records, bpe_dir, tmp_path / ".punie")
    again = count_tokens(dataset.records, bpe_dir, tmp_path / ".punie")
    assert (again.engine, again.cached, again.counts) == ("cache", 66, first.counts)
    # Labelling changes the line but not what is counted; editing the example does.
    dataset.replace(0, with_label(dataset.records[0].data, Label("tool")))
    assert count_tokens(dataset.records, bpe_dir, tmp_path / ".punie").cached == 66
    edited = json.loads(dataset.records[0].raw)
    edited["messages"][1]["content"] += " more words"
    dataset.replace(0, edited)
    recount = count_tokens(dataset.records, bpe_dir, tmp_path / ".punie")
    assert recount.cached == 65
    assert recount.counts[0] > first.counts[0]


@pytest.mark.slow
def test_stats_json_has_the_documented_shape_and_counts_pending_labels(domain_workspace, bpe_dir):
    import subprocess
    import sys

    from punie_tui.core.labelled import open_labelled_datasets

    # Journaled, not saved: stats must still see them.
    session = open_labelled_datasets(open_workspace(domain_workspace))
    session.set_label(0, "tool")
    session.set_label(1, "skip")
    session.set_category(1, "how-to")
    session.close()
    done = subprocess.run(
        [sys.executable, "-m", "punie_tui", "stats", str(domain_workspace), "--json", "--model", str(bpe_dir)],
        capture_output=True, text=True, check=True,
    )
    stats = json.loads(done.stdout)
    assert list(stats) == ["records", "labels", "content", "categories", "formats", "tokens", "over_max_seq"]
    assert stats["records"] == 66
    assert stats["labels"] == {"tool": 1, "direct": 0, "skip": 1, "unlabelled": 64}
    assert stats["categories"] == {"how-to": 1}
    assert stats["content"] == {"tool": 16, "direct": 50}
    assert stats["formats"] == {"json-fence": 16}
    assert list(stats["tokens"]) == ["total", "min", "median", "p95", "max"]
    tokenizer = load_hf_tokenizer(bpe_dir)
    expected = [_hf_reference(tokenizer, r) for r in load_dataset(domain_workspace / "domain_examples.jsonl").records]
    assert stats["tokens"]["total"] == sum(expected)
    assert stats["tokens"]["max"] == max(expected)
    max_seq = open_workspace(domain_workspace).settings.max_seq_length
    assert stats["over_max_seq"] == sum(n > max_seq for n in expected)


@pytest.mark.slow
def test_stats_adds_up_several_paths_and_marks_the_bundled_tokenizer_approximate(domain_workspace, tmp_path):
    import shutil
    import subprocess
    import sys

    if not (bundled_data_dir() / "tokenizer" / "tokenizer.json").exists():
        pytest.skip("the demo tokenizer (data/tokenizer/) is not in this checkout yet")
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(domain_workspace / "domain_examples.jsonl", other / "copy.jsonl")
    done = subprocess.run(
        [sys.executable, "-m", "punie_tui", "stats", str(domain_workspace), str(other / "copy.jsonl"), "--json"],
        capture_output=True, text=True, check=True,
    )
    assert json.loads(done.stdout)["records"] == 132
    assert "token counts are approximate" in done.stderr
