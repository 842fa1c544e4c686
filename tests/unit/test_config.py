"""Workspace settings: defaults, validation messages naming file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from punie_tui.config import (
    DEFAULT_CATEGORIES,
    WorkspaceError,
    load_user_settings,
    open_workspace,
)


def test_a_folder_without_punie_toml_opens_with_defaults(tmp_path: Path) -> None:
    (tmp_path / "data.jsonl").write_text('{"text": "x"}\n')
    workspace = open_workspace(tmp_path)
    assert not workspace.has_settings_file
    settings = workspace.settings
    assert settings.target_format == "qwen25-json"
    assert settings.label_target == 0.67
    assert settings.direct_categories == DEFAULT_CATEGORIES
    assert settings.max_seq_length == 2048
    assert settings.model is None and settings.adapter is None
    assert workspace.dataset_paths() == [tmp_path / "data.jsonl"]


def test_settings_are_read_from_punie_toml(tmp_path: Path) -> None:
    (tmp_path / "punie.toml").write_text(
        'model = "mlx-community/Qwen2.5-Coder-7B-Instruct-4bit"\n'
        'target_format = "qwen3-xml"\nsystem_prompt = "You are Punie."\n'
        "[training]\nbatch_size = 2\niters = 300\n"
    )
    settings = open_workspace(tmp_path).settings
    assert settings.model == "mlx-community/Qwen2.5-Coder-7B-Instruct-4bit"
    assert settings.target_format == "qwen3-xml"
    assert settings.training.batch_size == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('target_format = "xml"\n', "key 'target_format'"),
        ("label_target = 1.5\n", "key 'label_target'"),
        ("[training]\nbatch_size = 0\n", "key 'training.batch_size'"),
        ("[training]\nbatchsize = 2\n", "key 'training.batchsize': Extra inputs are not permitted"),
        ("modle = 'x'\n", "key 'modle'"),
        ("model = \n", "not valid TOML"),
        ("direct_categories = ['a','b','c','d','e','f','g','h','i','j']\n", "at most 9 categories"),
    ],
)
def test_an_invalid_punie_toml_names_the_file_key_and_problem(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "punie.toml").write_text(content)
    with pytest.raises(WorkspaceError) as error:
        open_workspace(tmp_path)
    assert str(tmp_path / "punie.toml") in str(error.value)
    assert expected in str(error.value)


def test_a_missing_workspace_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="no such folder"):
        open_workspace(tmp_path / "nope")


def test_dataset_paths_skip_queries_runs_and_punie_state(tmp_path: Path) -> None:
    for name in ("a.jsonl", "queries.jsonl", "runs/r1/metrics.jsonl", ".punie/labels.journal.jsonl"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}\n")
    assert open_workspace(tmp_path).dataset_paths() == [tmp_path / "a.jsonl"]


def test_tools_file_must_be_a_json_list(tmp_path: Path) -> None:
    (tmp_path / "tools.json").write_text('{"name": "x"}')
    with pytest.raises(WorkspaceError, match="expected a JSON list"):
        open_workspace(tmp_path).tools()


def test_user_settings_default_when_missing_and_name_the_file_when_broken(tmp_path: Path) -> None:
    assert load_user_settings(tmp_path / "settings.toml").theme == "textual-dark"
    (tmp_path / "settings.toml").write_text("keymap = 3\n")
    with pytest.raises(WorkspaceError, match="settings.toml: key 'keymap'"):
        load_user_settings(tmp_path / "settings.toml")
