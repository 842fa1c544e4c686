"""TrainConfig: mlx-lm's lora options as a pydantic model, read from and written as its YAML.

The YAML written here is the file `mlx_lm lora -c` takes, so a run reproduces with plain mlx-lm.
Names and defaults follow `CONFIG_DEFAULTS` and the argument parser in mlx_lm/lora.py (0.32).
`cache_limit_gb` and `memory_limit_gb` are punie's own: plain mlx-lm ignores unknown keys.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from punie_tui.core.atomic import atomic_write_text


class ConfigError(ValueError):
    """A run config that cannot be used; the message names the file, the line and the key."""


class _YamlLoader(yaml.SafeLoader):
    """PyYAML reads `1e-5` as a string; mlx-lm's loader reads it as a float, and so must we."""


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


class LoraParameters(BaseModel):
    model_config = ConfigDict(extra="allow")

    rank: int = Field(8, ge=1)
    scale: float = Field(20.0, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)


class LrSchedule(BaseModel):
    """An mlx.optimizers.schedulers function by name, its arguments, and an optional linear warmup."""

    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: list[int | float]
    warmup: int = Field(0, ge=0)
    warmup_init: float = 0.0


class TrainConfig(BaseModel):
    """One training run's options, named as in mlx-lm's lora YAML."""

    # Unknown keys pass through to the YAML, as plain mlx-lm passes them on to its args.
    model_config = ConfigDict(extra="allow")

    model: str
    data: str = "data"
    train: bool = True
    test: bool = False
    fine_tune_type: Literal["lora", "dora", "full"] = "lora"
    optimizer: Literal["adam", "adamw", "muon", "sgd", "adafactor"] = "adam"
    optimizer_config: dict[str, dict[str, Any]] = Field(default_factory=dict)
    num_layers: int = Field(16, ge=-1)
    batch_size: int = Field(4, ge=1)
    iters: int = Field(1000, ge=1)
    val_batches: int = Field(25, ge=-1)
    test_batches: int = Field(500, ge=-1)
    learning_rate: float = Field(1e-5, gt=0)
    lr_schedule: LrSchedule | None = None
    steps_per_report: int = Field(10, ge=1)
    steps_per_eval: int = Field(200, ge=1)
    save_every: int = Field(100, ge=1)
    adapter_path: str = "adapters"
    resume_adapter_file: str | None = None
    max_seq_length: int = Field(2048, ge=2)
    mask_prompt: bool = False
    grad_checkpoint: bool = False
    grad_accumulation_steps: int = Field(1, ge=1)
    seed: int = 0
    lora_parameters: LoraParameters = Field(default_factory=LoraParameters)
    # punie-only: applied by the runner with mx.set_cache_limit / mx.set_memory_limit.
    cache_limit_gb: float | None = Field(None, ge=0)
    memory_limit_gb: float | None = Field(None, gt=0)

    def to_mlx_dict(self) -> dict[str, Any]:
        """The options as mlx-lm's YAML keys (unset punie-only keys left out)."""
        return self.model_dump(mode="json", exclude_none=True)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_mlx_dict(), sort_keys=False, allow_unicode=True)

    def save(self, path: Path) -> None:
        atomic_write_text(Path(path), self.to_yaml(), backup=False)

    def with_paths_from(self, base: Path) -> TrainConfig:
        """Relative local paths made absolute against `base` (mlx-lm resolves them from its cwd)."""
        updates: dict[str, Any] = {}
        for key in ("model", "data", "adapter_path", "resume_adapter_file"):
            value = getattr(self, key)
            if value is None or Path(value).is_absolute():
                continue
            candidate = (Path(base) / value).resolve()
            # A model or dataset that is not a local path is a Hugging Face id: leave it.
            if key in ("model", "data") and not candidate.exists():
                continue
            updates[key] = str(candidate)
        return self.model_copy(update=updates)

    def unknown_keys(self) -> list[str]:
        return sorted((self.model_extra or {}).keys())


def _key_lines(text: str) -> dict[str, int]:
    """Line numbers (1-based) of the top-level keys of a YAML mapping, for error messages."""
    try:
        node = yaml.compose(text, Loader=_YamlLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {key.value: key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)}


def parse_config_text(text: str, path: Path | str = "<config>") -> TrainConfig:
    try:
        raw = yaml.load(text, Loader=_YamlLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise ConfigError(f"{path}:{line}: not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}:1: expected a mapping of mlx-lm lora options")
    # mlx-lm's own `config` key names the file itself; it is no option of the run.
    raw.pop("config", None)
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as exc:
        lines = _key_lines(text)
        problems = []
        for err in exc.errors():
            key = ".".join(str(part) for part in err["loc"]) or "(top level)"
            top = str(err["loc"][0]) if err["loc"] else ""
            problems.append(f"{path}:{lines.get(top, 1)}: key '{key}': {err['msg']}")
        raise ConfigError("\n".join(problems)) from exc


def load_config(path: Path) -> TrainConfig:
    """Read an mlx-lm lora YAML; relative paths stay as written (see `with_paths_from`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_config_text(text, path)
