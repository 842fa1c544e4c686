"""`punie-tui split [PATH] --out DIR`: write mlx-lm's train/valid/test.jsonl from a workspace."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from punie_tui.commands.common import EXIT_OK, add_workspace_argument, fail, print_json, resolve_workspace


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "split",
        help="split a workspace into mlx-lm train/valid/test.jsonl, stratified by label",
        description="Stratified by label (human label, else the content's), deterministic for a seed; "
        "skip-labelled examples are left out and copies of one example stay on one side.",
    )
    add_workspace_argument(parser)
    parser.add_argument("--out", type=Path, required=True, help="folder for train/valid/test.jsonl (outside the workspace)")
    parser.add_argument("--valid", type=float, default=0.1, help="share of rows for valid.jsonl (default 0.1)")
    parser.add_argument("--test", type=float, default=0.0, help="share of rows for test.jsonl (default 0.0: no file)")
    parser.add_argument("--seed", type=int, default=42, help="random seed; the same seed gives the same split")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")


def run(args: argparse.Namespace) -> int:
    from punie_tui.core.labelled import open_labelled_datasets
    from punie_tui.core.split import SplitError, plan_split, write_split

    workspace = resolve_workspace(args)
    out = args.out.expanduser().resolve()
    if out == workspace.root or workspace.root in out.parents:
        return fail(f"--out {args.out} is inside the workspace {workspace.root}; its files would be read as datasets next time")
    session = open_labelled_datasets(workspace)
    for problem in session.problems:
        print(f"punie-tui: {problem}", file=sys.stderr)
    for path, error in session.errors.items():
        print(f"punie-tui: {path}: skipped: {error}", file=sys.stderr)
    try:
        split = plan_split(session, args.valid, args.test, args.seed, workspace.settings.training.batch_size)
    except SplitError as exc:
        return fail(f"{workspace.root}: {exc}")
    written = write_split(split, out)
    result = {
        "out": str(out),
        "files": [str(path) for path in written],
        "rows": split.counts(),
        "strata": {part: dict(counts) for part, counts in split.strata.items()},
        "excluded": dict(split.excluded),
        "duplicate_rows": split.duplicate_rows,
    }
    if args.json:
        print_json(result)
        return EXIT_OK
    for part, rows in split.counts().items():
        strata = ", ".join(f"{name} {count}" for name, count in sorted(split.strata[part].items())) or "-"
        print(f"{part:5} {rows:6} rows  ({strata})")
    left_out = ", ".join(f"{reason} {count}" for reason, count in split.excluded.items())
    if left_out:
        print(f"left out: {left_out}")
    if split.duplicate_rows:
        rows = "row" if split.duplicate_rows == 1 else "rows"
        print(f"{split.duplicate_rows} duplicate {rows} kept on the same side as the example they copy")
    print(f"wrote {', '.join(path.name for path in written)} in {out}")
    return EXIT_OK
