"""Workspace settings (`punie.toml`) and user settings (`settings.toml`: theme, keymap).

Imports no UI library: core and the CLI read settings through this module.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from punie_tui.errors import UnusableInput
from punie_tui.locations import user_config_dir

WORKSPACE_FILE = "punie.toml"
PUNIE_DIR = ".punie"
RUNS_DIR = "runs"

FormatName = Literal["qwen25-json", "qwen3-xml", "json-fence", "openai", "raw-distill"]
FORMAT_NAMES: tuple[str, ...] = ("qwen25-json", "qwen3-xml", "json-fence", "openai", "raw-distill")
DEFAULT_CATEGORIES = ["concept", "comparison", "best-practice", "how-to", "architecture"]


class WorkspaceError(UnusableInput):
    """A workspace that cannot be opened; the message names the file, the key and the problem."""


class TrainingDefaults(BaseModel):
    """Defaults for new training runs; names follow mlx-lm's lora options."""

    model_config = ConfigDict(extra="forbid")

    fine_tune_type: Literal["lora", "dora", "full"] = "lora"
    num_layers: int = Field(16, ge=-1)
    batch_size: int = Field(4, ge=1)
    iters: int = Field(300, ge=1)
    learning_rate: float = Field(1e-4, gt=0)
    lora_rank: int = Field(8, ge=1)
    lora_scale: float = Field(20.0, gt=0)
    lora_dropout: float = Field(0.0, ge=0, lt=1)
    mask_prompt: bool = True
    grad_checkpoint: bool = False
    steps_per_report: int = Field(10, ge=1)
    steps_per_eval: int = Field(50, ge=1)
    save_every: int = Field(100, ge=1)
    val_batches: int = Field(25, ge=-1)
    seed: int = 0


class WorkspaceSettings(BaseModel):
    """The contents of `punie.toml`; every key is optional."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    adapter: str | None = None
    tools_file: str = "tools.json"
    queries_file: str = "queries.jsonl"
    system_prompt: str = ""
    target_format: FormatName = "qwen25-json"
    label_target: float = Field(0.67, ge=0.0, le=1.0)
    direct_categories: list[str] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES))
    max_seq_length: int = Field(2048, ge=16)
    training: TrainingDefaults = Field(default_factory=TrainingDefaults)

    @field_validator("direct_categories")
    @classmethod
    def _at_most_nine(cls, value: list[str]) -> list[str]:
        # Categories are chosen with the keys 1..9 on the label screen.
        if len(value) > 9:
            raise ValueError(f"at most 9 categories (keys 1-9), got {len(value)}")
        return value


class Workspace(BaseModel):
    """An opened workspace: its folder and its settings."""

    root: Path
    settings: WorkspaceSettings
    has_settings_file: bool

    @property
    def settings_path(self) -> Path:
        return self.root / WORKSPACE_FILE

    @property
    def punie_dir(self) -> Path:
        return self.root / PUNIE_DIR

    @property
    def runs_dir(self) -> Path:
        return self.root / RUNS_DIR

    @property
    def tools_path(self) -> Path:
        return self.root / self.settings.tools_file

    @property
    def queries_path(self) -> Path:
        return self.root / self.settings.queries_file

    def dataset_paths(self) -> list[Path]:
        """The workspace's JSONL datasets, excluding the eval queries and punie's own folders."""
        skip = {self.queries_path.resolve()}
        found = []
        for path in sorted(self.root.rglob("*.jsonl")):
            rel = path.relative_to(self.root)
            if rel.parts[0] in (PUNIE_DIR, RUNS_DIR) or path.resolve() in skip:
                continue
            found.append(path)
        return found

    def tools(self) -> list[dict[str, Any]]:
        """OpenAI-style function definitions from the tools file; [] when there is none."""
        path = self.tools_path
        if not path.exists():
            return []
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise WorkspaceError(f"{path}: not valid JSON: {exc}") from exc
        if not isinstance(data, list):
            raise WorkspaceError(f"{path}: expected a JSON list of tool definitions")
        return data


def _format_validation_error(path: Path, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        problems.append(f"{path}: key '{key}': {err['msg']}")
    return "\n".join(problems)


def load_settings(path: Path) -> WorkspaceSettings:
    """Read and validate one `punie.toml`; errors name the file, the key and the problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise WorkspaceError(f"{path}: not UTF-8 text: {exc}") from exc
    try:
        return WorkspaceSettings.model_validate(raw)
    except ValidationError as exc:
        raise WorkspaceError(_format_validation_error(path, exc)) from exc


def open_workspace(path: Path | str) -> Workspace:
    """Open a workspace folder; a folder without `punie.toml` opens with default settings."""
    root = Path(path).expanduser()
    if not root.exists():
        raise WorkspaceError(f"{root}: no such folder")
    if not root.is_dir():
        raise WorkspaceError(f"{root}: not a folder (a workspace is a folder of JSONL files)")
    settings_path = root / WORKSPACE_FILE
    if settings_path.exists():
        return Workspace(root=root.resolve(), settings=load_settings(settings_path), has_settings_file=True)
    return Workspace(root=root.resolve(), settings=WorkspaceSettings(), has_settings_file=False)


class UserSettings(BaseModel):
    """Per-user preferences, from `settings.toml` in the user config folder."""

    model_config = ConfigDict(extra="forbid")

    theme: str = "textual-dark"
    keymap: dict[str, str] = Field(default_factory=dict)


def load_user_settings(path: Path | None = None) -> UserSettings:
    """Read the user settings; a missing file means defaults, a broken one is an error naming it."""
    path = path or user_config_dir() / "settings.toml"
    if not path.exists():
        return UserSettings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return UserSettings.model_validate(raw)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path}: not valid TOML: {exc}") from exc
    except ValidationError as exc:
        raise WorkspaceError(_format_validation_error(path, exc)) from exc
