"""`punie-tui stats PATH... [--json] [--model DIR]`: labels, balance, formats and token counts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from punie_tui.commands.common import EXIT_OK, fail, print_json

if TYPE_CHECKING:
    from punie_tui.config import Workspace


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="count records, labels, formats and tokens (of the chat-template rendering)",
        description="Token counts are of each example as training renders it, with the model's own "
        "tokenizer (--model, else punie.toml's model); without one, the bundled demo tokenizer "
        "gives approximate counts.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="workspace folders or JSONL files")
    parser.add_argument("--json", action="store_true", help="print the statistics as JSON")
    parser.add_argument("--model", help="a model folder or Hugging Face id whose tokenizer counts the tokens")


def _workspace_of(path: Path) -> Workspace:
    """The workspace holding `path`: the nearest folder with punie.toml, else the path's folder."""
    from punie_tui.config import WORKSPACE_FILE, open_workspace

    start = path if path.is_dir() else path.parent
    for folder in (start, *start.parents):
        if (folder / WORKSPACE_FILE).exists():
            return open_workspace(folder)
    return open_workspace(start)


def _tokenizer(model: str | None, workspace: Workspace) -> tuple[Path, bool]:
    """The tokenizer folder to count with, and whether its counts are only approximate."""
    from punie_tui.core.demo import bundled_data_dir
    from punie_tui.core.tokens import TokenizerError, resolve_tokenizer

    configured = model or workspace.settings.model
    if configured:
        local = workspace.root / configured
        return resolve_tokenizer(str(local) if model is None and local.is_dir() else configured), False
    bundled = bundled_data_dir() / "tokenizer"
    if not (bundled / "tokenizer.json").exists():
        raise TokenizerError(f"no --model, no model in {workspace.settings_path}, and no bundled tokenizer at {bundled}")
    return bundled, True


def run(args: argparse.Namespace) -> int:
    from punie_tui.core.dataset import expand_paths
    from punie_tui.core.labelled import open_labelled_datasets
    from punie_tui.core.stats import merge_stats, session_stats
    from punie_tui.core.tokens import TokenizerError, count_tokens

    groups: dict[Path, tuple[Workspace, list[Path] | None]] = {}
    for path in args.paths:
        if not path.exists():
            return fail(f"{path}: no such file or folder")
        workspace = _workspace_of(path.resolve())
        whole = path.is_dir() and path.resolve() == workspace.root
        _, files = groups.get(workspace.root, (workspace, []))
        if whole or files is None:
            groups[workspace.root] = (workspace, None)
        else:
            groups[workspace.root] = (workspace, files + expand_paths([path.resolve()]))
    parts, notes = [], []
    for workspace, files in groups.values():
        session = open_labelled_datasets(workspace, files)
        notes += [str(problem) for problem in session.problems]
        notes += [f"{path}: skipped: {error}" for path, error in session.errors.items()]
        try:
            folder, approximate = _tokenizer(args.model, workspace)
            counted = count_tokens([session.record(i) for i in range(len(session.items))], folder, workspace.punie_dir, approximate)
        except TokenizerError as exc:
            return fail(str(exc))
        notes += [f"{location}: not counted: the chat template failed: {error}" for location, error in counted.failed.items()]
        if approximate:
            notes.append(f"token counts are approximate: no model is set, so the bundled demo tokenizer ({folder}) counted them")
        parts.append((session_stats(session, counted.counts), counted))
    stats = merge_stats([part for part, _ in parts])
    for note in notes:
        print(f"punie-tui: {note}", file=sys.stderr)
    if args.json:
        print_json(stats.to_json())
        return EXIT_OK
    _print_text(stats.to_json(), [counted for _, counted in parts])
    return EXIT_OK


def _print_text(stats: dict, counted: list) -> None:
    labels, content, tokens = stats["labels"], stats["content"], stats["tokens"]
    print(f"records      {stats['records']}")
    print("labels       " + "   ".join(f"{name} {count}" for name, count in labels.items()))
    print(f"content      tool {content['tool']}   direct {content['direct']}   (from the examples' own turns)")
    print("categories   " + ("   ".join(f"{k} {v}" for k, v in stats["categories"].items()) or "-"))
    print("formats      " + ("   ".join(f"{k} {v}" for k, v in stats["formats"].items()) or "-"))
    approximate = " (approximate)" if any(c.approximate for c in counted) else ""
    print(
        f"tokens{approximate}  total {tokens['total']}   min {tokens['min']}   median {tokens['median']}   "
        f"p95 {tokens['p95']}   max {tokens['max']}   over max_seq_length {stats['over_max_seq']}"
    )
    for c in counted:
        print(f"counted by   {c.engine}: {c.reason} ({c.cached} from the cache)")
