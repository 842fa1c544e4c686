"""Chat setup from the workspace: model sources, eval queries, and warnings when the chat's prompt
or tools differ from training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from punie_tui.config import open_workspace
from punie_tui.core.chat.consistency import check_setup, training_setup
from punie_tui.core.chat.mlx_model import ModelSource, ModelSourceError
from punie_tui.core.chat.sources import resolve_source, run_adapters
from punie_tui.core.eval_suite import SuiteError, expectation_for, workspace_queries

TOOLS = [{"type": "function", "function": {"name": "read_file", "description": "Read a file", "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


@pytest.fixture()
def workspace_dir(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "punie.toml").write_text('system_prompt = "You are punie."\n')
    (root / "tools.json").write_text(json.dumps(TOOLS))
    example = {"messages": [{"role": "system", "content": "You are punie."}, {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "tools": TOOLS}
    write_jsonl(root / "train.jsonl", [example, example])
    write_jsonl(root / "queries.jsonl", [{"prompt": "Show notes.txt", "expected": "tool"}, {"prompt": "What is a closure?", "expected": "direct"}])
    return root


def test_training_setup_finds_the_prompt_and_tools_of_the_examples(workspace_dir):
    setup = training_setup(open_workspace(workspace_dir))
    assert setup.system_prompt == "You are punie."
    assert setup.system_prompt_at.endswith("train.jsonl:1")
    assert setup.tools == TOOLS


def test_no_warnings_when_the_chat_matches_training(workspace_dir):
    assert check_setup(open_workspace(workspace_dir), "You are punie.", TOOLS) == []


def test_a_different_system_prompt_is_warned_about_with_where_it_differs(workspace_dir):
    warnings = check_setup(open_workspace(workspace_dir), "You are a helpful assistant.", TOOLS)
    assert [w.code for w in warnings] == ["prompt-differs-from-settings", "prompt-differs-from-training"]
    assert "at character 8" in warnings[0].message and "train.jsonl:1" in warnings[1].message


def test_missing_or_changed_tools_are_warned_about(workspace_dir):
    workspace = open_workspace(workspace_dir)
    assert check_setup(workspace, "You are punie.", [])[0].code == "tools-differ"
    changed = json.loads(json.dumps(TOOLS))
    changed[0]["function"]["description"] = "Read any file"
    assert check_setup(workspace, "You are punie.", changed)[0].code == "tool-schemas-differ"


def test_the_same_tools_with_keys_in_another_order_render_differently(workspace_dir):
    reordered = [{"function": TOOLS[0]["function"], "type": "function"}]
    assert check_setup(open_workspace(workspace_dir), "You are punie.", reordered)[0].code == "tool-order-differs"


def test_eval_queries_carry_their_expectation(workspace_dir):
    queries = workspace_queries(open_workspace(workspace_dir))
    assert [(q.prompt, q.expected) for q in queries] == [("Show notes.txt", "tool"), ("What is a closure?", "direct")]
    assert expectation_for(queries, " What is a closure? ") == "direct"
    assert expectation_for(queries, "Something else") is None


def test_chat_reads_the_queries_file_as_eval_does(workspace_dir):
    # One reader for both: a file eval refuses is refused here too, with its file and line.
    (workspace_dir / "queries.jsonl").write_text('{"prompt": "Show notes.txt", "expected": "maybe"}\n')
    with pytest.raises(SuiteError, match=r"queries.jsonl:1: 'expected' must be"):
        workspace_queries(open_workspace(workspace_dir))
    (workspace_dir / "queries.jsonl").unlink()
    assert workspace_queries(open_workspace(workspace_dir)) == []


def make_model_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    return path


def test_resolve_source_uses_punie_toml_paths_relative_to_the_workspace(workspace_dir):
    make_model_dir(workspace_dir / "models" / "base")
    adapters = workspace_dir / "runs" / "r1" / "adapters"
    adapters.mkdir(parents=True)
    (adapters / "adapter_config.json").write_text("{}")
    (workspace_dir / "punie.toml").write_text('model = "models/base"\nadapter = "runs/r1/adapters"\n')
    source = resolve_source(open_workspace(workspace_dir))
    assert source == ModelSource((workspace_dir / "models" / "base").resolve(), adapters.resolve())


def test_resolve_source_names_a_missing_model_folder(workspace_dir):
    with pytest.raises(ModelSourceError, match="no-such-model: no such model folder"):
        resolve_source(open_workspace(workspace_dir), workspace_dir / "no-such-model")


def test_a_checkpoint_uses_the_adapter_config_of_its_run(tmp_path):
    run = tmp_path / "run" / "adapters"
    run.mkdir(parents=True)
    (run / "adapter_config.json").write_text("{}")
    checkpoint = run / "0000100_adapters.safetensors"
    checkpoint.write_bytes(b"")
    assert ModelSource(tmp_path, checkpoint).adapter_dir() == run


def test_a_checkpoint_without_a_config_is_refused_naming_it(tmp_path):
    checkpoint = tmp_path / "0000100_adapters.safetensors"
    checkpoint.write_bytes(b"")
    with pytest.raises(ModelSourceError, match="0000100_adapters.safetensors: no adapter_config.json"):
        ModelSource(tmp_path, checkpoint).adapter_dir()


def test_run_adapters_lists_folders_then_their_checkpoints_newest_first(workspace_dir):
    folder = workspace_dir / "runs" / "r1" / "adapters"
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text("{}")
    for step in ("0000100", "0000200"):
        (folder / f"{step}_adapters.safetensors").write_bytes(b"")
    names = [p.name for p in run_adapters(open_workspace(workspace_dir))]
    assert names == ["adapters", "0000200_adapters.safetensors", "0000100_adapters.safetensors"]


def test_a_transcript_becomes_a_training_example_in_the_demo_layout():
    from punie_tui.core.chat.example import transcript_to_example
    from punie_tui.core.chat.transcript import ToolCall, ToolResult, Transcript, Turn

    transcript = Transcript("Where is Dataset?", system_prompt="You are punie.", turns=[
        Turn(text="<tool_call>...", tool_calls=[ToolCall("run_command", {"command": "grep -rn Dataset ."})],
             tool_results=[ToolResult("run_command", "ok", "core/dataset.py:3:class Dataset")]),
        Turn(text="In core/dataset.py."),
    ])
    assert transcript_to_example(transcript)["messages"] == [
        {"role": "system", "content": "You are punie."},
        {"role": "user", "content": "Where is Dataset?"},
        {"role": "assistant", "content": '<tool_call>\n{"name": "run_command", "arguments": {"command": "grep -rn Dataset ."}}\n</tool_call>'},
        {"role": "tool", "content": "core/dataset.py:3:class Dataset"},
        {"role": "assistant", "content": "In core/dataset.py."},
    ]
    openai = transcript_to_example(transcript, "openai")["messages"][2]
    assert openai["tool_calls"][0]["function"]["name"] == "run_command"


def test_an_edited_example_is_checked_and_appended_as_one_line(tmp_path):
    from punie_tui.core.chat.example import ExampleError, append_example, parse_example

    with pytest.raises(ExampleError, match="line 1"):
        parse_example("{not json")
    with pytest.raises(ExampleError, match="last message"):
        parse_example('{"messages": [{"role": "user", "content": "q"}]}')
    example = parse_example('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}')
    path = append_example(tmp_path, example)
    append_example(tmp_path, example)
    assert [json.loads(line) for line in path.read_text().splitlines()] == [example, example]


def test_a_hugging_face_id_is_left_to_mlx_lm(workspace_dir):
    (workspace_dir / "punie.toml").write_text('model = "mlx-community/Qwen2.5-Coder-7B-Instruct-4bit"\n')
    source = resolve_source(open_workspace(workspace_dir))
    assert source.is_hub_id and str(source.base) == "mlx-community/Qwen2.5-Coder-7B-Instruct-4bit"


def test_without_a_model_the_installed_trained_demo_model_is_used(workspace_dir):
    from punie_tui.core.training.demo_training import TRAINING_FILE, demo_model_install_dir

    installed = demo_model_install_dir()
    installed.mkdir(parents=True)
    (installed / "config.json").write_text("{}")
    (installed / TRAINING_FILE).write_text("{}")
    source = resolve_source(open_workspace(workspace_dir))
    assert source.base == installed.resolve() and source.label == "demo model (trained)"
