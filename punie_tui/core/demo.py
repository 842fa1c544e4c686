"""The demo workspace: a copy of the bundled `data/` in the user data folder, made on first use."""

from __future__ import annotations

import shutil
from pathlib import Path

from punie_tui.locations import user_data_dir

# Files of the bundled workspace that a demo copy gets; the tokenizer (used from the package by
# the demo model), the package marker and the docs stay behind.
_WORKSPACE_SUFFIXES = (".jsonl", ".json", ".toml")


def bundled_data_dir() -> Path:
    """The demo workspace shipped with the package (the repository's `data/`)."""
    # Imported here: every start of the app asks where the demo copy is, only a first start copies.
    from importlib.resources import files

    return Path(str(files("punie_tui.data")))


def demo_workspace_dir() -> Path:
    return user_data_dir() / "demo"


def ensure_demo_workspace(reset: bool = False, target: Path | None = None) -> Path:
    """Create the demo workspace copy if missing (or anew with `reset`); return its folder."""
    target = target or demo_workspace_dir()
    if reset and target.exists():
        shutil.rmtree(target)
    if target.exists():
        return target
    source = bundled_data_dir()
    staging = target.with_name(target.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for path in sorted(source.iterdir()):
        if path.is_file() and path.suffix in _WORKSPACE_SUFFIXES:
            shutil.copy2(path, staging / path.name)
    # A half-copied workspace must never be mistaken for a complete one.
    staging.rename(target)
    return target
