"""What an eval runs against: a base model, a base plus an adapter, every checkpoint of a training
run (with the run's validation loss at each), or an OpenAI-compatible server already running.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from punie_tui.config import Workspace
from punie_tui.core.chat.mlx_model import ADAPTER_CONFIG, ModelSource, ModelSourceError
from punie_tui.core.chat.server import SERVER_MODEL_NAME
from punie_tui.core.training.events import EventFileError, TrainEvent, ValEvent, read_events
from punie_tui.core.training.source import METRICS_FILE

TargetKind = Literal["model", "adapter", "checkpoint", "server"]
# The runner's config file (core.training.worker's CONFIG_FILE; that module loads MLX helpers).
RUN_CONFIG = "config.yaml"
# mlx-lm names checkpoints by their iteration, zero-padded: `0000100_adapters.safetensors`.
_CHECKPOINT = re.compile(r"^(\d+)_adapters\.safetensors$")


@dataclass(frozen=True)
class Target:
    """One column of the eval: a model source run in-process, or a server's URL."""

    name: str
    kind: TargetKind
    source: ModelSource | None = None
    url: str | None = None
    server_model: str = SERVER_MODEL_NAME
    iteration: int | None = None
    val_loss: float | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "base": str(self.source.base) if self.source else None,
            "adapter": str(self.source.adapter) if self.source and self.source.adapter else None,
            "url": self.url,
            "iteration": self.iteration,
            "val_loss": self.val_loss,
        }


def model_target(base: ModelSource) -> Target:
    return Target(base.label, "model", base)


def adapter_target(base: ModelSource, adapter: Path) -> Target:
    source = ModelSource(base.base, adapter, base.name)
    source.adapter_dir()  # fails now, naming the path, rather than when the model loads
    kind: TargetKind = "adapter" if adapter.is_dir() else "checkpoint"
    return Target(source.label, kind, source, iteration=checkpoint_iteration(adapter))


def server_target(url: str, model: str = SERVER_MODEL_NAME) -> Target:
    url = url.rstrip("/")
    if not re.match(r"^https?://", url):
        raise ModelSourceError(f"{url}: a server target is an http:// or https:// URL")
    return Target(url if model == SERVER_MODEL_NAME else f"{url} {model}", "server", url=url, server_model=model)


def checkpoint_iteration(path: Path) -> int | None:
    match = _CHECKPOINT.match(path.name)
    return int(match.group(1)) if match else None


def run_adapter_dir(run_dir: Path) -> Path:
    """The run's adapter folder: the one holding adapter_config.json (mlx-lm writes it first)."""
    if not run_dir.is_dir():
        raise ModelSourceError(f"{run_dir}: no such run folder")
    found = sorted(config.parent for config in run_dir.rglob(ADAPTER_CONFIG))
    if not found:
        raise ModelSourceError(f"{run_dir}: no {ADAPTER_CONFIG} in the run folder, so no adapters to evaluate")
    return found[0]


def run_config(run_dir: Path) -> dict[str, Any]:
    """The run's config.yaml (mlx-lm's lora options); {} when it has none."""
    config = run_dir / RUN_CONFIG
    if not config.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ModelSourceError(f"{config}: not valid YAML: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _run_path(run_dir: Path, key: str) -> Path | None:
    value = run_config(run_dir).get(key)
    if not isinstance(value, str):
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else run_dir / path


def run_base_model(run_dir: Path) -> Path | None:
    """The base model the run trained, from its config.yaml, when it is a local folder."""
    path = _run_path(run_dir, "model")
    return path if path is not None and path.is_dir() else None


def run_training_file(run_dir: Path) -> Path | None:
    """The train.jsonl the run trained on, when its config.yaml names a local data folder."""
    path = _run_path(run_dir, "data")
    return path / "train.jsonl" if path is not None and (path / "train.jsonl").is_file() else None


def run_losses(run_dir: Path) -> tuple[dict[int, float], int | None]:
    """Validation losses by iteration, and the last trained iteration, from the run's metrics.jsonl."""
    path = run_dir / METRICS_FILE
    if not path.is_file():
        return {}, None
    try:
        events = read_events(path)
    except EventFileError as exc:
        raise ModelSourceError(str(exc)) from exc
    losses = {event.iteration: event.val_loss for event in events if isinstance(event, ValEvent)}
    trained = [event.iteration for event in events if isinstance(event, TrainEvent)]
    return losses, max(trained, default=None)


def nearest_loss(losses: dict[int, float], iteration: int | None) -> float | None:
    """The validation loss measured closest to `iteration` (the earlier one on a tie)."""
    if iteration is None or not losses:
        return None
    best = min(losses, key=lambda it: (abs(it - iteration), it))
    return losses[best]


def run_targets(run_dir: Path, base: ModelSource) -> list[Target]:
    """Every checkpoint of a run, oldest first, each with its validation loss; the final adapters
    too when training went on after the last checkpoint (or saved none)."""
    adapters = run_adapter_dir(run_dir)
    losses, last = run_losses(run_dir)
    targets = []
    for path in sorted(adapters.glob("*_adapters.safetensors"), key=lambda p: checkpoint_iteration(p) or -1):
        iteration = checkpoint_iteration(path)
        if iteration is None:
            continue
        source = ModelSource(base.base, path, base.name)
        targets.append(Target(f"{run_dir.name}@{iteration}", "checkpoint", source, iteration=iteration, val_loss=nearest_loss(losses, iteration)))
    newest = targets[-1].iteration if targets else None
    if (adapters / "adapters.safetensors").is_file() and (newest is None or (last is not None and last > newest)):
        targets.append(Target(f"{run_dir.name}@final", "adapter", ModelSource(base.base, adapters, base.name), iteration=last, val_loss=nearest_loss(losses, last)))
    if not targets:
        raise ModelSourceError(f"{adapters}: no checkpoints (NNNNNNN_adapters.safetensors) and no adapters.safetensors")
    return targets


def base_source(workspace: Workspace, model: str | Path | None) -> ModelSource:
    """The base model as chat picks it: the argument, punie.toml's `model`, else the demo model."""
    from punie_tui.core.chat.sources import resolve_source

    source = resolve_source(workspace, model, None)
    return ModelSource(source.base, None, source.name)


def resolve_targets(
    workspace: Workspace,
    model: str | Path | None = None,
    adapters: Sequence[str | Path] = (),
    runs: Sequence[str | Path] = (),
    servers: Sequence[str] = (),
) -> list[Target]:
    """The targets named on the command line, in order: the base model (when --model is given or
    nothing else is), each adapter or checkpoint, each run's checkpoints, each server URL. A run
    without --model uses the base model in its config.yaml; the base model is otherwise chosen as
    the chat chooses it (punie.toml's `model`, else the demo model, trained once installed)."""
    targets: list[Target] = []
    if model is not None or not (adapters or runs or servers):
        targets.append(model_target(base_source(workspace, model)))
    for adapter in adapters:
        path = Path(adapter).expanduser()
        if not path.exists():
            raise ModelSourceError(f"{path}: no such adapter folder or checkpoint")
        targets.append(adapter_target(base_source(workspace, model), path.resolve()))
    for run in runs:
        run_dir = Path(run).expanduser().resolve()
        trained = run_base_model(run_dir) if model is None else None
        targets.extend(run_targets(run_dir, ModelSource(trained) if trained else base_source(workspace, model)))
    targets.extend(server_target(url) for url in servers)
    return targets
