"""Fixtures shared by all tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PUNIE_DATA = REPO.parent / "shared" / "punie-data"


@pytest.fixture(scope="session")
def punie_data() -> Path:
    """The real datasets and logs beside the checkout (../shared/punie-data); skip without them."""
    if not PUNIE_DATA.is_dir():
        pytest.skip(f"real data not found at {PUNIE_DATA} (only present beside the project's own checkout)")
    return PUNIE_DATA


@pytest.fixture()
def demo_workspace(tmp_path: Path) -> Path:
    """A fresh copy of the bundled demo workspace."""
    from punie_tui.core.demo import ensure_demo_workspace

    return ensure_demo_workspace(target=tmp_path / "demo")


@pytest.fixture(scope="session")
def demo_model() -> Path:
    """The untrained demo model, built once per tokenizer and parameters in the user cache and reused."""
    from punie_tui.core.demo_model import ensure_demo_model

    return ensure_demo_model()


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests must never read or write the real user's settings, demo workspace or labels.
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))


@pytest.fixture()
def domain_workspace(tmp_path: Path) -> Path:
    """A copy of tests/fixtures/domain_ws: 66 real examples (16 tool, 50 direct), batch size 4."""
    import shutil

    target = tmp_path / "domain_ws"
    shutil.copytree(REPO / "tests" / "fixtures" / "domain_ws", target, ignore=shutil.ignore_patterns("README.md"))
    return target
