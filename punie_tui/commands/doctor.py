"""`punie-tui doctor [--json]`: what punie runs on here, how fast MLX is, and what to fix."""

from __future__ import annotations

import argparse
from typing import Any

from punie_tui.commands.common import EXIT_OK, print_json

_GIB = 1024**3


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check the machine: versions, MLX device and BLAS speed, memory, caches"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def format_report(report: dict[str, Any]) -> str:
    versions = "   ".join(f"{name} {version or 'not installed'}" for name, version in report["versions"].items())
    mlx, blas, mem = report["mlx"], report["blas"], report["memory"]
    if mlx["error"]:
        mlx_line, speed = f"failed: {mlx['error']}", "-"
    else:
        mlx_line, speed = mlx["device"], f"{mlx['gflops']} GFLOPS (float32 matrix product, about 1 s)"
    bound = f"{mlx['blas']} ({mlx['blas_kind']})" if mlx["blas"] else "-"
    cache = report["hf_cache"]
    demo = report["demo_model"]
    rows = [
        ("platform", report["platform"]),
        ("python", f"{report['python']} ({report['python_executable']})"),
        ("packages", versions),
        ("MLX device", mlx_line),
        ("MLX BLAS", bound),
        ("BLAS preload", f"{blas['preload']}" + (f" ({blas['optimized']}, from {blas['source']})" if blas["optimized"] else "")),
        ("matmul", speed),
        ("memory", f"{mem['total_bytes'] / _GIB:.1f} GiB total, {mem['available_bytes'] / _GIB:.1f} GiB available"),
        ("demo model", f"{demo['state']} ({demo['path']})"),
        ("HF cache", f"{cache['path']} (from {cache['source']}, {'exists' if cache['exists'] else 'missing'})"),
    ]
    lines = [f"{name:<13} {value}" for name, value in rows]
    problems = report["problems"]
    if problems:
        lines.append(f"\n{len(problems)} problem{'s' if len(problems) > 1 else ''}:")
        for item in problems:
            lines.append(f"  - {item['problem']}\n    fix: {item['fix']}")
    else:
        lines.append("\nNo problems found.")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from punie_tui.core.doctor import diagnose

    report = diagnose()
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
    # Doctor only reports: problems are listed with their fix, never an error exit.
    return EXIT_OK
