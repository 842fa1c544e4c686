"""Eval harness overhead: wall time of the eval suite per query (agent, sandboxed tools, transcript,
verdict, scoring) against the bare `mlx_lm.stream_generate` time of the same answers: every prompt
the suite rendered is generated again, greedy, on the same loaded model, and must give the same
text. Runs alternate; medians compared (goal: <= 1.1x), with and without the time the real tool
programs take (a model that calls tools spends it in any harness).

    python benchmarks/eval_overhead.py [PATH] [--model DIR | --trained] [--max-tokens N] [--queries N] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def recording_model():
    """punie's MLX model, keeping every prompt it renders (the bare run replays them)."""
    from punie_tui.core.chat.mlx_model import MlxModel

    class RecordingModel(MlxModel):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.prompts: list[str] = []

        def render_prompt(self, messages, tools):
            prompt = super().render_prompt(messages, tools)
            self.prompts.append(prompt)
            return prompt

    return RecordingModel


def time_tools() -> list[float]:
    """Record how long each sandboxed tool call takes: real programs run, which is not harness overhead."""
    from punie_tui.core.chat.tools import WorkspaceTools

    spent: list[float] = []
    call = WorkspaceTools.call

    def timed(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return call(self, *args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    WorkspaceTools.call = timed
    return spent


def bare_generate(model, tokenizer, prompts: list[str], max_tokens: int) -> tuple[float, list[str]]:
    """Seconds to generate every prompt's answer with mlx-lm alone, and the answers."""
    from mlx_lm import stream_generate
    from mlx_lm.sample_utils import make_sampler

    texts = []
    start = time.perf_counter()
    for prompt in prompts:
        tokens = tokenizer.encode(prompt, add_special_tokens=False)
        texts.append("".join(item.text for item in stream_generate(model, tokenizer, tokens, max_tokens=max_tokens, sampler=make_sampler(temp=0.0))))
    return time.perf_counter() - start, texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=REPO / "data", help="workspace (default: the bundled demo workspace)")
    parser.add_argument("--model", type=Path, help="MLX model folder (default: as the eval picks it, the demo model here)")
    parser.add_argument("--trained", action="store_true", help="the trained demo model (trained first, a few minutes, when not cached)")
    parser.add_argument("--iters", type=int, default=600, help="iterations of the trained demo model (default 600, the test suite's build)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--queries", type=int, default=20, help="held-out queries to run (default 20)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from punie_tui.config import open_workspace
    from punie_tui.core.chat.setup import chat_setup
    from punie_tui.core.eval_suite import build_suite
    from punie_tui.core.eval_targets import base_source, model_target
    from punie_tui.core.evaluate import EvalOptions, run_suite

    workspace = open_workspace(args.path)
    setup = chat_setup(workspace)
    if args.trained:
        from punie_tui.core.training.demo_training import ensure_trained_demo_model

        args.model = ensure_trained_demo_model(iters=args.iters)
    target = model_target(base_source(workspace, args.model))
    queries = build_suite(workspace, seen=0)[: args.queries]
    options = EvalOptions(max_tokens=args.max_tokens)
    model = recording_model()(target.source, tool_definitions=setup.definitions, render_tools=setup.render_tools)
    mlx_model, tokenizer = model.load()

    @contextmanager
    def loaded(_setup, _target):
        yield model, []

    harness, bare, per_query, tool_time, streaming = [], [], [], [], []
    spent = time_tools()
    try:
        for _ in range(args.runs):
            model.prompts.clear()
            spent.clear()
            start = time.perf_counter()
            report = run_suite(workspace, [target], queries, setup=setup, options=options, opener=loaded)
            harness.append(time.perf_counter() - start)
            tool_time.append(sum(spent))
            results = report.targets[0].results
            per_query.append(statistics.mean(r.seconds for r in results))
            # The model's own requests (prompt render, generation thread, streamed events, parsing).
            streaming.append(sum(turn["seconds"] for r in results for turn in r.transcript["turns"]))
            answers = [turn["text"] for r in results for turn in r.transcript["turns"]]
            seconds, texts = model.submit(bare_generate, mlx_model, tokenizer, list(model.prompts), args.max_tokens).result()
            bare.append(seconds)
            # Stop sequences and tool-call parsing may trim the raw text; the generated part must agree.
            mismatched = sum(not text.startswith(answer) for text, answer in zip(texts, answers))
            if mismatched or len(texts) != len(answers):
                print(f"warning: {mismatched} of {len(answers)} bare answers differ from the suite's", file=sys.stderr)
    finally:
        model.close()

    turns = sum(len(r.transcript["turns"]) for r in results)
    calls = sum(len(r.tools) for r in results)
    h, b, t = statistics.median(harness), statistics.median(bare), statistics.median(tool_time)
    print(f"model: {target.name}   queries: {len(queries)}   turns: {turns}   tool calls: {calls}   max tokens: {args.max_tokens}   runs: {args.runs}")
    print(f"{'':24}{'suite (harness)':>18}{'bare generation':>18}{'ratio':>8}")
    print(f"{'total seconds':24}{h:18.3f}{b:18.3f}{h / b:8.2f}x")
    print(f"{'seconds per query':24}{h / len(queries):18.3f}{b / len(queries):18.3f}{h / b:8.2f}x")
    print(f"{'mean query seconds':24}{statistics.median(per_query):18.3f}{'':>18}")
    m = statistics.median(streaming)
    print(f"{'of which model requests':24}{m:18.3f}{b:18.3f}{m / b:8.2f}x")
    print(f"{'of which tool calls':24}{t:18.3f}{'':>18}")
    print(f"{'agent, scoring, rest':24}{h - m - t:18.3f}{'':>18}")
    print(f"{'suite without tools':24}{h - t:18.3f}{b:18.3f}{(h - t) / b:8.2f}x")
    print(f"goal <= 1.10x: {'met' if h / b <= 1.10 else 'NOT met'} with tool execution, {'met' if (h - t) / b <= 1.10 else 'NOT met'} without")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
