"""`punie-tui doctor` as a user runs it: a real process that measures MLX in a child of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from punie_tui.core import accel

pytestmark = pytest.mark.slow


def doctor(tmp_path: Path, *args: str, **env_changes: str) -> subprocess.CompletedProcess:
    env = accel.without_preload(os.environ)
    env.pop(accel.SWITCH_ENV, None)
    env.pop(accel.LIB_ENV, None)
    env.update(HF_HUB_CACHE=str(tmp_path / "hub"), **env_changes)
    return subprocess.run([sys.executable, "-m", "punie_tui", "doctor", *args], env=env, capture_output=True, text=True, timeout=120)


def test_doctor_json_reports_every_field_and_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "hub").mkdir()
    proc = doctor(tmp_path, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert set(report) == {
        "platform", "machine", "python", "python_executable", "versions", "mlx", "blas",
        "memory", "demo_model", "hf_cache", "problems",
    }
    assert set(report["versions"]) == {"mlx", "mlx-lm", "textual", "pydantic-ai"}
    assert all(report["versions"].values())
    assert report["mlx"]["device"] == "cpu" and report["mlx"]["error"] is None
    assert report["mlx"]["gflops"] > 0
    assert report["memory"]["total_bytes"] >= report["memory"]["available_bytes"] > 0
    assert report["hf_cache"] == {"path": str(tmp_path / "hub"), "source": "HF_HUB_CACHE", "exists": True}
    assert report["demo_model"]["state"] in ("built", "not built")
    if report["blas"]["optimized"]:
        # punie-tui re-executed itself with the library, and MLX children bind to it.
        assert report["blas"]["preload"] == "on" and report["blas"]["this_process"]
        assert report["mlx"]["blas_kind"] == "optimized"
        assert report["problems"] == []


@pytest.mark.skipif(accel.reference_blas() is None, reason="needs the mlx-cpu wheel on Linux")
def test_doctor_lists_the_missing_library_and_cache_with_their_fixes(tmp_path: Path) -> None:
    proc = doctor(tmp_path, "--json", PUNIE_BLAS_LIB=str(tmp_path / "nowhere.so"))
    assert proc.returncode == 0
    report = json.loads(proc.stdout)
    assert report["mlx"]["blas_kind"] == "reference"
    assert report["blas"]["preload"] == "missing" and not report["blas"]["this_process"]
    fixes = {item["fix"] for item in report["problems"]}
    assert f"mkdir -p {tmp_path / 'hub'}" in fixes
    assert any("PUNIE_BLAS_LIB" in item["problem"] and "reference BLAS" in item["problem"] for item in report["problems"])


def test_doctor_text_names_each_check(tmp_path: Path) -> None:
    proc = doctor(tmp_path)
    assert proc.returncode == 0
    for label in ("platform", "python", "packages", "MLX device", "MLX BLAS", "matmul", "memory", "demo model", "HF cache"):
        assert f"\n{label} " in f"\n{proc.stdout}"
    assert f"fix: mkdir -p {tmp_path / 'hub'}" in proc.stdout
