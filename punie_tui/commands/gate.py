"""`punie-tui gate [PATH] [--model DIR]`: the tokenizer gate; exit 0 when every check passes, 1 otherwise."""

from __future__ import annotations

import argparse

from punie_tui.commands.common import EXIT_OK, EXIT_PROBLEMS, add_workspace_argument, fail, print_json, resolve_workspace


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gate",
        help="check a model's tokenizer before training: one-token delimiters, template round trip, EOS ids",
        description="Check that each delimiter of the model's tool-call format and turns encodes as one token, "
        "that its chat template renders the workspace's examples and they decode back unchanged, and that the EOS "
        "ids of config.json, generation_config.json and the tokenizer agree. Prints the token ids; exit 0 when all pass.",
    )
    add_workspace_argument(parser)
    parser.add_argument("--model", metavar="DIR", help="model folder, a folder with just its tokenizer files, or a Hugging Face id (default: model in punie.toml, else the demo model)")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")


def run(args: argparse.Namespace) -> int:
    workspace = resolve_workspace(args)
    from punie_tui.core.chat.mlx_model import ModelSourceError
    from punie_tui.core.eval_targets import base_source
    from punie_tui.core.gate import GateError, render_text, run_gate

    try:
        result = run_gate(base_source(workspace, args.model).base, workspace)
    except (ModelSourceError, GateError) as exc:
        return fail(str(exc))
    if args.json:
        print_json(result.to_json())
    else:
        print(render_text(result), end="")
    return EXIT_OK if result.passed else EXIT_PROBLEMS
