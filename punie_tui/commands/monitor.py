"""`punie-tui monitor PATH [--json] [--once]`: follow a training run or an mlx-lm log headless.

PATH is a run folder (its metrics.jsonl), a metrics file or a log. `--once` prints the run's
summary and exits; otherwise events are printed as they arrive until the run ends (Ctrl+C stops).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from punie_tui.commands.common import EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE, fail, print_json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("monitor", help="follow a training run folder, metrics file or mlx-lm log")
    parser.add_argument("path", type=Path, help="run folder, metrics.jsonl or mlx-lm log file")
    parser.add_argument("--json", action="store_true", help="print JSON (one event per line when following)")
    parser.add_argument("--once", action="store_true", help="print the run's summary now and exit")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between reads when following")


def _describe(event) -> str:
    data = event.model_dump(mode="json", exclude_none=True, exclude={"type", "time"})
    fields = " ".join(f"{key}={value}" for key, value in data.items() if not isinstance(value, (dict, list)))
    return f"{event.type:<10} {fields}"


def _print_summary(summary: dict, as_json: bool) -> None:
    if as_json:
        print_json(summary)
        return
    final = summary["final"]
    print(f"status      {summary['status']}" + (f" ({summary['failure']})" if summary["failure"] else ""))
    print(f"train       {len(summary['train'])} reports, last loss {final['train_loss']}")
    print(f"val         {len(summary['val'])} reports, last loss {final['val_loss']}")
    print(f"test loss   {final['test_loss']}")
    print(f"checkpoints {len(summary['checkpoints'])}")
    print(f"peak memory {summary['peak_memory_gb']} GB")


def run(args: argparse.Namespace) -> int:
    from punie_tui.core.training.events import EventFileError, follow
    from punie_tui.core.training.source import SourceError, open_source
    from punie_tui.core.training.summary import summarize

    try:
        source = open_source(args.path)
        if args.once:
            summary = summarize(source.drain())
            _print_summary(summary, args.json)
            return EXIT_PROBLEMS if summary["status"] == "failed" else EXIT_OK
        failed = False
        for event in follow(source.poll, interval=args.interval):
            failed = failed or event.type == "failed"
            if args.json:
                print(json.dumps(event.model_dump(mode="json", exclude_none=True)), flush=True)
            else:
                print(_describe(event), flush=True)
    except (SourceError, EventFileError) as exc:
        return fail(str(exc), EXIT_UNUSABLE)
    except KeyboardInterrupt:
        sys.stdout.flush()
        return EXIT_OK
    return EXIT_PROBLEMS if failed else EXIT_OK
