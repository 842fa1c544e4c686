"""`punie-tui fix PATH...`: print the fixes as a unified diff; `--write` applies them (keeping `.bak`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from punie_tui.commands.check import add_context_arguments, resolve_context
from punie_tui.commands.common import EXIT_OK, EXIT_PROBLEMS
from punie_tui.core.dataset import load_dataset
from punie_tui.core.fixes import FIXABLE_CODES, REPAIR_CODES, apply_plan, plan_fixes


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fix", help="fix mechanical defects (diff first; --write applies)",
        description="Print the fixes as a unified diff. Exit 0: nothing to fix or written; 1: fixes pending; 2: unusable input. "
                    "JSON repairs are suggestions, written only with --accept-repairs.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="JSONL files or folders (all *.jsonl inside)")
    parser.add_argument("--code", action="append", choices=sorted(FIXABLE_CODES), metavar="CODE",
                        help="fix only this code (repeatable); default: every fixable code")
    parser.add_argument("--write", action="store_true", help="apply the fixes atomically, keeping PATH.bak")
    parser.add_argument("--accept-repairs", action="store_true", help="also apply json-repair suggestions (they can change meaning)")
    add_context_arguments(parser)


def run(args: argparse.Namespace) -> int:
    files, ctx = resolve_context(args)
    datasets = [load_dataset(path) for path in files]
    wanted = set(args.code or FIXABLE_CODES)
    pending = 0
    for dataset in datasets:
        plan = plan_fixes(dataset, ctx, wanted, repairs=args.accept_repairs)
        sys.stdout.write(plan.diff())
        for note in plan.unfixed:
            print(f"punie-tui: {note}", file=sys.stderr)
        if not args.accept_repairs and wanted & REPAIR_CODES:
            suggestions = plan_fixes(dataset, ctx, wanted & REPAIR_CODES, repairs=True)
            if suggestions.edits:
                print(f"# {len(suggestions.edits)} json-repair suggestions for {dataset.path} "
                      "(not applied; review, then use --accept-repairs):")
                sys.stdout.write(suggestions.diff())
        if not plan.edits:
            continue
        if args.write:
            changed = apply_plan(plan)
            dataset.save()
            print(f"punie-tui: {dataset.path}: {changed} lines fixed (previous version in {dataset.path.name}.bak)", file=sys.stderr)
        else:
            pending += len(plan.edits)
    if pending:
        print(f"punie-tui: {pending} lines would change; run again with --write to apply", file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK
