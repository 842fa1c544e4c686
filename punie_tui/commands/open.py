"""`punie-tui [PATH]`: open the app on a workspace's home screen."""

from __future__ import annotations

import argparse

from punie_tui.commands.common import add_workspace_argument, open_app


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("open", help="open the app on a workspace (the default command)")
    add_workspace_argument(parser)


def run(args: argparse.Namespace) -> int:
    return open_app(args)
