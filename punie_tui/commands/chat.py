"""`punie-tui chat [PATH] --prompt TEXT`: one headless spot-check of a model's tool loop, judged."""

from __future__ import annotations

import argparse
from typing import Any

from punie_tui.commands.common import EXIT_OK, EXIT_PROBLEMS, add_workspace_argument, fail, open_app, print_json, resolve_workspace


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "chat",
        help="spot-check a model's tool loop: real tools in the workspace, loop and stop verdicts",
        description="Run one prompt through the model with the workspace's tools executed for real "
        "(writes and unlisted programs are refused headless, and that is recorded), then print the "
        "transcript and its verdict: completed, loop, request-limit, no-stop or unparsed-call.",
    )
    add_workspace_argument(parser)
    parser.add_argument("--prompt", help="the prompt to send; without it the chat screen opens")
    parser.add_argument("--model", help="MLX model folder or Hugging Face id (default: model in punie.toml, else the untrained demo model)")
    parser.add_argument("--adapter", help="adapter folder or checkpoint .safetensors of a run (default: adapter in punie.toml)")
    parser.add_argument("--server", action="store_true", help="run through a local mlx_lm.server instead of in-process")
    parser.add_argument("--json", action="store_true", help="print the transcript and verdict as JSON")
    parser.add_argument("--system-prompt", help="system prompt (default: the workspace's training prompt)")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--stop", action="append", default=[], metavar="TEXT", help="stop sequence (repeatable)")
    parser.add_argument("--request-limit", type=int, default=8, help="model requests before the run is stopped (default 8)")
    parser.add_argument("--loop-threshold", type=int, default=3, help="same call this many times is a loop (default 3)")
    parser.add_argument("--expect", choices=("tool", "direct"), help="what the answer should be (default: from the eval queries)")


def run(args: argparse.Namespace) -> int:
    workspace = resolve_workspace(args)
    workspace.tools()  # a broken tools file is unusable input, reported before any model loads
    if args.prompt is None:
        return open_app(args, "chat", model=args.model, adapter=args.adapter, server=args.server)
    if args.max_tokens < 1 or args.request_limit < 1 or args.loop_threshold < 2:
        return fail("--max-tokens and --request-limit must be at least 1, --loop-threshold at least 2")
    from punie_tui.core.chat.mlx_model import ModelSourceError
    from punie_tui.core.chat.server import ServerError
    from punie_tui.core.chat.sources import resolve_source

    try:
        source = resolve_source(workspace, args.model, args.adapter)
        return _spot_check(args, workspace, source)
    except (ModelSourceError, ServerError) as exc:
        return fail(str(exc))


def _spot_check(args: argparse.Namespace, workspace: Any, source: Any) -> int:
    from punie_tui.core.chat.agent import ChatOptions, run_chat_sync
    from punie_tui.core.chat.setup import chat_setup, open_chat_model
    from punie_tui.core.chat.tools import WorkspaceTools
    from punie_tui.core.eval_suite import expectation_for, workspace_queries

    setup = chat_setup(workspace, args.system_prompt)
    options = ChatOptions(
        temperature=args.temperature, top_p=args.top_p, max_tokens=args.max_tokens, stop_sequences=tuple(args.stop),
        request_limit=args.request_limit, loop_threshold=args.loop_threshold,
    )
    expected = args.expect or expectation_for(workspace_queries(workspace), args.prompt)
    tools = WorkspaceTools(workspace.root)  # no approver: headless refuses what needs approval
    with open_chat_model(setup, source, server=args.server) as (model, warnings):
        result = run_chat_sync(
            model, args.prompt, tools, definitions=setup.definitions, system_prompt=setup.system_prompt, options=options, expected=expected
        )
    data = result.to_json()
    data.update({"source": source.label, "path": "server" if args.server else "in-process", "expected": expected,
                 "warnings": [w.to_json() for w in warnings]})
    if args.json:
        print_json(data)
    else:
        _print_human(data)
    ok = data["verdict"] == "completed" and data["mismatch"] is None
    return EXIT_OK if ok else EXIT_PROBLEMS


def _print_human(data: dict[str, Any]) -> None:
    for warning in data["warnings"]:
        print(f"warning: {warning['message']}")
    for number, turn in enumerate(data["turns"], 1):
        print(f"--- turn {number} ({turn['finish_reason']}, {turn['tokens']} tokens, {turn['seconds']:.2f} s)")
        if turn["text"]:
            print(turn["text"])
        for call, result in zip(turn["tool_calls"], turn["tool_results"] + [None] * len(turn["tool_calls"])):
            print(f"  call {call['name']} {call['arguments']}")
            if result is not None:
                shown = result["output"] if result["status"] == "ok" else f"{result['status']}: {result['reason']}"
                print("  -> " + shown.replace("\n", "\n     "))
    mismatch = f" ({data['mismatch']})" if data["mismatch"] else ""
    print(f"verdict: {data['verdict']}{mismatch}: {data['verdict_detail']}")
