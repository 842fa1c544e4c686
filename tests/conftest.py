"""Fixtures shared by all tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from punie_tui.core.accel import preload_in_process

# MLX run inside the test process gets the optimized BLAS as punie's own processes do (Linux; see
# core/accel.py): before any test imports MLX.
preload_in_process()

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


# Iterations of the demo model trained for tests: enough for well-formed tool calls on training
# prompts, few enough that a cold build stays within a few minutes on 2 CPU cores. The CLI's
# `punie-tui demo-model OUT --train` defaults to more.
TRAINED_DEMO_MODEL_TEST_ITERS = 600


@pytest.fixture(scope="session")
def trained_demo_model() -> Path:
    """The demo model fine-tuned on the demo examples, trained once per content hash into the
    user cache folder (~/.cache/punie-tui) and reused by later sessions."""
    from punie_tui.core.training.demo_training import ensure_trained_demo_model

    return ensure_trained_demo_model(iters=TRAINED_DEMO_MODEL_TEST_ITERS)


@pytest.fixture(scope="session")
def untrained_demo_model() -> Path:
    """The demo model with random weights (cached by content hash in the user cache folder)."""
    from punie_tui.core.demo_model import ensure_demo_model

    return ensure_demo_model()
