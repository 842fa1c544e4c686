"""Start-up time: process start to the home screen drawn, against a minimal Textual app.

Both run in a real terminal (tmux) started the same way; the time is until the screen shows a
marker text, polled every 5 ms. Runs are interleaved; medians are compared (goal: ratio <= 1.5).
Punie times: the home screen drawn (the workspace still opening in a worker), the same without
the one re-exec that preloads OpenBLAS on Linux (PUNIE_BLAS_PRELOAD=0), and the workspace
summary shown.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = 11

MINIMAL_APP = """
from textual.app import App
from textual.widgets import Footer, Header, Static

class Minimal(App):
    def compose(self):
        yield Header()
        yield Static("Minimal app ready")
        yield Footer()

Minimal().run()
"""


def time_to_marker(command: str, marker: str, env: dict[str, str]) -> float:
    socket = f"punie-bench-{uuid.uuid4().hex[:8]}"
    tmux = ["tmux", "-L", socket]
    start = time.perf_counter()
    subprocess.run([*tmux, "new-session", "-d", "-s", "b", "-x", "120", "-y", "40", command], env=env, check=True)
    try:
        while True:
            out = subprocess.run([*tmux, "capture-pane", "-p", "-t", "b"], capture_output=True, text=True).stdout
            if marker in out:
                return time.perf_counter() - start
            if time.perf_counter() - start > 60:
                raise RuntimeError(f"{marker!r} never appeared; screen:\n{out}")
            time.sleep(0.005)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def main() -> None:
    if shutil.which("tmux") is None:
        sys.exit("benchmarks/startup.py needs tmux (apt-get install tmux)")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "XDG_DATA_HOME": f"{tmp}/data", "XDG_CONFIG_HOME": f"{tmp}/config", "PYTHONPATH": str(REPO), "TERM": "xterm-256color"}
        # Both apps start from compiled bytecode, as an installed package does (pip compiles at
        # install time). Without this, a PYTHONDONTWRITEBYTECODE environment recompiles punie's
        # modules on every start but not textual's, which pip compiled: ~30 ms against punie only.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = f"{tmp}/pycache"
        minimal = Path(tmp) / "minimal.py"
        minimal.write_text(MINIMAL_APP)
        # The first starts create the demo workspace copy and the bytecode; measure the steady state.
        punie_cmd = f"{sys.executable} -m punie_tui"
        time_to_marker(punie_cmd, "records in", env)
        time_to_marker(f"{sys.executable} {minimal}", "Minimal app ready", env)
        no_reexec = {**env, "PUNIE_BLAS_PRELOAD": "0"}
        bare, drawn, plain, summarized = [], [], [], []
        for _ in range(RUNS):
            bare.append(time_to_marker(f"{sys.executable} {minimal}", "Minimal app ready", env))
            drawn.append(time_to_marker(punie_cmd, "Balance", env))
            plain.append(time_to_marker(punie_cmd, "Balance", no_reexec))
            summarized.append(time_to_marker(punie_cmd, "records in", env))
    b = statistics.median(bare)
    rows = (
        ("minimal Textual app", bare),
        ("punie-tui home drawn", drawn),
        ("  without BLAS re-exec", plain),
        ("punie-tui summary shown", summarized),
    )
    for label, runs in rows:
        median = statistics.median(runs)
        print(f"{label:24} median {median * 1000:4.0f} ms  ratio {median / b:.2f}x  (runs: {', '.join(f'{x * 1000:.0f}' for x in runs)})")
    print("goal: home drawn <= 1.5x the minimal app")


if __name__ == "__main__":
    main()
