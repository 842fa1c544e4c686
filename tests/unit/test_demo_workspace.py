"""The demo workspace is a copy of the bundled data, made on first use and restorable."""

from __future__ import annotations

from pathlib import Path

from punie_tui.cli import main
from punie_tui.core.demo import bundled_data_dir, demo_workspace_dir, ensure_demo_workspace

REPO = Path(__file__).resolve().parents[2]


def test_the_bundled_data_is_the_repositorys_data_folder() -> None:
    assert bundled_data_dir().resolve() == (REPO / "data").resolve()


def test_first_use_copies_the_workspace_files_and_leaves_data_untouched(tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in bundled_data_dir().rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    target = ensure_demo_workspace(target=tmp_path / "demo")
    copied = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    assert copied == {"examples.jsonl", "incoming.jsonl", "punie.toml", "queries.jsonl", "tools.json"}
    assert {p: p.read_bytes() for p in before} == before


def test_an_existing_demo_workspace_is_kept_and_reset_restores_it(tmp_path: Path) -> None:
    target = ensure_demo_workspace(target=tmp_path / "demo")
    (target / "mine.jsonl").write_text('{"text": "user work"}\n')
    assert (ensure_demo_workspace(target=target) / "mine.jsonl").exists()
    assert not (ensure_demo_workspace(reset=True, target=target) / "mine.jsonl").exists()


def test_a_half_made_copy_is_replaced(tmp_path: Path) -> None:
    staging = tmp_path / "demo.partial"
    staging.mkdir()
    (staging / "junk.jsonl").write_text("{}\n")
    target = ensure_demo_workspace(target=tmp_path / "demo")
    assert not staging.exists() and not (target / "junk.jsonl").exists()


def test_demo_workspace_lives_in_the_user_data_folder() -> None:
    # conftest points XDG_DATA_HOME at a temp folder for every test.
    assert demo_workspace_dir().parts[-2:] == ("punie-tui", "demo")


def test_cli_reports_an_unusable_workspace_with_exit_2(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path / "missing")]) == 2
    assert f"{tmp_path / 'missing'}: no such folder" in capsys.readouterr().err
