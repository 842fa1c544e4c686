"""`punie-tui demo-model OUT [--train] [--iters N]`: build the tiny demo model, optionally trained.

Without `--train` OUT gets the untrained model (random weights); with it, the model is fully
fine-tuned on the demo examples through the same runner as real runs, and OUT holds the fused,
trained model that `mlx_lm.load(OUT)` loads.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from punie_tui.commands.common import EXIT_OK, EXIT_PROBLEMS, fail, print_json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo-model", help="build the tiny demo model (and with --train, fine-tune it)")
    parser.add_argument("out", type=Path, help="folder to create for the model")
    parser.add_argument("--train", action="store_true", help="fine-tune it on the demo examples")
    parser.add_argument("--iters", type=int, default=None, help="training iterations (default 1000)")
    parser.add_argument("--run-dir", type=Path, help="keep the training run here (default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, the split and the training")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    from punie_tui.core.training.demo_training import DEFAULT_ITERS, DemoTrainingError, train_demo_model

    if args.iters is not None and not args.train:
        return fail("--iters needs --train")
    try:
        if args.train:
            result = train_demo_model(args.out, iters=args.iters or DEFAULT_ITERS, run_dir=args.run_dir, seed=args.seed)
            summary = {"model": str(args.out), "trained": True, "run_dir": str(result.run_dir), "message": result.message}
        else:
            from punie_tui.core.demo_model import build_demo_model

            build_demo_model(args.out, seed=args.seed)
            summary = {"model": str(args.out), "trained": False}
    except FileExistsError as exc:
        return fail(str(exc))
    except DemoTrainingError as exc:
        return fail(str(exc), EXIT_PROBLEMS)
    if args.json:
        print_json(summary)
    else:
        print(f"{'trained' if summary['trained'] else 'untrained'} demo model in {args.out}")
    return EXIT_OK
