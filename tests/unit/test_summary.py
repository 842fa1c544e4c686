"""The workspace summary behind the home screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from punie_tui.config import open_workspace
from punie_tui.core.balance import balance
from punie_tui.core.summary import describe_model, summarize_workspace
from punie_tui.core.training.demo_training import TRAINING_FILE, demo_model_install_dir


def test_model_named_in_punie_toml_is_described_as_named(tmp_path: Path) -> None:
    (tmp_path / "punie.toml").write_text('model = "mlx-community/Qwen2.5-Coder-7B-Instruct-4bit"\n')
    assert describe_model(open_workspace(tmp_path)) == "mlx-community/Qwen2.5-Coder-7B-Instruct-4bit"


def test_demo_model_state_is_described(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    workspace = open_workspace(tmp_path)
    assert describe_model(workspace) == "demo model (not built yet; the train screen builds it)"
    demo_model_install_dir().mkdir(parents=True)
    (demo_model_install_dir() / TRAINING_FILE).write_text("{}")
    assert describe_model(workspace) == "demo model (trained)"


def test_summary_counts_records_broken_lines_and_content_labels(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(
        '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<tool_call>\\n{\\"name\\": \\"ls\\", \\"arguments\\": {}}\\n</tool_call>"}]}\n'
        '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "an answer"}]}\n'
        "{broken\n"
    )
    summary = summarize_workspace(open_workspace(tmp_path))
    (file,) = summary.files
    assert (file.records, file.broken) == (3, 1)
    assert summary.content == {"tool": 1, "direct": 1}
    counted = balance(summary.labels, summary.content)
    assert counted.share == 0.5 and counted.source == "content"
    assert summary.runs == []
