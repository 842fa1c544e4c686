"""Helpers shared by commands: resolving the workspace argument, printing errors and JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from punie_tui.config import Workspace

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_UNUSABLE = 2


def add_workspace_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", type=Path, help="workspace folder (default: the demo workspace)")
    parser.add_argument("--reset-demo", action="store_true", help="restore the demo workspace from the bundled copy")


def fail(message: str, code: int = EXIT_UNUSABLE) -> int:
    print(f"punie-tui: {message}", file=sys.stderr)
    return code


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def workspace_folder(args: argparse.Namespace) -> Path:
    """The folder named on the command line, or the demo workspace (created on first use)."""
    if args.path is not None:
        return args.path.expanduser()
    from punie_tui.core.demo import ensure_demo_workspace

    return ensure_demo_workspace(reset=getattr(args, "reset_demo", False))


def resolve_workspace(args: argparse.Namespace) -> Workspace:
    """The opened workspace named on the command line, or the demo workspace."""
    from punie_tui.config import open_workspace

    return open_workspace(workspace_folder(args))


def open_app(args: argparse.Namespace, screen: str | None = None, **screen_args: Any) -> int:
    """Open the app on a workspace, optionally straight on one screen."""
    folder = workspace_folder(args)
    # Checked before the app starts, so a mistyped path never flashes a screen; punie.toml is
    # validated once the app has drawn (it needs pydantic, the slowest import).
    if not folder.is_dir():
        return fail(f"{folder}: no such folder" if not folder.exists() else f"{folder}: not a folder (a workspace is a folder of JSONL files)")
    from punie_tui.app import PunieApp

    app = PunieApp(folder, start_screen=screen, screen_args=screen_args)
    app.run()
    if app.error:
        return fail(app.error)
    return app.return_code or EXIT_OK
