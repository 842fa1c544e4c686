"""TrainConfig: mlx-lm lora YAML in and out, with errors naming the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from punie_tui.core.training.config import ConfigError, TrainConfig, load_config, parse_config_text


def test_yaml_written_reads_back_to_the_same_config(tmp_path: Path) -> None:
    config = TrainConfig(
        model="m",
        fine_tune_type="full",
        optimizer="adamw",
        learning_rate=1e-3,
        lr_schedule={"name": "cosine_decay", "arguments": [1e-3, 100, 1e-5], "warmup": 10},
        cache_limit_gb=0.5,
    )
    config.save(tmp_path / "c.yaml")
    again = load_config(tmp_path / "c.yaml")
    assert again == config
    assert again.lr_schedule.arguments == [1e-3, 100, 1e-5]
    assert isinstance(again.lr_schedule.arguments[1], int)


def test_exponent_floats_without_a_dot_are_numbers_as_in_mlx_lm() -> None:
    assert parse_config_text("model: m\nlearning_rate: 1e-5\n").learning_rate == 1e-5


def test_yaml_keys_match_mlx_lm_defaults_and_its_parser() -> None:
    from mlx_lm.lora import CONFIG_DEFAULTS, build_parser

    keys = set(TrainConfig(model="m").to_mlx_dict())
    parser_keys = {action.dest for action in build_parser()._actions}
    known = set(CONFIG_DEFAULTS) | parser_keys
    # Every key we write is one mlx-lm reads, apart from punie's own memory limits (unset here).
    assert keys <= known
    assert "lora_parameters" in keys


def test_bad_value_names_the_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "lora.yaml"
    path.write_text("model: m\ndata: d\nbatch_size: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"lora.yaml:3: key 'batch_size'"):
        load_config(path)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "lora.yaml"
    path.write_text("model: m\niters: [1,\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"lora.yaml:\d+: not valid YAML"):
        load_config(path)


def test_unknown_keys_pass_through_like_plain_mlx_lm() -> None:
    config = parse_config_text("model: m\nwandb: myproject\n")
    assert config.unknown_keys() == ["wandb"]
    assert "wandb: myproject" in config.to_yaml()


def test_relative_local_paths_become_absolute_but_hub_ids_stay(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    config = TrainConfig(model="mlx-community/Qwen2.5-0.5B", data="data").with_paths_from(tmp_path)
    assert config.model == "mlx-community/Qwen2.5-0.5B"
    assert config.data == str(tmp_path / "data")
