"""Core modules import no UI library, and start-up imports no heavy ML library."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import punie_tui.core


def core_modules() -> list[str]:
    return sorted(
        info.name for info in pkgutil.walk_packages(punie_tui.core.__path__, prefix="punie_tui.core.")
    ) + ["punie_tui.config"]


def imported_after(statement: str, prefixes: tuple[str, ...]) -> list[str]:
    code = (
        f"import sys; {statement}; "
        f"print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] in {prefixes!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line]


@pytest.mark.parametrize("module", core_modules())
def test_core_module_imports_without_textual_or_rich(module: str) -> None:
    assert imported_after(f"import {module}", ("textual", "rich")) == []


def test_app_start_up_imports_no_heavy_library() -> None:
    # pydantic too: settings are validated in a worker after the home screen is drawn.
    heavy = ("mlx", "mlx_lm", "pydantic", "pydantic_ai", "transformers", "torch")
    statement = "import punie_tui.cli as cli; cli.build_parser(['open']); import punie_tui.app, punie_tui.screens.home"
    assert imported_after(statement, heavy) == []
