"""How fast `punie-tui check` is against the floor of reading and JSON-parsing the same file.

Generates 100k chat examples of about 580 bytes (tool calls with results, direct answers, 1% with
planted defects) in a temporary folder, then times in one run:
  floor: read the file and json.loads every line, nothing else;
  load_dataset: what every punie command does to read a file (records kept, no checks);
  check: what `punie-tui check FILE` does (stream the records through every lint rule, a big file
  split over the cores this process may use), without printing; its CPU time includes the workers'.
Goal (issue 3): check <= 2x the floor. Then the time until `punie-tui inspect` shows the first rows
of the same file (goal < 1 s), in a fresh process so imports count.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from punie_tui.core.checking import check_paths
from punie_tui.core.dataset import load_dataset
from punie_tui.core.lint import LintContext
from punie_tui.core.parallel import usable_cores

EXAMPLES = 100_000
SYSTEM = "You are Punie, an AI coding assistant. Use tools when needed."
FILES = ["src/app.py", "src/models/user.py", "tests/test_api.py", "README.md", "pyproject.toml"]
COMMANDS = ["pytest -q", "ruff check src", "git status --short", "grep -rn TODO src/", "ls -la src"]


def _call(rng: random.Random) -> tuple[str, dict]:
    if rng.random() < 0.5:
        return "read_file", {"path": rng.choice(FILES)}
    return "run_command", {"command": rng.choice(COMMANDS)}


def example(rng: random.Random, index: int) -> dict:
    """One example: 60% a call, its result and an answer; 40% a direct answer; 1% defective."""
    user = f"Please look at the project and tell me what is going on with item {index} in the code base."
    if rng.random() < 0.4:
        answer = ("A decorator wraps a function to add behaviour without changing its code; in Python it is applied "
                  "with the @ syntax and receives the function as its argument. " * 2)[: 250 + rng.randrange(60)]
        return {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user},
                             {"role": "assistant", "content": answer}]}
    name, arguments = _call(rng)
    call = {"name": name, "arguments": arguments}
    if rng.random() < 0.01:
        call = {"tool": name, "args": arguments}
    body = json.dumps(call)
    result = "def main():\n    return 0\n" * (1 + rng.randrange(3))
    return {"messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": user},
        {"role": "assistant", "content": f"<tool_call>\n{body}\n</tool_call>"},
        {"role": "user", "content": f"<tool_response>\n{result}\n</tool_response>"},
        {"role": "assistant", "content": "The file defines main(), which returns 0; nothing else runs at import."},
    ]}


def write_dataset(path: Path, count: int = EXAMPLES, seed: int = 0) -> int:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for index in range(count):
            handle.write(json.dumps(example(rng, index), ensure_ascii=False) + "\n")
    return path.stat().st_size


def floor(path: Path) -> int:
    count = 0
    with open(path, "rb") as handle:
        for line in handle:
            json.loads(line)
            count += 1
    return count


# Run in a fresh interpreter so the imports of the app count too; prints two numbers.
_FIRST_ROWS = """
import sys, time
start, start_cpu = time.perf_counter(), time.process_time()
from pathlib import Path
from punie_tui.app import PunieApp
from punie_tui.config import open_workspace
from punie_tui.screens.inspect import InspectScreen
from punie_tui.widgets.example_list import ExampleList

async def main():
    path = Path(sys.argv[1])
    app = PunieApp(open_workspace(path.parent), start_screen="inspect", screen_args={"path": path})
    async with app.run_test(size=(120, 40)) as pilot:
        while not (isinstance(app.screen, InspectScreen) and app.screen.query_one(ExampleList).count):
            await pilot.pause(0.005)
        first, first_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        while not (app.screen.lint_done and app.screen.dataset is not None):
            await pilot.pause(0.02)
        print(first, first_cpu, time.perf_counter() - start)

import asyncio
asyncio.run(main())
"""


def screen_times(path: Path) -> tuple[float, float, float]:
    """Seconds (wall, CPU) from start until the inspect screen shows its first rows, and (wall)
    until every example is linted."""
    out = subprocess.run([sys.executable, "-c", _FIRST_ROWS, str(path)], capture_output=True, text=True, check=True).stdout
    first, first_cpu, done = out.split()
    return float(first), float(first_cpu), float(done)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (check's forked workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(func, *args) -> tuple[float, float, object]:
    start, start_cpu = time.perf_counter(), cpu_seconds()
    result = func(*args)
    return time.perf_counter() - start, cpu_seconds() - start_cpu, result


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.jsonl"
        size = write_dataset(path)
        context = LintContext(target="qwen25-json", schemas={
            "read_file": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
            "run_command": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
        })
        # Alternate the two and keep each one's best, so a busy moment on the machine hits both alike.
        floor_wall = floor_cpu = load_wall = load_cpu = check_wall = check_cpu = float("inf")
        for _ in range(runs):
            wall, cpu, lines = timed(floor, path)
            floor_wall, floor_cpu = min(floor_wall, wall), min(floor_cpu, cpu)
            # Not kept: 100k loaded records alive would make every fork of check copy their page tables.
            wall, cpu = timed(load_dataset, path)[:2]
            load_wall, load_cpu = min(load_wall, wall), min(load_cpu, cpu)
            wall, cpu, reports = timed(check_paths, [path], context)
            check_wall, check_cpu = min(check_wall, wall), min(check_cpu, cpu)
        report = reports[0]
        print(f"file: {EXAMPLES} examples, {size / EXAMPLES:.0f} bytes each on average, {size / 1e6:.1f} MB; best of {runs} runs")
        print(f"floor (read + json.loads per line): {floor_wall:5.2f} s wall, {floor_cpu:5.2f} s CPU   ({lines} lines)")
        print(f"load_dataset (records, no checks):  {load_wall:5.2f} s wall, {load_cpu:5.2f} s CPU")
        label = f"check (every rule, {usable_cores()} cores):"
        print(f"{label:36}{check_wall:5.2f} s wall, {check_cpu:5.2f} s CPU   "
              f"({report.errors} errors, {report.warnings} warnings)")
        print(f"ratio check / floor: {check_wall / floor_wall:.2f}x wall, {check_cpu / floor_cpu:.2f}x CPU   (goal <= 2.00x); "
              f"check / load_dataset: {check_wall / load_wall:.2f}x wall, {check_cpu / load_cpu:.2f}x CPU")
        first, first_cpu, done = min(screen_times(path) for _ in range(runs))
        print(f"inspect screen, fresh process (imports included): first rows after {first:.2f} s wall, "
              f"{first_cpu:.2f} s CPU (goal < 1 s); all {EXAMPLES} linted after {done:.2f} s wall")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
