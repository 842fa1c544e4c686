"""`punie-tui train [PATH] --config FILE [--run-dir DIR]`: preflight, then one mlx-lm run, supervised.

FILE is an mlx-lm lora YAML (the file `mlx_lm lora -c` takes). The run writes RUN_DIR/metrics.jsonl
(follow it with `punie-tui monitor RUN_DIR`); the default RUN_DIR is `runs/<time>` in the workspace.
Without `--config` the train screen opens (`--run` attaches it to a run folder or log).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from punie_tui.commands.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    add_workspace_argument,
    fail,
    print_json,
    resolve_workspace,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train with mlx-lm from a lora YAML, with preflight, lock and memory guard")
    add_workspace_argument(parser)
    parser.add_argument("--config", "-c", type=Path, help="mlx-lm lora YAML (as `mlx_lm lora -c` takes); without it the screen opens")
    parser.add_argument("--run", type=Path, help="with the screen: attach to this run folder or mlx-lm log")
    parser.add_argument("--run-dir", type=Path, help="run folder (default: runs/<date-time> in the workspace)")
    parser.add_argument("--allow-concurrent", action="store_true", help="train even if another run holds the machine's lock")
    parser.add_argument("--min-available-gb", type=float, help="memory guard threshold (default: max(10%% of RAM, 2 GB))")
    parser.add_argument("--skip-preflight", action="store_true", help="launch even when preflight finds errors")
    parser.add_argument("--preflight-only", action="store_true", help="check the config and print the findings; do not train")
    parser.add_argument("--json", action="store_true", help="print preflight and the result as JSON")


def default_run_dir(runs_dir: Path) -> Path:
    return runs_dir / time.strftime("%Y%m%d-%H%M%S")


def run(args: argparse.Namespace) -> int:
    if args.config is None:
        from punie_tui.commands.common import open_app

        return open_app(args, "train", run=args.run)
    from punie_tui.core.training.config import ConfigError, load_config
    from punie_tui.core.training.guard import GuardSettings
    from punie_tui.core.training.lock import RunLockedError
    from punie_tui.core.training.preflight import preflight
    from punie_tui.core.training.supervisor import LaunchOptions, RunDirError, supervise

    try:
        config = load_config(args.config).with_paths_from(Path.cwd())
        run_dir = args.run_dir or default_run_dir(resolve_workspace(args).runs_dir)
    except ConfigError as exc:
        return fail(str(exc))
    report = preflight(config)
    if args.preflight_only:
        if args.json:
            print_json({"preflight": report.as_dict(), "result": None})
        else:
            for finding in report.findings:
                print(finding)
            if report.estimate is not None:
                print(f"estimated peak memory {report.estimate.total_gb:.2f} GB")
        return EXIT_OK if report.ok else EXIT_PROBLEMS
    if not args.json:
        for finding in report.findings:
            print(finding, file=sys.stderr)
        if report.estimate is not None:
            print(f"estimated peak memory {report.estimate.total_gb:.2f} GB", file=sys.stderr)
    if not report.ok and not args.skip_preflight:
        if args.json:
            print_json({"preflight": report.as_dict(), "result": None})
        return fail("preflight found errors; fix them or pass --skip-preflight")
    options = LaunchOptions(
        run_dir=run_dir.resolve(),
        allow_concurrent=args.allow_concurrent,
        guard=GuardSettings(threshold_gb=args.min_available_gb),
    )
    if not args.json:
        print(f"run folder {options.run_dir} (follow with: punie-tui monitor {options.run_dir})", file=sys.stderr)
    try:
        result = supervise(config, options)
    except (RunLockedError, RunDirError) as exc:
        return fail(str(exc))
    if args.json:
        print_json(
            {
                "preflight": report.as_dict(),
                "result": {
                    "run_dir": str(result.run_dir),
                    "status": result.status,
                    "cause": result.cause,
                    "message": result.message,
                    "exit_code": result.exit_code,
                },
            }
        )
    else:
        print(f"{result.status}: {result.message}" + (f" [{result.cause}]" if result.cause else ""))
    return EXIT_OK if result.status == "finished" else EXIT_PROBLEMS
