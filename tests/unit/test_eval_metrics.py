"""Eval metrics on scripted pydantic-ai FunctionModels whose answers are known, run through the real
chat core and sandbox: accuracy held-out and seen, tool precision and recall, loops, turns, the
memorisation sentence, best checkpoints, cancellation and a target that fails to load."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydantic_ai.messages import ModelRequest
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

from punie_tui.config import open_workspace
from punie_tui.core.eval_report import render_markdown
from punie_tui.core.eval_suite import Reference, SuiteQuery
from punie_tui.core.eval_targets import Target
from punie_tui.core.evaluate import EvalOptions, memorisation_note, run_suite


def requests_so_far(messages) -> int:
    return sum(1 for m in messages if isinstance(m, ModelRequest))


def last_prompt(messages) -> str:
    return messages[0].parts[-1].content


async def scripted(messages, info: AgentInfo):
    """Reads a file when the prompt says "file", loops when it says "loop", else answers directly."""
    prompt, n = last_prompt(messages), requests_so_far(messages)
    if "loop" in prompt:
        yield {0: DeltaToolCall(name="read_file", json_args=json.dumps({"path": "c.txt"}), tool_call_id=f"c{n}")}
    elif "file" in prompt and n == 1:
        name = prompt.split()[-1]
        yield {0: DeltaToolCall(name="read_file", json_args=json.dumps({"path": name}), tool_call_id="c1")}
    else:
        yield "Here is the answer."


async def always_direct(messages, info: AgentInfo):
    yield "I know this one."


HELDOUT = [
    SuiteQuery("Read the file a.txt", "tool", tool="read_file", arguments={"path": "a.txt"}),  # right
    SuiteQuery("What is 2+2?", "direct"),  # right
    SuiteQuery("Explain the idea of a file b.txt", "direct"),  # wrong: a tool call nobody needed
    SuiteQuery("Count the words in the notes", "tool"),  # wrong: answered without the tool
    SuiteQuery("loop over c.txt", "tool", tool="run_command"),  # a tool call, but a loop and the wrong tool
]
SEEN = [SuiteQuery("Show file a.txt", "tool", set="seen"), SuiteQuery("Say hi", "tool", set="seen")]


@pytest.fixture()
def workspace(demo_workspace: Path):
    for name in ("a.txt", "b.txt", "c.txt"):
        (demo_workspace / name).write_text(f"contents of {name}\n")
    return open_workspace(demo_workspace)


def opener_for(models: dict[str, FunctionModel], broken: set[str] = frozenset()):
    @contextmanager
    def opener(setup, target):
        if target.name in broken:
            raise OSError(f"{target.name}: cannot load")
        yield models[target.name], ["a setup warning"]

    return opener


def test_metrics_count_tool_precision_recall_loops_and_turns_on_held_out_queries(workspace):
    report = run_suite(workspace, [Target("scripted", "model")], HELDOUT + SEEN,
                       opener=opener_for({"scripted": FunctionModel(stream_function=scripted)}))
    target = report.targets[0]
    values = target.metrics()
    assert values["accuracy"] == values["heldout_accuracy"] == pytest.approx(3 / 5)
    assert values["tool_precision"] == pytest.approx(2 / 3)  # calls on a.txt, b.txt, c.txt; b.txt was not wanted
    assert values["tool_recall"] == pytest.approx(2 / 3)  # wanted on a.txt, words, c.txt; words got none
    assert values["loop_rate"] == pytest.approx(1 / 5)
    assert values["mean_turns"] == pytest.approx((2 + 1 + 2 + 1 + 3) / 5)
    assert values["seen_accuracy"] == pytest.approx(1 / 2)
    assert [r.got for r in target.results] == ["tool", "direct", "tool", "direct", "tool", "tool", "direct"]
    assert [r.verdict for r in target.results][4] == "loop"
    assert target.warnings == ["a setup warning"]


def test_tool_name_and_argument_checks_mark_the_call_not_the_discrimination(workspace):
    report = run_suite(workspace, [Target("scripted", "model")], HELDOUT,
                       opener=opener_for({"scripted": FunctionModel(stream_function=scripted)}))
    results = report.targets[0].results
    assert results[0].tool_ok is True and results[0].tools == ["read_file"]
    # Called read_file where run_command was asked for: right to call a tool, wrong call.
    assert results[4].correct and results[4].tool_ok is False
    assert results[1].tool_ok is None


def test_json_rows_have_the_documented_fields(workspace):
    report = run_suite(workspace, [Target("scripted", "model")], HELDOUT[:2] + SEEN[:1],
                       opener=opener_for({"scripted": FunctionModel(stream_function=scripted)}),
                       references=[Reference("Phase-0 7B", {"accuracy": 1.0, "heldout_accuracy": 1.0, "mean_seconds": 21.06}, "memorised")])
    data = report.to_json()
    measured, reference = data["targets"]
    assert {"name", "accuracy", "tool_precision", "tool_recall", "loop_rate", "mean_turns", "mean_seconds",
            "seen_accuracy", "heldout_accuracy", "results"} <= set(measured)
    assert {"prompt", "set", "expected", "got", "tools", "verdict", "turns", "seconds"} <= set(measured["results"][0])
    assert [r["set"] for r in measured["results"]] == ["heldout", "heldout", "seen"]
    assert measured["reference"] is False
    assert reference["reference"] is True and reference["name"] == "Phase-0 7B" and reference["mean_seconds"] == 21.06
    assert set(measured) - {"kind", "base", "adapter", "url", "iteration", "val_loss", "memorisation", "error", "warnings"} == set(reference) - {"note"}
    assert reference["results"] == [] and reference["tool_recall"] is None
    assert data["temperature"] == 0.0 and data["seed"] == 0


def test_memorisation_is_said_in_words_when_training_prompts_score_far_higher():
    note = memorisation_note({"seen_accuracy": 1.0, "heldout_accuracy": 0.5})
    assert note.startswith("Memorisation: 100% right on prompts from the training data but 50% on held-out queries")
    assert memorisation_note({"seen_accuracy": 0.9, "heldout_accuracy": 0.85}).startswith("No memorisation gap")
    assert memorisation_note({"seen_accuracy": None, "heldout_accuracy": 0.5}).startswith("Memorisation not measured")


def test_best_checkpoint_by_behaviour_can_differ_from_best_by_val_loss(workspace):
    targets = [
        Target("run@100", "checkpoint", iteration=100, val_loss=1.2),
        Target("run@200", "checkpoint", iteration=200, val_loss=0.8),
    ]
    models = {"run@100": FunctionModel(stream_function=scripted), "run@200": FunctionModel(stream_function=always_direct)}
    report = run_suite(workspace, targets, HELDOUT, opener=opener_for(models))
    assert report.best_by_behaviour().name == "run@100"
    assert report.best_by_val_loss().name == "run@200"
    markdown = render_markdown(report)
    assert "Best checkpoint by behaviour: **run@100**; by validation loss: **run@200**." in markdown
    assert "| run@200 | 40% |" in markdown


def test_a_target_that_fails_to_load_is_reported_and_the_others_still_run(workspace):
    targets = [Target("broken", "model"), Target("scripted", "model")]
    report = run_suite(workspace, targets, HELDOUT[:2], opener=opener_for({"scripted": FunctionModel(stream_function=scripted)}, {"broken"}))
    assert report.targets[0].error == "OSError: broken: cannot load" and report.targets[0].results == []
    assert len(report.targets[1].results) == 2
    assert "broken (failed: OSError: broken: cannot load)" in render_markdown(report)


def test_cancel_stops_between_queries_and_keeps_what_finished(workspace):
    cancel = threading.Event()
    seen_progress = []

    def progress(step):
        seen_progress.append((step.target, step.done, step.total))
        if step.done == 2:
            cancel.set()

    report = run_suite(workspace, [Target("scripted", "model"), Target("other", "model")], HELDOUT,
                       opener=opener_for({"scripted": FunctionModel(stream_function=scripted)}), on_progress=progress, cancel=cancel)
    assert report.cancelled
    assert len(report.targets) == 1 and len(report.targets[0].results) == 2
    assert seen_progress == [("scripted", 0, 5), ("scripted", 1, 5), ("scripted", 2, 5)]


def test_seed_reaches_the_model_settings():
    assert EvalOptions(seed=7).model_settings()["seed"] == 7
    assert EvalOptions().model_settings()["temperature"] == 0.0
