"""`punie-tui monitor`: one-shot JSON summaries and following a growing metrics file."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from punie_tui.cli import main


def test_once_json_prints_the_documented_shape(punie_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["monitor", str(punie_data / "logs" / "train_phase28.log"), "--once", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out) == {"status", "failure", "train", "val", "checkpoints", "peak_memory_gb", "final"}
    assert (out["status"], out["failure"], len(out["train"]), len(out["val"])) == ("finished", None, 80, 5)
    assert set(out["final"]) == {"train_loss", "val_loss", "test_loss"}


def test_once_on_a_failed_run_folder_exits_1_with_the_cause(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "metrics.jsonl").write_text(
        '{"type":"train","iteration":10,"train_loss":1.0,"peak_memory_gb":0.5}\n'
        '{"type":"memory","system_available_gb":1.0,"system_total_gb":8.0,"mlx_peak_gb":0.7}\n'
        '{"type":"failed","cause":"killed","exit_code":-9}\n',
        encoding="utf-8",
    )
    assert main(["monitor", str(tmp_path), "--once", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert (out["status"], out["failure"], out["peak_memory_gb"]) == ("failed", "killed", 0.7)


def test_a_folder_without_metrics_is_refused_with_its_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", str(tmp_path), "--once"]) == 2
    assert f"{tmp_path}: no metrics.jsonl" in capsys.readouterr().err


@pytest.mark.slow
def test_following_prints_events_as_they_are_appended_until_the_run_ends(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text('{"type":"train","iteration":1,"train_loss":2.0}\n', encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "punie_tui", "monitor", str(tmp_path), "--json", "--interval", "0.1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = json.loads(proc.stdout.readline())
        assert first["type"] == "train"
        time.sleep(0.3)
        with open(metrics, "a", encoding="utf-8") as handle:
            handle.write('{"type":"val","iteration":1,"val_loss":2.5}\n{"type":"finished"}\n')
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [json.loads(line)["type"] for line in rest.splitlines()] == ["val", "finished"]
    assert proc.returncode == 0
