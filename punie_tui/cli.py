"""Command line: `punie-tui [PATH]` opens the app; `punie-tui COMMAND ...` runs one command.

Each command lives in `punie_tui/commands/NAME.py` with `add_parser(subparsers)` and
`run(args) -> int`; heavy libraries are imported inside `run`, so start-up stays fast.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from punie_tui.errors import UnusableInput

if TYPE_CHECKING:
    import argparse

# Command names, each the module `punie_tui.commands.<name>` (with `-` as `_`).
COMMANDS: tuple[str, ...] = (
    "open", "check", "fix", "convert", "inspect", "label", "split", "stats",
    "monitor", "train", "demo-model", "doctor", "chat", "eval", "gate",
)


def _command_module(name: str):
    return importlib.import_module(f"punie_tui.commands.{name.replace('-', '_')}")


def build_parser(commands: Sequence[str] = COMMANDS) -> argparse.ArgumentParser:
    """The parser with the given commands' subparsers (all of them by default, as `--help` shows)."""
    # Imported here: the process that re-executes itself for BLAS (see `main`) never needs it.
    import argparse

    parser = argparse.ArgumentParser(
        prog="punie-tui",
        description="A terminal workbench for fine-tuning small local models to call tools.",
        epilog="Without a command, opens the app on PATH (default: the demo workspace).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        _command_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        # Run as a program: first of all, restart once with an optimized BLAS preloaded for MLX
        # (Linux only; see core/accel.py). A call with explicit arguments is in-process: no exec.
        from punie_tui.core.accel import reexec_with_blas

        reexec_with_blas()
    args_list = list(sys.argv[1:] if argv is None else argv)
    # `punie-tui PATH` and `punie-tui` mean `punie-tui open [PATH]`.
    if not args_list or (args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help")):
        args_list.insert(0, "open")
    # Only the chosen command's module is imported: start-up stays as light as that command.
    chosen = [args_list[0]] if args_list[0] in COMMANDS else COMMANDS
    args = build_parser(chosen).parse_args(args_list)
    try:
        return _command_module(args.command).run(args)
    except UnusableInput as exc:
        from punie_tui.commands.common import fail

        return fail(str(exc))


if __name__ == "__main__":
    raise SystemExit(main())
