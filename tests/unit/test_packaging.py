"""pyproject.toml lists every package, since the demo data folder is mapped in by hand."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_sub_package_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "punie_tui").rglob("__init__.py")
    } | {"punie_tui.data"}
    assert found == listed


def test_every_command_module_is_registered_in_the_cli() -> None:
    from punie_tui.cli import COMMANDS

    modules = {p.stem for p in (REPO / "punie_tui" / "commands").glob("*.py")} - {"__init__", "common"}
    assert modules == {name.replace("-", "_") for name in COMMANDS}
