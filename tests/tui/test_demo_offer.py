"""The offer to build and train the demo model, on the chat and eval screens."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from punie_tui.app import PunieApp
from punie_tui.config import open_workspace
from punie_tui.core.training import demo_training
from punie_tui.core.training.demo_training import TRAINING_FILE, demo_model_install_dir
from punie_tui.widgets.demo_offer import DemoModelOffer


def workspace_without_model(tmp_path: Path) -> Path:
    (tmp_path / "punie.toml").write_text('system_prompt = "You are Punie."\n')
    return tmp_path


@pytest.mark.parametrize("screen", ["chat", "evaluate"])
async def test_offer_shows_when_the_trained_demo_model_is_missing(tmp_path: Path, screen: str) -> None:
    app = PunieApp(open_workspace(workspace_without_model(tmp_path)), start_screen=screen)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert app.screen.query_one(DemoModelOffer).display


async def test_offer_is_hidden_once_the_trained_demo_model_is_installed(tmp_path: Path) -> None:
    demo_model_install_dir().mkdir(parents=True)
    (demo_model_install_dir() / TRAINING_FILE).write_text("{}")
    app = PunieApp(open_workspace(workspace_without_model(tmp_path)), start_screen="chat")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert not app.screen.query_one(DemoModelOffer).display


async def test_no_offer_when_the_workspace_names_a_model(tmp_path: Path) -> None:
    (tmp_path / "punie.toml").write_text('model = "mlx-community/Qwen2.5-Coder-7B-Instruct-4bit"\n')
    app = PunieApp(open_workspace(tmp_path), start_screen="chat")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert not app.screen.query(DemoModelOffer)


@pytest.mark.slow
async def test_build_button_trains_the_demo_model_with_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real build, shortened to 10 iterations.
    monkeypatch.setattr(demo_training, "start_demo_model_build", functools.partial(demo_training.start_demo_model_build, iters=10))
    app = PunieApp(open_workspace(workspace_without_model(tmp_path)), start_screen="chat")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        offer = app.screen.query_one(DemoModelOffer)
        offer.start()
        progress = []
        for _ in range(1200):
            await pilot.pause(0.1)
            progress.append(offer.query_one("ProgressBar").progress)
            if offer.process is None:
                break
        await pilot.pause()
        assert offer.process is None and not offer.display, offer.run_dir
        assert max(progress) == 10
        # The chat loads the trained model for its next prompt.
        assert app.screen._demo_model_changed
    assert (demo_model_install_dir() / TRAINING_FILE).is_file()
    assert (demo_model_install_dir() / "config.json").is_file()
