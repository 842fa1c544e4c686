"""What an eval runs on: queries files (with errors naming file and line), seen prompts sampled from
training data, reference rows, and targets found in a run folder with their validation losses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from punie_tui.config import open_workspace
from punie_tui.core.chat.mlx_model import ModelSource, ModelSourceError
from punie_tui.core.chat.transcript import ToolCall
from punie_tui.core.eval_suite import SuiteError, SuiteQuery, build_suite, load_queries_file, load_references, seen_queries
from punie_tui.core.eval_targets import resolve_targets, run_targets, server_target


def write_lines(path: Path, rows: list) -> Path:
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))
    return path


def test_queries_file_reads_prompt_expected_tool_and_argument_checks(tmp_path):
    path = write_lines(tmp_path / "q.jsonl", [
        {"prompt": "Read a.txt", "expected": "tool", "tool": "read_file", "arguments": {"path": "a.txt"}},
        {"prompt": "What is a list?", "expected": "direct"},
        {"prompt": "List the files", "tool": "run_command"},
    ])
    first, second, third = load_queries_file(path)
    assert first == SuiteQuery("Read a.txt", "tool", "heldout", "read_file", {"path": "a.txt"}, f"{path}:1")
    assert second.expected == "direct" and not second.checks_call
    assert third.expected == "tool"


@pytest.mark.parametrize(("row", "message"), [
    ({"prompt": "x", "expected": "maybe"}, "'expected' must be \"tool\" or \"direct\", got 'maybe'"),
    ({"expected": "tool"}, "no 'prompt' text"),
    ({"prompt": "x", "expected": "direct", "tool": "read_file"}, "a 'direct' query cannot name a tool"),
    ({"prompt": "x", "expected": "tool", "arguments": {"path": 3}}, "'arguments' must map argument names"),
    ("{not json", "not JSON"),
])
def test_bad_queries_name_the_file_and_line(tmp_path, row, message):
    path = write_lines(tmp_path / "q.jsonl", [{"prompt": "fine", "expected": "direct"}, row])
    with pytest.raises(SuiteError) as error:
        load_queries_file(path)
    assert str(error.value).startswith(f"{path}:2: ") and message in str(error.value)


def test_argument_checks_match_after_normalising_the_call():
    query = SuiteQuery("Read it", "tool", tool="read_file", arguments={"path": "core/labels.py"})
    assert query.call_matches(ToolCall("read_file", {"path": " ./punie_tui/core/labels.py"}))
    assert not query.call_matches(ToolCall("read_file", {"path": "punie_tui/core/dataset.py"}))
    assert not query.call_matches(ToolCall("run_command", {"path": "core/labels.py"}))


def test_seen_prompts_take_the_training_answer_and_skip_held_out_prompts(tmp_path):
    rows = [
        {"messages": [{"role": "user", "content": "Read a.txt"}, {"role": "assistant", "content": '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.txt"}}\n</tool_call>'}]},
        {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "What is a set?"}, {"role": "assistant", "content": "A collection."}]},
        {"messages": [{"role": "user", "content": "List files"}, {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "ls"}}]}]},
        {"messages": [{"role": "user", "content": "Held out"}, {"role": "assistant", "content": "x"}]},
    ]
    path = write_lines(tmp_path / "train.jsonl", rows)
    found = {q.prompt: q for q in seen_queries([path], 10, exclude=["Held out"])}
    assert {p: q.expected for p, q in found.items()} == {"Read a.txt": "tool", "What is a set?": "direct", "List files": "tool"}
    assert all(q.set == "seen" for q in found.values())
    assert found["What is a set?"].location == f"{path}:2"


def test_seen_sample_is_the_same_for_the_same_seed_and_differs_for_another(demo_workspace):
    workspace = open_workspace(demo_workspace)
    first = [q.prompt for q in build_suite(workspace, seen=10, seed=0)]
    assert first == [q.prompt for q in build_suite(workspace, seen=10, seed=0)]
    assert first != [q.prompt for q in build_suite(workspace, seen=10, seed=1)]
    heldout = [q for q in build_suite(workspace, seen=10) if q.set == "heldout"]
    assert len(heldout) == 42 and len(first) == 52
    # By default as many seen prompts as held-out queries.
    assert sum(q.set == "seen" for q in build_suite(workspace)) == 42


def test_references_load_from_a_json_list_or_jsonl(tmp_path):
    listed = tmp_path / "refs.json"
    listed.write_text(json.dumps([{"name": "hosted agent", "mean_seconds": 2.41}, {"name": "Qwen2.5-Coder-7B LoRA", "accuracy": 1.0, "note": "5 queries"}]))
    hosted, qwen = load_references(listed)
    assert hosted.metrics == {"mean_seconds": 2.41} and hosted.to_json()["reference"] is True
    assert qwen.metrics["heldout_accuracy"] == 1.0 and qwen.note == "5 queries"
    lines = write_lines(tmp_path / "refs.jsonl", [{"name": "ok"}, {"name": "bad", "accuracy": "high"}])
    with pytest.raises(SuiteError, match=rf"{lines}:2: 'accuracy' must be a number"):
        load_references(lines)


def make_run(tmp_path: Path, checkpoints: list[int], final: bool = True, trained_to: int | None = None) -> Path:
    run = tmp_path / "run-1"
    adapters = run / "adapters"
    adapters.mkdir(parents=True)
    (adapters / "adapter_config.json").write_text("{}")
    for iteration in checkpoints:
        (adapters / f"{iteration:07d}_adapters.safetensors").write_bytes(b"weights")
    if final:
        (adapters / "adapters.safetensors").write_bytes(b"weights")
    events = [{"type": "val", "iteration": 1, "val_loss": 3.0}, {"type": "val", "iteration": 50, "val_loss": 1.5},
              {"type": "val", "iteration": 100, "val_loss": 1.7}, {"type": "train", "iteration": trained_to or max(checkpoints), "train_loss": 1.0}]
    # A live run's last line may be half written; it is left out.
    (run / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events) + '{"type": "val", "iter')
    return run


def test_run_targets_are_every_checkpoint_oldest_first_with_the_nearest_val_loss(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    targets = run_targets(make_run(tmp_path, [100, 50, 75]), ModelSource(base))
    assert [(t.name, t.kind, t.iteration, t.val_loss) for t in targets] == [
        ("run-1@50", "checkpoint", 50, 1.5), ("run-1@75", "checkpoint", 75, 1.5), ("run-1@100", "checkpoint", 100, 1.7),
    ]
    assert targets[0].source.adapter.name == "0000050_adapters.safetensors"


def test_run_targets_add_the_final_adapters_when_training_went_past_the_last_checkpoint(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    targets = run_targets(make_run(tmp_path, [50], trained_to=120), ModelSource(base))
    assert [(t.name, t.kind, t.iteration) for t in targets] == [("run-1@50", "checkpoint", 50), ("run-1@final", "adapter", 120)]


def test_a_run_without_adapters_is_unusable_input(tmp_path):
    (tmp_path / "empty-run").mkdir()
    with pytest.raises(ModelSourceError, match="no adapter_config.json in the run folder"):
        run_targets(tmp_path / "empty-run", ModelSource(tmp_path))


def test_targets_from_the_command_line_put_the_base_model_first(tmp_path, demo_workspace):
    workspace = open_workspace(demo_workspace)
    base = tmp_path / "base"
    base.mkdir()
    run = make_run(tmp_path, [50, 100], final=False)
    names = [t.name for t in resolve_targets(workspace, base, [run / "adapters"], [run], ["http://127.0.0.1:9/v1/"])]
    assert names == ["base", "base+adapters", "run-1@50", "run-1@100", "http://127.0.0.1:9/v1"]
    with pytest.raises(ModelSourceError, match="no-such-model: no such model folder"):
        resolve_targets(workspace, tmp_path / "no-such-model")
    with pytest.raises(ModelSourceError, match="is an http:// or https:// URL"):
        server_target("localhost:8080")


def test_the_punie_baselines_show_as_marked_reference_rows(punie_data):
    from punie_tui.core.eval_report import render_markdown
    from punie_tui.core.evaluate import EvalReport

    # The fixture copies the baselines in the real data's README; check they are still there.
    readme = (punie_data / "README.md").read_text()
    assert "a hosted agent 2.41 s" in readme and "the 7B Phase-0 model 21.06 s" in readme
    references = load_references(Path(__file__).parents[1] / "fixtures" / "punie_baselines.json")
    markdown = render_markdown(EvalReport([], references))
    assert "| hosted agent [reference] (one code-search query; pauleveritt/punie 1fe77fb, MIT) | - | - | - | - | - | - | 2.41 | - |" in markdown
    assert "| Qwen2.5-Coder-7B-Instruct-4bit + LoRA [reference] (5/5 on a five-query check; pauleveritt/punie 1fe77fb, MIT) | 100% |" in markdown


def test_a_broken_metrics_line_is_reported_with_file_and_line(tmp_path):
    run = make_run(tmp_path, [50])
    metrics = run / "metrics.jsonl"
    metrics.write_text('{"type": "val", "iteration": 50, "val_loss": 1.5}\n{"type": "val", "iteration": "soon"}\n')
    with pytest.raises(ModelSourceError, match=rf"{metrics}:2: not a training event"):
        run_targets(run, ModelSource(tmp_path))
