"""The dataset core: shapes, broken lines kept byte-identical, atomic save, external changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from punie_tui.core.atomic import backup_path
from punie_tui.core.dataset import (
    DatasetError,
    ExternalChangeError,
    expand_paths,
    load_dataset,
    load_datasets,
    split_chatml,
)

MESSAGES = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path


def test_each_line_becomes_a_record_with_path_and_line_number(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.jsonl", [json.dumps(MESSAGES).encode() + b"\n"] * 3)
    records = load_dataset(path).records
    assert [(r.path, r.line, r.shape) for r in records] == [(path, n, "messages") for n in (1, 2, 3)]


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        (MESSAGES, "messages"),
        ({"messages": MESSAGES["messages"], "tools": []}, "messages"),
        ({"text": "plain text"}, "text"),
        ({"prompt": "p", "completion": "c"}, "prompt-completion"),
        ({"query": "q", "tool_calls": [], "answer": "a", "messages": None}, "raw-distill"),
        ({"something": 1}, "unknown"),
    ],
)
def test_record_shapes_are_recognised(tmp_path: Path, value: dict, shape: str) -> None:
    path = write_lines(tmp_path / "a.jsonl", [json.dumps(value).encode() + b"\n"])
    assert load_dataset(path).records[0].shape == shape


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"{not json\n", "not JSON"),
        (b'{"text": "caf\xe9"}\n', "not UTF-8"),
        (b"[1, 2]\n", "not a JSON object"),
        (b"\n", "blank line"),
    ],
)
def test_broken_lines_become_broken_records_with_their_error(tmp_path: Path, raw: bytes, error: str) -> None:
    path = write_lines(tmp_path / "a.jsonl", [raw])
    record = load_dataset(path).records[0]
    assert record.broken and record.shape == "broken"
    assert error in record.error


def test_chatml_text_is_split_into_turns(tmp_path: Path) -> None:
    text = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>"
    path = write_lines(tmp_path / "a.jsonl", [json.dumps({"text": text}).encode() + b"\n"])
    assert load_dataset(path).records[0].turns() == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]


def test_chatml_split_keeps_an_unterminated_last_turn() -> None:
    assert split_chatml("<|im_start|>user\nhi<|im_end|><|im_start|>assistant\nhel") == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hel"},
    ]


def test_raw_distill_turns_map_tool_and_args_to_a_call_and_its_result(tmp_path: Path) -> None:
    value = {"query": "q", "tool_calls": [{"tool": "run_command", "args": {"command": "ls"}, "result": "a.py"}], "answer": "one file"}
    path = write_lines(tmp_path / "a.jsonl", [json.dumps(value).encode() + b"\n"])
    turns = load_dataset(path).records[0].turns()
    assert [t["role"] for t in turns] == ["user", "assistant", "tool", "assistant"]
    assert turns[1]["tool_calls"][0]["function"] == {"name": "run_command", "arguments": {"command": "ls"}}
    assert turns[2]["content"] == "a.py"


def test_unmodified_and_broken_lines_are_written_back_byte_identical(tmp_path: Path) -> None:
    lines = [
        b'{"text":  "odd   spacing",   "x": 1}\r\n',
        b"{broken\n",
        b'{"text": "caf\xe9"}\n',
        b'{"text": "\\u00e9 escaped"}\n',
        b'{"text": "last line, no newline"}',
    ]
    path = write_lines(tmp_path / "a.jsonl", lines)
    original = path.read_bytes()
    dataset = load_dataset(path)
    dataset.replace(0, {"text": "changed"})
    dataset.save()
    assert path.read_bytes() == b'{"text": "changed"}\r\n' + original[len(lines[0]) :]


def test_save_is_atomic_and_keeps_a_backup(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.jsonl", [b'{"text": "a"}\n'])
    dataset = load_dataset(path)
    dataset.replace(0, {"text": "b"})
    dataset.save()
    assert backup_path(path).read_bytes() == b'{"text": "a"}\n'
    assert path.read_bytes() == b'{"text": "b"}\n'
    assert not dataset.dirty
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_save_keeps_file_mode(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.jsonl", [b'{"text": "a"}\n'])
    path.chmod(0o640)
    dataset = load_dataset(path)
    dataset.replace(0, {"text": "b"})
    dataset.save()
    assert path.stat().st_mode & 0o777 == 0o640


def test_save_refuses_when_the_file_changed_on_disk(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "a.jsonl", [b'{"text": "a"}\n'])
    dataset = load_dataset(path)
    path.write_bytes(b'{"text": "someone else"}\n')
    dataset.replace(0, {"text": "mine"})
    with pytest.raises(ExternalChangeError, match="changed on disk"):
        dataset.save()
    assert path.read_bytes() == b'{"text": "someone else"}\n'


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_lines(tmp_path / "a.jsonl", [b'{"text": "a"}\n'])
    dataset = load_dataset(path)
    dataset.replace(0, {"text": "b"})

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(DatasetError, match=r"a.jsonl: cannot write: disk full \(nothing was written\)"):
        dataset.save()
    assert path.read_bytes() == b'{"text": "a"}\n' and dataset.dirty
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.jsonl", "no such file"),
        (lambda d: d, "is a folder"),
        (lambda d: write_lines(d / "bin.jsonl", [b"\x00\x01\x02"]), "not a text file"),
    ],
)
def test_unusable_files_raise_a_clear_error(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_dataset(make(tmp_path))


def test_folders_expand_to_their_jsonl_files_sorted(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.jsonl", "a.jsonl", "sub/c.jsonl", "notes.txt"):
        (tmp_path / name).write_text('{"text": "x"}\n')
    assert [p.relative_to(tmp_path).as_posix() for p in expand_paths([tmp_path])] == ["a.jsonl", "b.jsonl", "sub/c.jsonl"]


def test_real_datasets_load_with_every_line_kept(punie_data: Path) -> None:
    datasets = load_datasets([punie_data])
    assert len(datasets) == 13
    for dataset in datasets:
        assert dataset.to_bytes() == dataset.path.read_bytes()
        assert not any(record.broken for record in dataset.records)


def test_real_datasets_have_the_shapes_their_readme_names(punie_data: Path) -> None:
    poc = load_dataset(punie_data / "training_examples_poc.jsonl")
    assert {r.shape for r in poc.records} == {"raw-distill"}
    assert len(poc.records) == 5
    hand = load_dataset(punie_data / "hand-authored/tool-calling/train.jsonl")
    assert {r.shape for r in hand.records} == {"messages"} and len(hand.records) == 28
    synthetic = load_dataset(punie_data / "synthetic/tool-calling/train.jsonl")
    assert len(synthetic.records) == 85
