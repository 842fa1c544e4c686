"""The eval on the real demo model: its per-query results are exactly what single `punie-tui chat
--json` runs of the same prompts give, two runs agree, and every checkpoint of a run is a target.

Each `punie-tui` command is its own process, so the agreement also holds across processes.

The suite runs on the untrained demo model (answers that never stop) and the trained one (tool calls
run for real, then answers); the rest on the untrained one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from punie_tui.config import open_workspace
from punie_tui.core.chat.mlx_model import ModelSource
from punie_tui.core.eval_suite import build_suite
from punie_tui.core.eval_targets import model_target, run_targets
from punie_tui.core.evaluate import EvalOptions, run_suite

pytestmark = pytest.mark.slow

# Enough for the trained model to finish a call and an answer, few enough to stay fast.
MAX_TOKENS = "64"
QUERIES = [
    {"prompt": "Which file contains the `Dataset` class?", "expected": "tool", "tool": "run_command"},
    {"prompt": "Read punie_tui/widgets/confirm.py and describe the widget.", "expected": "tool", "tool": "read_file"},
    {"prompt": "What is overfitting?", "expected": "direct"},
]


def punie(*args: str) -> tuple[int, dict]:
    """Run one `punie-tui` command in its own process; its exit code and its JSON output."""
    done = subprocess.run([sys.executable, "-m", "punie_tui", *args], capture_output=True, text=True, timeout=180)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.fixture()
def queries(tmp_path: Path) -> Path:
    path = tmp_path / "queries.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    return path


def without_timing(turns: list[dict]) -> list[dict]:
    return [{key: value for key, value in turn.items() if key != "seconds"} for turn in turns]


@pytest.mark.parametrize("model_fixture", ["demo_model", "trained_demo_model"])
def test_suite_results_match_single_chat_runs_of_the_same_prompts(model_fixture, request, demo_workspace, queries, tmp_path):
    demo_model = request.getfixturevalue(model_fixture)
    workspace = open_workspace(demo_workspace)
    suite = build_suite(workspace, queries, seen=1)
    report = run_suite(workspace, [model_target(ModelSource(demo_model))], suite, options=EvalOptions(max_tokens=int(MAX_TOKENS)))
    results = report.targets[0].results
    assert [r.query.set for r in results] == ["heldout", "heldout", "heldout", "seen"]
    for result in results:
        code, chat = punie("chat", str(demo_workspace), "--model", str(demo_model), "--prompt", result.query.prompt,
                           "--max-tokens", MAX_TOKENS, "--expect", result.query.expected, "--json")
        assert code == (0 if result.correct and result.verdict == "completed" else 1)
        assert without_timing(result.transcript["turns"]) == without_timing(chat["turns"])
        assert result.verdict == chat["verdict"] and result.turns == chat["turn_count"]
        assert result.tools == [call["name"] for turn in chat["turns"] for call in turn["tool_calls"]]
        assert result.got == ("tool" if chat["tool_calls"] else "direct")
        assert result.tokens == sum(turn["tokens"] for turn in chat["turns"])

    if model_fixture == "trained_demo_model":
        # Trained, it calls tools for real on the tool queries and answers the direct one directly.
        assert [r.got for r in results[:3]] == ["tool", "tool", "direct"]
        assert all(turn["tool_results"][0]["status"] == "ok" for r in results[:2] for turn in r.transcript["turns"][:1])

    out = tmp_path / "report.md"
    # Without --model the demo workspace, naming none, runs the untrained demo model, as the chat does.
    model = ["--model", str(demo_model)] if model_fixture == "trained_demo_model" else []
    code, data = punie("eval", str(demo_workspace), *model, "--queries", str(queries), "--seen", "1",
                       "--max-tokens", MAX_TOKENS, "--json", "--out", str(out))
    assert code == 0
    (target,) = data["targets"]
    # Temperature 0 and a fixed seed: the command line run agrees with the one above.
    assert [(r["prompt"], r["got"], r["verdict"], r["turns"]) for r in target["results"]] == [
        (r.query.prompt, r.got, r.verdict, r.turns) for r in results
    ]
    assert target["accuracy"] == pytest.approx(report.targets[0].metrics()["accuracy"], abs=1e-4)
    name = demo_model.name if model_fixture == "trained_demo_model" else "demo model (untrained)"
    assert target["name"] == name and target["base"] == str(demo_model)
    assert f"| {name} |" in out.read_text()


@pytest.fixture()
def lora_run(demo_model: Path, tmp_path: Path) -> Path:
    """A run folder as training leaves it: adapter config, two checkpoints with different LoRA
    weights, the final adapters, and metrics.jsonl with validation losses."""
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm import load
    from mlx_lm.tuner.utils import linear_to_lora_layers

    run = tmp_path / "run-demo"
    adapters = run / "adapters"
    adapters.mkdir(parents=True)
    model, _ = load(str(demo_model))
    model.freeze()
    lora = {"rank": 4, "scale": 20.0, "dropout": 0.0}
    linear_to_lora_layers(model, 2, lora)
    (adapters / "adapter_config.json").write_text(json.dumps({"fine_tune_type": "lora", "num_layers": 2, "lora_parameters": lora}))
    for iteration, seed in ((50, 1), (100, 2)):
        mx.random.seed(seed)
        weights = {
            name: (mx.random.normal(value.shape) * 0.5 if name.endswith("lora_b") else value)
            for name, value in tree_flatten(model.trainable_parameters())
        }
        mx.save_safetensors(str(adapters / f"{iteration:07d}_adapters.safetensors"), weights)
    mx.save_safetensors(str(adapters / "adapters.safetensors"), weights)
    events = [{"type": "val", "iteration": 50, "val_loss": 2.5}, {"type": "val", "iteration": 100, "val_loss": 2.1},
              {"type": "train", "iteration": 100, "train_loss": 2.0}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(event) + "\n" for event in events))
    return run


def test_every_checkpoint_of_a_run_is_evaluated_with_its_val_loss(demo_model, demo_workspace, queries, lora_run):
    workspace = open_workspace(demo_workspace)
    targets = run_targets(lora_run, ModelSource(demo_model))
    report = run_suite(workspace, targets, build_suite(workspace, queries, seen=0)[:1], options=EvalOptions(max_tokens=12))
    first, second = report.targets
    assert (first.name, first.target.val_loss, second.name, second.target.val_loss) == ("run-demo@50", 2.5, "run-demo@100", 2.1)
    assert first.error is None and second.error is None
    # Different weights, different answers: each checkpoint was really loaded.
    assert first.results[0].transcript["turns"][0]["text"] != second.results[0].transcript["turns"][0]["text"]
    assert report.best_by_val_loss().name == "run-demo@100"


def test_eval_without_json_opens_the_screen_with_the_named_target_and_runs_it(demo_model, demo_workspace, queries, tmp_path):
    from tests.e2e.tmux import TmuxApp

    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "LD_PRELOAD": os.environ.get("LD_PRELOAD", "")}
    app = TmuxApp(["eval", str(demo_workspace), "--model", str(demo_model), "--queries", str(queries), "--seen", "0",
                   "--max-tokens", "8"], env=env, size=(120, 36))
    try:
        app.wait_for("targets (space to check)")
        app.press("C-r")
        screen = app.wait_for("finished: 3 results", timeout=90)
        assert demo_model.name in screen and "Which file contains the `Dataset` class?" in screen
        app.press("C-e")
        app.wait_for("Report written to")
        app.press("C-q")
        assert "EXITED 0" in app.wait_for("EXITED")
    finally:
        app.close()
    assert "| held-out acc |" in (demo_workspace / "eval-report.md").read_text()


def test_a_server_url_target_runs_the_suite_through_the_running_server(demo_model, demo_workspace, queries):
    from punie_tui.core.chat.server import MlxServer
    from punie_tui.core.eval_targets import server_target

    workspace = open_workspace(demo_workspace)
    suite = build_suite(workspace, queries, seen=0)
    options = EvalOptions(max_tokens=12)
    with MlxServer(ModelSource(demo_model)) as running:
        report = run_suite(workspace, [server_target(running.base_url), model_target(ModelSource(demo_model))], suite, options=options)
    served, in_process = report.targets
    assert served.error is None and len(served.results) == len(QUERIES)
    assert served.to_json()["kind"] == "server" and served.name == running.base_url
    assert served.warnings == in_process.warnings
    # The same model, prompt and greedy decoding on both paths.
    assert [r.transcript["turns"][0]["text"] for r in served.results] == [r.transcript["turns"][0]["text"] for r in in_process.results]


def test_the_checkpoint_of_the_real_demo_training_run_answers_as_the_trained_model(demo_model, trained_demo_model, demo_workspace, queries):
    run_dir = Path(json.loads((trained_demo_model / "punie_training.json").read_text())["run_dir"])
    if not run_dir.is_dir():
        pytest.skip(f"the demo training run folder {run_dir} was removed after training")
    workspace = open_workspace(demo_workspace)
    suite = build_suite(workspace, queries, seen=0)
    checkpoints = run_targets(run_dir, ModelSource(demo_model))
    last = checkpoints[-1]
    assert last.kind == "checkpoint" and last.val_loss is not None
    report = run_suite(workspace, [last, model_target(ModelSource(trained_demo_model))], suite, options=EvalOptions(max_tokens=48))
    from_checkpoint, fused = report.targets
    # Its last checkpoint on the untrained base is the trained model: the same answers, call for call.
    assert [without_timing(r.transcript["turns"]) for r in from_checkpoint.results] == [without_timing(r.transcript["turns"]) for r in fused.results]
    assert from_checkpoint.metrics()["accuracy"] == fused.metrics()["accuracy"] > 0.5
