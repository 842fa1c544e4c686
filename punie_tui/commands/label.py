"""`punie-tui label [PATH]`: open the app straight on the label screen."""

from __future__ import annotations

import argparse

from punie_tui.commands.common import add_workspace_argument, open_app


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "label", help="label examples as tool, direct or skip, one key each (decisions are journaled)"
    )
    add_workspace_argument(parser)


def run(args: argparse.Namespace) -> int:
    return open_app(args, "label")
