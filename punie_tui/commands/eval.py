"""`punie-tui eval [PATH]`: score tool-vs-direct discrimination of models, adapters, every
checkpoint of a run and servers; headless with --json or --out, else the eval screen."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from punie_tui.commands.common import EXIT_OK, EXIT_PROBLEMS, add_workspace_argument, fail, open_app, print_json, resolve_workspace


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="score whether models call a tool exactly when a query needs one, across adapters and checkpoints",
        description="Run the workspace's held-out queries and prompts sampled from the training data through "
        "each target with the real sandboxed tools, at temperature 0 and a fixed seed, and report tool-vs-direct "
        "accuracy (held-out and seen apart), tool precision and recall, loop rate, turns and seconds. "
        "The base model is a target when --model is given or no other target is.",
    )
    add_workspace_argument(parser)
    parser.add_argument("--model", metavar="DIR", help="MLX base model folder or Hugging Face id (default: a run's own base model, else model in punie.toml, else the demo model: trained once installed)")
    parser.add_argument("--adapter", action="append", default=[], metavar="DIR", help="adapter folder or checkpoint .safetensors (repeatable)")
    parser.add_argument("--run", action="append", default=[], metavar="RUN_DIR", help="every checkpoint of a training run (repeatable)")
    parser.add_argument("--server", action="append", default=[], metavar="URL", help="an OpenAI-compatible server already running, e.g. http://127.0.0.1:8080/v1 (repeatable)")
    parser.add_argument("--queries", type=Path, metavar="FILE", help="held-out queries JSONL (default: queries_file in punie.toml)")
    parser.add_argument("--seen", type=int, metavar="N", help="prompts sampled from the training data (default: as many as held-out queries; 0 for none)")
    parser.add_argument("--train-data", action="append", type=Path, metavar="FILE", help="where seen prompts come from (default: the run's train.jsonl, else the workspace's datasets)")
    parser.add_argument("--references", type=Path, metavar="FILE", help="JSON or JSONL rows measured elsewhere, shown marked as references (default: eval-references.json in the workspace)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="sampling seed and seen-prompt sample (default 0)")
    parser.add_argument("--max-tokens", type=int, default=512, metavar="N", help="tokens per model turn (default 512)")
    parser.add_argument("--request-limit", type=int, default=8, metavar="N", help="model requests before a query is stopped (default 8)")
    parser.add_argument("--loop-threshold", type=int, default=3, metavar="N", help="same call this many times is a loop (default 3)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON (headless)")
    parser.add_argument("--out", type=Path, metavar="REPORT.md", help="write a Markdown report (headless)")


def run(args: argparse.Namespace) -> int:
    workspace = resolve_workspace(args)
    workspace.tools()  # a broken tools file is unusable input, reported before any model loads
    if args.max_tokens < 1 or args.request_limit < 1 or args.loop_threshold < 2 or (args.seen is not None and args.seen < 0):
        return fail("--max-tokens and --request-limit must be at least 1, --loop-threshold at least 2, --seen at least 0")
    from punie_tui.core.chat.mlx_model import ModelSourceError
    from punie_tui.core.eval_suite import SuiteError, build_suite, load_references, workspace_references
    from punie_tui.core.eval_targets import resolve_targets
    from punie_tui.core.evaluate import EvalOptions

    headless = bool(args.json or args.out)
    named = bool(args.model or args.adapter or args.run or args.server)
    try:
        # The screen resolves its default target itself, so it opens at once (the demo model may need building).
        targets = resolve_targets(workspace, args.model, args.adapter, args.run, args.server) if headless or named else None
        queries = build_suite(workspace, args.queries, seen=args.seen, seed=args.seed, train_files=args.train_data,
                              run_dirs=[Path(run).expanduser() for run in args.run])
        references = load_references(args.references) if args.references else workspace_references(workspace)
    except (ModelSourceError, SuiteError) as exc:
        return fail(str(exc))
    options = EvalOptions(max_tokens=args.max_tokens, request_limit=args.request_limit, loop_threshold=args.loop_threshold, seed=args.seed)
    if not headless:
        return open_app(args, "evaluate", targets=targets, queries=queries, references=references, options=options)
    return _headless(args, workspace, targets, queries, references, options)


def _headless(args: argparse.Namespace, workspace: Any, targets: list, queries: list, references: list, options: Any) -> int:
    import sys

    from punie_tui.core.eval_report import write_markdown
    from punie_tui.core.evaluate import Progress, run_suite

    def progress(step: Progress) -> None:
        if step.result is not None:
            print(f"[{step.target}] {step.done}/{step.total} {step.result.query.prompt[:60]!r}: {step.result.got}", file=sys.stderr)

    report = run_suite(workspace, targets, queries, options=options, references=references, on_progress=progress)
    if args.out:
        write_markdown(report, args.out)
        print(f"report written to {args.out}", file=sys.stderr)
    if args.json:
        print_json(report.to_json())
    failed = [target for target in report.targets if target.error]
    for target in failed:
        print(f"punie-tui: {target.name}: {target.error}", file=sys.stderr)
    return EXIT_PROBLEMS if failed else EXIT_OK
