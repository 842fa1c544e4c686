"""Label screen latency: key press to the next example drawn, p50/p95, on a 100k-example workspace.

The workspace is generated from the bundled demo examples (or, before they exist, the real
examples in tests/fixtures/domain_ws), each copy made unique. The app runs headless under Textual's
pilot. A sample is the time from the key event entering the app (as the terminal driver sends it)
until the screen has acted on it and its compositor has redrawn the changed widgets (the redraw
`Pilot.pause` forces); `Pilot.press` itself is not used because it sleeps until the CPU looks idle.
In a real terminal the redraw waits for the next frame (<= 16.7 ms at 60 fps) on top of this.
Between keys the app settles untimed, as it does while a person reads the example.
The process's CPU time per key is printed too: on a shared machine, wall time includes waiting
for other processes. The journal's append + fsync per decision is timed on its own. Goal: p95 <= 30 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _examples import base_examples  # noqa: E402

from textual import events  # noqa: E402

from punie_tui.app import PunieApp  # noqa: E402
from punie_tui.config import open_workspace  # noqa: E402

EXAMPLES = 100_000
PRESSES = 300


def write_workspace(root: Path, count: int) -> None:
    """`count` examples cycled from the base set, each user turn made unique."""
    base = base_examples()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "examples.jsonl", "w", encoding="utf-8") as out:
        for i in range(count):
            data = json.loads(json.dumps(base[i % len(base)]))
            data.pop("punie", None)
            for turn in data["messages"]:
                if turn.get("role") == "user":
                    turn["content"] = f"{turn['content']} (variant {i})"
                    break
            out.write(json.dumps(data, ensure_ascii=False) + "\n")


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms   max {ordered[-1] * 1000:6.1f} ms"


async def measure(root: Path) -> None:
    app = PunieApp(open_workspace(root), start_screen="label")
    async with app.run_test(size=(120, 36)) as pilot:
        start = time.perf_counter()
        await app.workers.wait_for_complete()
        await pilot.pause()
        print(f"workspace opened (load, journal replay, suggestions) in {time.perf_counter() - start:.1f} s")
        screen = app.screen

        session = screen.session
        chars = {"space": " "}

        async def timed(key: str) -> tuple[float, float]:
            # Sent as the terminal driver would; then the event loop runs until the screen acted.
            before = (session.position, len(session.pending))
            t0, c0 = time.perf_counter(), time.process_time()
            app._driver.send_message(events.Key(key, chars.get(key, key)))
            while (session.position, len(session.pending)) == before:
                await asyncio.sleep(0)
            screen._on_timer_update()  # the redraw the next frame would do (what Pilot.pause forces)
            sample = time.perf_counter() - t0, time.process_time() - c0
            # A person reads before the next key: let the app settle (sidebar, timers) untimed.
            await pilot.pause()
            return sample

        keys = ("t", "d", "d", "space")
        labelling_both = [await timed(keys[i % len(keys)]) for i in range(PRESSES)]
        moving_both = [await timed("n") for _ in range(PRESSES // 2)] + [await timed("p") for _ in range(PRESSES // 2)]
        labelling = [total for total, _ in labelling_both]
        moving = [total for total, _ in moving_both]
        fsyncs = []
        for item in range(PRESSES, PRESSES + 100):
            t0 = time.perf_counter()
            session.set_label(item, "tool")
            fsyncs.append(time.perf_counter() - t0)
        print(f"label key (t/d/space), {len(labelling)} presses: {percentiles(labelling)}   goal p95 <= 30 ms")
        print(f"next/previous (n/p), {len(moving)} presses:  {percentiles(moving)}")
        # CPU time of this process: what the work costs without the other processes on the machine.
        print(f"  CPU time of the app for a label key:  {percentiles([c for _, c in labelling_both])}")
        print(f"  CPU time of the app for a move key:   {percentiles([c for _, c in moving_both])}")
        print(f"decision in core alone (journal append + fsync + apply): {percentiles(fsyncs)}")
        p95_label = sorted(labelling)[round(0.95 * len(labelling)) - 1]
        print(f"ratio label p95 / goal: {p95_label * 1000 / 30:.2f}   share of it spent in core: "
              f"{statistics.median(fsyncs) / statistics.median(labelling):.0%} (medians)")


def main() -> None:
    # Inside the checkout rather than /tmp, which may be in memory where fsync costs nothing.
    with tempfile.TemporaryDirectory(dir=REPO, prefix=".bench-") as tmp:
        root = Path(tmp) / "ws"
        start = time.perf_counter()
        write_workspace(root, EXAMPLES)
        size = (root / "examples.jsonl").stat().st_size / 1e6
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times grow with it)")
        print(f"generated {EXAMPLES} examples ({size:.0f} MB) in {time.perf_counter() - start:.1f} s")
        asyncio.run(measure(root))


if __name__ == "__main__":
    main()
