"""`punie-tui convert PATH --to FORMAT [-o OUT]`: rewrite every tool call and result in one format."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from punie_tui.commands.common import EXIT_OK, EXIT_PROBLEMS
from punie_tui.core.convert import ConversionError, convert_record
from punie_tui.core.dataset import load_dataset
from punie_tui.core.formats import FORMATS, tool_schemas
from punie_tui.core.checking import load_tools_file


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert", help="convert tool calls and results to another format",
        description="Convert a JSONL file's tool calls and results to FORMAT without losing information. "
                    "Records that cannot be converted stay as they were and are listed. "
                    "Exit 0: all converted; 1: some records kept; 2: unusable input.",
    )
    parser.add_argument("path", type=Path, metavar="PATH", help="a JSONL file")
    parser.add_argument("--to", required=True, choices=FORMATS, metavar="FORMAT", help=f"target format: {', '.join(FORMATS)}")
    parser.add_argument("-o", "--output", type=Path, metavar="OUT", help="write here (default: stdout)")
    parser.add_argument("--tools", type=Path, metavar="FILE",
                        help="tool definitions, to type XML parameters (default: tools.json beside PATH's workspace)")


def _schemas(args: argparse.Namespace):
    if args.tools is not None:
        return tool_schemas(load_tools_file(args.tools))
    from punie_tui.commands.check import find_workspace

    workspace = find_workspace([args.path])
    return tool_schemas(workspace.tools()) if workspace.tools_path.exists() else None


def run(args: argparse.Namespace) -> int:
    dataset = load_dataset(args.path)
    schemas = _schemas(args)
    kept = 0
    converted = 0
    for index, record in enumerate(list(dataset.records)):
        try:
            data = convert_record(record, args.to, schemas)
        except ConversionError as exc:
            kept += 1
            print(f"punie-tui: {record.location}: kept as it was: {exc}", file=sys.stderr)
            continue
        if data is not None:
            dataset.replace(index, data)
            converted += 1
    if args.output is None:
        sys.stdout.buffer.write(dataset.to_bytes())
        sys.stdout.flush()
    else:
        dataset.save(args.output)
    print(f"punie-tui: {converted} records converted to {args.to}, {kept} kept, "
          f"{len(dataset.records) - converted - kept} already in {args.to} or without tool calls", file=sys.stderr)
    return EXIT_PROBLEMS if kept else EXIT_OK
