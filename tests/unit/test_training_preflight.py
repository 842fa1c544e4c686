"""Preflight: what mlx-lm reports late or never, reported before launch with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from punie_tui.core.training.config import TrainConfig
from punie_tui.core.training.preflight import preflight

ROW = json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})


def _model(tmp_path: Path, layers: int = 4) -> Path:
    model = tmp_path / "model"
    model.mkdir()
    config = {
        "hidden_size": 64,
        "num_hidden_layers": layers,
        "intermediate_size": 128,
        "vocab_size": 500,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "tie_word_embeddings": True,
    }
    (model / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return model


def _data(tmp_path: Path, **splits: int) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name, count in splits.items():
        (data / f"{name}.jsonl").write_text("".join(ROW + "\n" for _ in range(count)), encoding="utf-8")
    return data


def _codes(config: TrainConfig) -> list[str]:
    return [f.code for f in preflight(config, count_tokens=False).findings]


def test_clean_config_passes_with_a_worst_case_estimate_without_token_counts(tmp_path: Path) -> None:
    config = TrainConfig(model=str(_model(tmp_path)), data=str(_data(tmp_path, train=8, valid=4)), num_layers=4)
    report = preflight(config, count_tokens=False)
    assert report.ok and report.findings == []
    assert report.estimate.sequence_length == config.max_seq_length
    assert report.estimate.total_gb > report.estimate.weights_gb > 0


def test_missing_train_split_is_an_error(tmp_path: Path) -> None:
    config = TrainConfig(model=str(_model(tmp_path)), data=str(_data(tmp_path, valid=4)), num_layers=4)
    assert _codes(config) == ["train-missing"]


def test_valid_smaller_than_the_batch_is_an_error(tmp_path: Path) -> None:
    config = TrainConfig(model=str(_model(tmp_path)), data=str(_data(tmp_path, train=8, valid=3)), num_layers=4, batch_size=4)
    assert _codes(config) == ["valid-smaller-than-batch"]


def test_test_requested_without_test_jsonl_is_an_error(tmp_path: Path) -> None:
    config = TrainConfig(model=str(_model(tmp_path)), data=str(_data(tmp_path, train=8, valid=4)), num_layers=4, test=True)
    assert _codes(config) == ["test-missing"]


def test_more_layers_than_the_model_has_is_an_error(tmp_path: Path) -> None:
    config = TrainConfig(model=str(_model(tmp_path, layers=4)), data=str(_data(tmp_path, train=8, valid=4)), num_layers=16)
    report = preflight(config, count_tokens=False)
    assert [f.code for f in report.findings] == ["too-many-layers"]
    assert "num_layers 16 but the model has 4 layers" in report.findings[0].message


def test_broken_json_line_is_reported_with_its_line(tmp_path: Path) -> None:
    data = _data(tmp_path, train=8, valid=4)
    with open(data / "train.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"messages": [\n')
    config = TrainConfig(model=str(_model(tmp_path)), data=str(data), num_layers=4)
    (finding,) = preflight(config, count_tokens=False).findings
    assert (finding.code, finding.line) == ("bad-json", 9)
    assert str(finding).startswith(f"error: {data / 'train.jsonl'}:9: not valid JSON")


def test_estimate_above_the_machine_memory_is_an_error(tmp_path: Path) -> None:
    model = _model(tmp_path)
    config_path = model / "config.json"
    huge = {**json.loads(config_path.read_text()), "hidden_size": 16384, "intermediate_size": 65536, "num_hidden_layers": 80}
    config_path.write_text(json.dumps(huge), encoding="utf-8")
    config = TrainConfig(model=str(model), data=str(_data(tmp_path, train=8, valid=4)), fine_tune_type="full", num_layers=-1)
    assert "memory-over-ram" in _codes(config)


def test_hub_ids_are_noted_not_checked(tmp_path: Path) -> None:
    config = TrainConfig(model="mlx-community/Qwen2.5-Coder-7B-Instruct-4bit", data=str(_data(tmp_path, train=8, valid=4)))
    report = preflight(config, count_tokens=False)
    assert report.ok
    assert [f.code for f in report.findings] == ["remote-model"]


@pytest.mark.slow
def test_examples_over_the_max_length_are_named_by_line_with_real_token_counts(untrained_demo_model: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    short = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    long = {"messages": [{"role": "user", "content": "explain " * 200}, {"role": "assistant", "content": "ok"}]}
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [short, long, short, short]), encoding="utf-8")
    (data / "valid.jsonl").write_text("".join(json.dumps(short) + "\n" for _ in range(4)), encoding="utf-8")
    config = TrainConfig(model=str(untrained_demo_model), data=str(data), num_layers=4, max_seq_length=64)
    report = preflight(config)
    (finding,) = report.findings
    assert (finding.code, finding.line, finding.severity) == ("over-max-seq-length", 2, "warning")
    assert report.longest_tokens > 64
    assert report.estimate.sequence_length == 64
