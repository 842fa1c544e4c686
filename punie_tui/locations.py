"""Where punie keeps per-user files; cheap to import (no pydantic), so start-up can use it."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "punie-tui"


def user_data_dir() -> Path:
    """Where punie keeps the demo workspace and the demo model for this user."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_config_dir() -> Path:
    """Where the user settings (`settings.toml`: keymap, theme) live."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    """Where rebuildable things go (demo model builds, caches)."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
