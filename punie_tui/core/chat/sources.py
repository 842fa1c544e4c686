"""Which model a chat runs: the base model and adapter named on the command line or in punie.toml,
and the adapters and checkpoints of the workspace's training runs to pick from.
"""

from __future__ import annotations

from pathlib import Path

from punie_tui.config import Workspace
from punie_tui.core.chat.mlx_model import ADAPTER_CONFIG, ModelSource, ModelSourceError


def _path(workspace: Workspace, value: str | Path) -> Path:
    path = Path(value).expanduser()
    # Paths in punie.toml are relative to the workspace, like every other file it names.
    return path if path.is_absolute() else (workspace.root / path)


def _demo_model() -> tuple[Path, str]:
    """The trained demo model when the train screen has installed it, else the untrained one."""
    from punie_tui.core.training.demo_training import TRAINING_FILE, demo_model_install_dir

    installed = demo_model_install_dir()
    if (installed / TRAINING_FILE).exists():
        return installed, "demo model (trained)"
    from punie_tui.core.demo_model import ensure_demo_model

    return ensure_demo_model(), "demo model (untrained)"


def resolve_source(workspace: Workspace, model: str | Path | None = None, adapter: str | Path | None = None) -> ModelSource:
    """The model to chat with: arguments (relative to the current folder) first, then punie.toml's
    `model` and `adapter` (relative to the workspace), else the demo model (trained when installed).
    A model that is no folder but a Hugging Face id (`owner/name`) is left to mlx-lm to fetch."""
    name = None
    if model is not None:
        base = Path(model).expanduser()
    elif workspace.settings.model:
        base = _path(workspace, workspace.settings.model)
    else:
        base, name = _demo_model()
    if not base.is_dir():
        hub = ModelSource(Path(str(model or workspace.settings.model)))
        if not hub.is_hub_id:
            raise ModelSourceError(f"{base}: no such model folder (nor a Hugging Face id like owner/name)")
        base = hub.base
    adapter_path = None
    if adapter is not None:
        adapter_path = Path(adapter).expanduser()
    elif workspace.settings.adapter:
        adapter_path = _path(workspace, workspace.settings.adapter)
    if adapter_path is not None and not adapter_path.exists():
        raise ModelSourceError(f"{adapter_path}: no such adapter folder or checkpoint")
    source = ModelSource(base.resolve() if base.is_dir() else base, adapter_path.resolve() if adapter_path else None, name)
    source.adapter_dir()  # fails now, naming the path, rather than at load time
    return source


def run_adapters(workspace: Workspace) -> list[Path]:
    """Adapter folders and checkpoint files of the workspace's runs, newest run first."""
    found: list[Path] = []
    if not workspace.runs_dir.is_dir():
        return found
    runs = sorted((p for p in workspace.runs_dir.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for run in runs:
        for config in sorted(run.rglob(ADAPTER_CONFIG)):
            folder = config.parent
            found.append(folder)
            found.extend(sorted(folder.glob("*_adapters.safetensors"), reverse=True))
    return found
