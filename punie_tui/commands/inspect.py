"""`punie-tui inspect [PATH]`: open the inspect screen on a dataset file or a workspace folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from punie_tui.commands.common import add_workspace_argument, fail, open_app


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("inspect", help="browse, fix and edit a dataset's examples on screen")
    add_workspace_argument(parser)
    parser.description = "PATH is a JSONL file or a workspace folder (default: the demo workspace)."


def run(args: argparse.Namespace) -> int:
    path: Path | None = args.path
    if path is not None and not path.exists():
        return fail(f"{path}: no such file or folder")
    if path is not None and path.is_file():
        from punie_tui.commands.check import find_workspace

        args.path = find_workspace([path]).root
        return open_app(args, "inspect", path=path.resolve())
    return open_app(args, "inspect")
