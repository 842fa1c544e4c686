"""Fixtures for pilot and snapshot tests."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixed_copy(fixture: str) -> Path:
    """Copy a fixture workspace to a fixed path, so that snapshots (which show it) are stable."""
    target = Path(tempfile.gettempdir()) / "punie-snapshots" / fixture
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(FIXTURES / fixture, target)
    return target


@pytest.fixture()
def small_workspace() -> Path:
    return fixed_copy("small_workspace")


@pytest.fixture()
def fixed_domain_workspace() -> Path:
    """tests/fixtures/domain_ws (66 real examples) at a fixed path, for label screen snapshots."""
    return fixed_copy("domain_ws")
