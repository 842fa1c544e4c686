"""`punie-tui check PATH...`: lint datasets; exit 0 without errors, 1 with errors, 2 for unusable input."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from punie_tui.commands.common import EXIT_OK, EXIT_PROBLEMS, print_json
from punie_tui.config import WORKSPACE_FILE, Workspace, open_workspace
from punie_tui.core.dataset import DatasetError, expand_paths
from punie_tui.core.formats import FORMATS
from punie_tui.core.checking import check_paths, workspace_context
from punie_tui.core.diagnostics import CODES
from punie_tui.core.lint import FileReport, LintContext


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check", help="find broken tool calls and other training-data defects",
        description="Lint JSONL datasets. Exit 0: no errors; 1: errors found; 2: unusable input.",
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="JSONL files or folders (all *.jsonl inside); default: the demo workspace")
    add_context_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--list-codes", action="store_true", help="list every diagnostic code with an example and its fix")


def add_context_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", choices=FORMATS, help="the tool-call format to require (default: the workspace's target_format)")
    parser.add_argument("--tools", type=Path, metavar="FILE", help="tool definitions (default: the workspace's tools.json)")


def find_workspace(paths: list[Path]) -> Workspace:
    """The workspace of the first path: the nearest folder above it with punie.toml, else its folder."""
    first = paths[0].resolve()
    start = first if first.is_dir() else first.parent
    for folder in (start, *start.parents):
        if (folder / WORKSPACE_FILE).is_file():
            return open_workspace(folder)
    return open_workspace(start)


def default_paths() -> list[Path]:
    from punie_tui.core.demo import ensure_demo_workspace

    return [ensure_demo_workspace()]


def dataset_files(paths: list[Path], workspace: Workspace) -> list[Path]:
    """Files to check: files as given; folders expand to their `*.jsonl`, minus the workspace's
    eval queries and punie's own folders."""
    skip = {workspace.queries_path.resolve()}
    files = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        for found in expand_paths([path]):
            inside = found.resolve().relative_to(workspace.root).parts if found.resolve().is_relative_to(workspace.root) else ()
            if found.resolve() not in skip and not any(part in (".punie", "runs") for part in inside):
                files.append(found)
    return files


def resolve_context(args: argparse.Namespace) -> tuple[list[Path], LintContext]:
    """Files and lint context from PATH..., --target and --tools; raises for unusable input."""
    paths = list(args.paths) or default_paths()
    for path in paths:
        if not path.exists():
            raise DatasetError(f"{path}: no such file or folder")
    workspace = find_workspace(paths)
    files = dataset_files(paths, workspace)
    if not files:
        raise DatasetError(f"{', '.join(map(str, paths))}: no *.jsonl files")
    return files, workspace_context(workspace, args.target, args.tools)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def print_codes(as_json: bool) -> None:
    if as_json:
        print_json([{"code": c.code, "severity": c.severity, "summary": c.summary, "defect": c.defect,
                     "fixed": c.fixed, "fix": c.fix} for c in CODES.values()])
        return
    for info in CODES.values():
        how = {"fix": "fixable (punie-tui fix)", "repair": "repair suggested (punie-tui fix --accept-repairs)"}.get(info.fix or "", "not fixable automatically")
        print(f"{info.code}  [{info.severity}, {how}]\n    {info.summary}\n    defect: {info.defect}\n    fixed:  {info.fixed}\n")


def report_json(reports: list[FileReport]) -> dict:
    return {
        "files": [{**r.to_json(), "path": _shown(r.path)} for r in reports],
        "diagnostics": [{**d.to_json(), "path": _shown(d.path)} for r in reports for d in r.diagnostics],
    }


def print_reports(reports: list[FileReport], ctx: LintContext) -> None:
    out = sys.stdout
    for report in reports:
        for diagnostic in report.diagnostics:
            mark = " [fixable]" if diagnostic.fixable and not diagnostic.fix.repair else " [repair suggested]" if diagnostic.fixable else ""
            out.write(f"{_shown(diagnostic.path)}:{diagnostic.line}: {diagnostic.severity} {diagnostic.code}: {diagnostic.message}{mark}\n")
    for report in reports:
        formats = ", ".join(f"{name} {count}" for name, count in report.formats.most_common()) or "no tool calls"
        out.write(f"{_shown(report.path)}: {report.records} records, {report.errors} errors, {report.warnings} warnings ({formats})\n")
    errors = sum(r.errors for r in reports)
    warnings = sum(r.warnings for r in reports)
    tools = "unknown tools (no tools.json; use --tools)" if ctx.schemas is None else f"{len(ctx.schemas)} tools"
    out.write(f"{len(reports)} files: {errors} errors, {warnings} warnings; target {ctx.target}, {tools}\n")


def run(args: argparse.Namespace) -> int:
    if args.list_codes:
        print_codes(args.json)
        return EXIT_OK
    files, ctx = resolve_context(args)
    reports = check_paths(files, ctx)
    if args.json:
        print_json(report_json(reports))
    else:
        print_reports(reports, ctx)
    return EXIT_PROBLEMS if any(r.errors for r in reports) else EXIT_OK

