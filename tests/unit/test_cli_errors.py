"""Every command turns unusable input into one line naming the file and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from punie_tui.cli import main


@pytest.fixture()
def broken_workspace(tmp_path: Path) -> Path:
    (tmp_path / "punie.toml").write_text("label_target = 'many'\n")
    (tmp_path / "train.jsonl").write_text('{"messages": [{"role": "user", "content": "hi"}]}\n')
    return tmp_path


@pytest.mark.parametrize(
    "command",
    [
        ["check", "{ws}"],
        ["split", "{ws}", "--out", "{ws}/../out"],
        ["stats", "{ws}"],
        ["gate", "{ws}"],
        ["eval", "{ws}"],
        ["chat", "{ws}", "--prompt", "hi"],
        ["fix", "{ws}/train.jsonl"],
    ],
    ids=lambda command: command[0],
)
def test_a_broken_punie_toml_is_one_message_and_exit_2(broken_workspace: Path, command: list[str], capsys) -> None:
    code = main([part.format(ws=broken_workspace) for part in command])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("punie-tui: ") and "punie.toml" in err and "label_target" in err


def test_a_missing_dataset_file_is_one_message_and_exit_2(tmp_path: Path, capsys) -> None:
    code = main(["convert", str(tmp_path / "nope.jsonl"), "--to", "qwen3-xml"])
    assert code == 2
    assert capsys.readouterr().err == f"punie-tui: {tmp_path / 'nope.jsonl'}: no such file\n"


def test_an_output_that_cannot_be_written_is_one_message_and_exit_2(tmp_path: Path, capsys) -> None:
    source = tmp_path / "d.jsonl"
    source.write_text('{"text": "a"}\n')
    (tmp_path / "out").mkdir()
    code = main(["convert", str(source), "--to", "qwen3-xml", "-o", str(tmp_path / "out")])
    assert code == 2
    assert capsys.readouterr().err.endswith(f"punie-tui: {tmp_path / 'out'}: cannot write: Is a directory (nothing was written)\n")
