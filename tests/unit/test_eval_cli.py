"""`punie-tui eval` on input it cannot use: exit 2 naming the file and line; a target that cannot
load is reported in the JSON with its error and exit 1, while the other targets still run."""

from __future__ import annotations

import json

import pytest

from punie_tui.cli import main


def test_a_bad_queries_line_is_unusable_input_naming_file_and_line(demo_workspace, tmp_path, capsys):
    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"prompt": "fine", "expected": "direct"}\n{"prompt": "x", "expected": "sometimes"}\n')
    (tmp_path / "model").mkdir()
    code = main(["eval", str(demo_workspace), "--model", str(tmp_path / "model"), "--queries", str(queries), "--json"])
    assert code == 2
    assert f"punie-tui: {queries}:2: 'expected' must be \"tool\" or \"direct\"" in capsys.readouterr().err


def test_a_missing_run_folder_is_unusable_input(demo_workspace, tmp_path, capsys):
    (tmp_path / "model").mkdir()
    code = main(["eval", str(demo_workspace), "--model", str(tmp_path / "model"), "--run", str(tmp_path / "no-run"), "--json"])
    assert code == 2 and "no-run: no such run folder" in capsys.readouterr().err


@pytest.mark.slow
def test_a_target_that_cannot_load_is_reported_and_the_others_run(demo_workspace, demo_model, tmp_path, capsys):
    adapter = tmp_path / "adapter-without-weights"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"fine_tune_type": "lora", "num_layers": 2,
                                                             "lora_parameters": {"rank": 4, "scale": 20.0, "dropout": 0.0}}))
    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"prompt": "What is overfitting?", "expected": "direct"}\n')
    code = main(["eval", str(demo_workspace), "--model", str(demo_model), "--adapter", str(adapter), "--server", "http://127.0.0.1:9/v1",
                 "--queries", str(queries), "--seen", "0", "--max-tokens", "4", "--json"])
    captured = capsys.readouterr()
    assert code == 1
    base, broken, server = json.loads(captured.out)["targets"]
    assert base["error"] is None and [r["got"] for r in base["results"]] == ["direct"]
    assert broken["kind"] == "adapter" and broken["results"] == [] and "adapters.safetensors" in broken["error"]
    # Nothing listens on port 9.
    assert server["kind"] == "server" and server["error"].startswith("ModelConnectionError")
    assert f"punie-tui: {broken['name']}: " in captured.err and "punie-tui: http://127.0.0.1:9/v1: ModelConnectionError" in captured.err
