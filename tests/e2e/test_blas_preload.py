"""The optimized-BLAS preload through real processes: the one re-exec of punie-tui, demo training."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from punie_tui.core import accel
from punie_tui.core.accel_probe import run_probe

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(accel.reference_blas() is None, reason="needs the mlx-cpu wheel on Linux"),
]

# Records every interpreter start (argv, LD_PRELOAD, the BLAS libraries mapped) in a file: a
# re-exec shows up as a second start of the same process.
SITECUSTOMIZE = """
import json, os, sys
with open("/proc/self/maps") as maps:
    blas = sorted({line.split()[-1] for line in maps if "blas" in line.split()[-1].rsplit("/", 1)[-1]})
with open(os.environ["PUNIE_TEST_STARTS"], "a") as out:
    out.write(json.dumps({"pid": os.getpid(), "argv": sys.orig_argv[1:], "preload": os.environ.get("LD_PRELOAD"), "blas": blas}) + "\\n")
"""


def run_recorded(tmp_path: Path, args: list[str], **env_changes: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    (tmp_path / "site").mkdir(exist_ok=True)
    (tmp_path / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    starts = tmp_path / "starts.jsonl"
    env = accel.without_preload(os.environ)
    env.pop(accel.SWITCH_ENV, None)
    env.pop(accel.REEXEC_MARKER_ENV, None)
    env.update(PYTHONPATH=str(tmp_path / "site"), PUNIE_TEST_STARTS=str(starts), **env_changes)
    proc = subprocess.run([sys.executable, "-m", "punie_tui", *args], env=env, capture_output=True, text=True, timeout=60)
    return proc, [json.loads(line) for line in starts.read_text().splitlines()]


def test_reexec_happens_once_and_keeps_arguments_and_exit_code(tmp_path: Path) -> None:
    # Any library exporting the BLAS symbols will do; the bundled one exists wherever mlx-cpu does.
    library = str(accel.reference_blas())
    args = ["doctor", "--no-such-option", "two words"]
    proc, starts = run_recorded(tmp_path, args, PUNIE_BLAS_LIB=library)
    assert proc.returncode == 2
    assert "unrecognized arguments: --no-such-option two words" in proc.stderr
    assert len(starts) == 2
    first, second = starts
    assert first["pid"] == second["pid"]  # exec replaces the process
    assert first["argv"] == second["argv"] == ["-m", "punie_tui", *args]
    assert first["preload"] is None and second["preload"] == library
    assert library in second["blas"]


def test_off_switch_starts_the_process_once_without_preload(tmp_path: Path) -> None:
    proc, starts = run_recorded(tmp_path, ["doctor", "--no-such-option"], PUNIE_BLAS_LIB=str(accel.reference_blas()), PUNIE_BLAS_PRELOAD="0")
    assert proc.returncode == 2
    assert [start["preload"] for start in starts] == [None]


def test_missing_library_starts_the_process_once(tmp_path: Path) -> None:
    proc, starts = run_recorded(tmp_path, ["doctor", "--no-such-option"], PUNIE_BLAS_LIB=str(tmp_path / "nowhere.so"))
    assert proc.returncode == 2
    assert len(starts) == 1


def test_demo_training_gives_the_same_losses_with_and_without_the_optimized_blas() -> None:
    status = accel.blas_status(accel.without_preload(os.environ))
    if status.optimized is None:
        pytest.skip(f"no optimized BLAS on this machine ({accel.INSTALL_COMMAND})")
    plain = accel.without_preload(os.environ)
    reference = run_probe(["train", "--iters", "4"], plain)
    optimized = run_probe(["train", "--iters", "4"], accel.mlx_env(plain, status))
    assert reference["blas"] == os.path.normpath(status.reference_blas)
    assert optimized["blas"] == str(status.optimized)
    assert len(reference["losses"]) == len(optimized["losses"]) == 4
    for ref, opt in zip(reference["losses"], optimized["losses"], strict=True):
        # Another BLAS sums in another order; each update carries the rounding on, so allow a
        # little more than float32's 1e-7, still far below the loss's moves between steps.
        assert math.isclose(ref, opt, rel_tol=1e-4)
    # The run learns, by far more than the tolerance: equal losses are not equal by being constant.
    assert reference["losses"][-1] < 0.9 * reference["losses"][0]


def test_home_screen_says_how_to_get_the_faster_library_when_none_is_found(tmp_path: Path) -> None:
    from tests.e2e.tmux import TmuxApp

    env = {
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PUNIE_BLAS_LIB": str(tmp_path / "nowhere.so"),
        "PUNIE_BLAS_PRELOAD": "1",
        "LD_PRELOAD": "",
    }
    app = TmuxApp([], env=env, size=(120, 30))
    try:
        screen = app.wait_for("Balance")
        unwrapped = " ".join(" ".join(line.strip("▊▎ ").split()) for line in screen.splitlines())
        assert "slow reference BLAS" in unwrapped
        assert "training runs 4-8x faster" in unwrapped
        assert "sudo apt-get install libopenblas0-pthread" in unwrapped
        app.press("C-q")
        assert "EXITED 0" in app.wait_for("EXITED")
    finally:
        app.close()


def bound_blas_in_child(statement_before: str, **env_changes: str) -> list[str]:
    code = (
        "from punie_tui.core.accel import preload_in_process\n"
        f"{statement_before}\n"
        "loaded = preload_in_process()\n"
        "import mlx.core\n"
        "from punie_tui.core.accel_probe import bound_blas_library\n"
        "print(loaded)\n"
        "print(bound_blas_library())\n"
    )
    env = accel.without_preload(os.environ)
    env.pop(accel.SWITCH_ENV, None)
    env.update(env_changes)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    return proc.stdout.splitlines()


def test_in_process_preload_binds_mlx_imported_afterwards(tmp_path: Path) -> None:
    # A copy of the bundled library under another name: binding to it can only come from the preload.
    library = tmp_path / "libcopyblas.so.0"
    shutil.copy(accel.reference_blas(), library)
    assert bound_blas_in_child("", PUNIE_BLAS_LIB=str(library)) == [str(library), str(library)]


def test_in_process_preload_does_nothing_once_mlx_is_imported(tmp_path: Path) -> None:
    library = tmp_path / "libcopyblas.so.0"
    shutil.copy(accel.reference_blas(), library)
    loaded, bound = bound_blas_in_child("import mlx.core", PUNIE_BLAS_LIB=str(library))
    assert loaded == "None"
    assert bound == os.path.normpath(accel.reference_blas())
