"""Parsing mlx-lm output (old lines, the 0.32 table, crash traces) into training events.

Counts were verified by reading each log in ../shared/punie-data/logs by hand and with grep.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from punie_tui.core.training.logparse import LogParser, parse_log, parse_log_text
from punie_tui.core.training.summary import summarize


def _counts(events) -> dict[str, int]:
    return dict(Counter(event.type for event in events))


def test_old_log_phase28_has_every_report_and_finishes(punie_data: Path) -> None:
    events = parse_log(punie_data / "logs" / "train_phase28.log")
    assert _counts(events) == {"started": 1, "train": 80, "val": 5, "checkpoint": 4, "finished": 1}
    summary = summarize(events)
    assert summary["status"] == "finished"
    assert summary["peak_memory_gb"] == 21.059
    assert [c["iteration"] for c in summary["checkpoints"]] == [200, 400, 600, 800]
    assert summary["checkpoints"][0]["path"] == "adapters_phase28/0000200_adapters.safetensors"
    assert summary["final"] == {"train_loss": 0.319, "val_loss": 0.298, "test_loss": None}
    started = events[0]
    assert (started.trainable_parameters, started.total_parameters, started.iters) == (70_459_000, 30_532_123_000, 800)


def test_old_log_phase26_cut_off_mid_run_is_still_running(punie_data: Path) -> None:
    events = parse_log(punie_data / "logs" / "phase26_lsp_training.log")
    assert _counts(events) == {"started": 1, "train": 30, "val": 7, "checkpoint": 2}
    summary = summarize(events)
    assert summary["status"] == "running"
    assert summary["peak_memory_gb"] == 22.295
    first = summary["train"][0]
    assert first == {
        "iteration": 10,
        "train_loss": 2.283,
        "learning_rate": 1e-4,
        "iterations_per_second": 0.288,
        "tokens_per_second": 37.422,
        "trained_tokens": 1301,
        "peak_memory_gb": 20.024,
    }
    # The val report after the tqdm bar joined by \r on the same line is still found.
    assert [v["iteration"] for v in summary["val"]] == [1, 50, 100, 150, 200, 250, 300]


@pytest.mark.parametrize("name", ["mlx_lm_0.32_lora_pipe.stdout", "mlx_lm_0.32_lora_no_color.stdout"])
def test_new_table_with_and_without_ansi_codes(punie_data: Path, name: str) -> None:
    events = parse_log(punie_data / "logs" / name)
    assert _counts(events) == {"started": 1, "train": 4, "val": 3, "checkpoint": 2, "finished": 1}
    summary = summarize(events)
    assert [(t["iteration"], t["train_loss"], t["trained_tokens"]) for t in summary["train"]] == [
        (5, 4.999, 100),
        (10, 2.773, 200),
        (15, 2.184, 400),
        (20, 1.824, 500),
    ]
    assert [(v["iteration"], v["val_loss"]) for v in summary["val"]] == [(1, 6.783), (10, 2.394), (20, 1.673)]
    assert summary["checkpoints"] == [
        {"iteration": 10, "path": "0000010_adapters.safetensors"},
        {"iteration": 20, "path": "0000020_adapters.safetensors"},
    ]
    assert summary["status"] == "finished"
    assert events[0].iters == 20
    assert events[0].config["model"] == "/tmp/tiny_exp/tiny_qwen2"


def test_tokenizer_gate_log_has_no_training_events(punie_data: Path) -> None:
    assert parse_log(punie_data / "logs" / "gate0-tokenizer.txt") == []


def test_metal_out_of_memory_abort_is_an_out_of_memory_failure() -> None:
    text = (
        "Iter 10: Train loss 1.524, Learning Rate 1.000e-04, It/sec 0.596, Tokens/sec 95.716, "
        "Trained Tokens 1606, Peak mem 19.167 GB\n"
        "libc++abi: terminating due to uncaught exception of type std::runtime_error: "
        "[METAL] Command buffer execution failed: Insufficient Memory "
        "(00000008:kIOGPUCommandBufferCallbackErrorOutOfMemory)\n"
    )
    summary = summarize(parse_log_text(text))
    assert summary["status"] == "failed"
    assert summary["failure"] == "out-of-memory"
    assert len(summary["train"]) == 1


def test_missing_test_set_traceback_is_a_data_error() -> None:
    text = """Loading datasets
Traceback (most recent call last):
  File "/opt/mlx_lm/lora.py", line 340, in run
    train_set, valid_set, test_set = load_dataset(args, tokenizer)
  File "/opt/mlx_lm/tuner/datasets.py", line 310, in load_dataset
    raise ValueError(
ValueError: Test set not found or empty. Must provide test set for evaluation.
"""
    events = parse_log_text(text)
    assert [e.type for e in events] == ["failed"]
    assert events[0].cause == "data-error"
    assert events[0].message.startswith("ValueError: Test set not found")


def test_unrecognised_traceback_is_unknown_with_its_exception_line() -> None:
    text = 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nRuntimeError: boom\n'
    events = parse_log_text(text)
    assert (events[0].cause, events[0].message) == ("unknown", "RuntimeError: boom")


def test_disk_full_while_saving_is_disk_full() -> None:
    text = "OSError: [Errno 28] No space left on device: 'adapters/0000100_adapters.safetensors'\n"
    assert summarize(parse_log_text(text))["failure"] == "disk-full"


def test_nan_loss_is_parsed_as_nan() -> None:
    text = "Iter 20: Train loss nan, Learning Rate 1.000e-04, It/sec 0.5, Tokens/sec 9.0, Trained Tokens 99, Peak mem 1.0 GB\n"
    (event,) = parse_log_text(text)
    assert event.train_loss != event.train_loss


def test_feeding_in_pieces_gives_the_same_events_as_whole_text(punie_data: Path) -> None:
    text = (punie_data / "logs" / "mlx_lm_0.32_lora_pipe.stdout").read_text(encoding="utf-8")
    parser = LogParser()
    events = []
    for start in range(0, len(text), 37):
        events.extend(parser.feed(text[start : start + 37]))
    events.extend(parser.finish())
    assert events == parse_log_text(text)
