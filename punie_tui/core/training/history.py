"""The workspace's past runs: one record per run folder, and the options that differ between them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from punie_tui.core.training.config import ConfigError, load_config
from punie_tui.core.training.events import EventFileError, read_events
from punie_tui.core.training.source import METRICS_FILE
from punie_tui.core.training.summary import summarize
from punie_tui.core.training.worker import CONFIG_FILE

# Options that differ between every pair of runs by construction, so never worth showing.
_ALWAYS_DIFFERENT = {"adapter_path"}


@dataclass(frozen=True)
class RunRecord:
    path: Path
    status: str
    failure: str | None
    final: dict[str, float | None]
    duration_s: float | None
    peak_memory_gb: float | None
    config: dict[str, Any]
    error: str | None = None

    @property
    def name(self) -> str:
        return self.path.name


def read_run(path: Path) -> RunRecord:
    """One run folder's record; an unreadable metrics file or config is kept, with its error."""
    config: dict[str, Any] = {}
    try:
        if (path / CONFIG_FILE).exists():
            config = load_config(path / CONFIG_FILE).to_mlx_dict()
        events = read_events(path / METRICS_FILE)
    except (ConfigError, EventFileError, OSError) as exc:
        return RunRecord(path, "unreadable", None, {}, None, None, config, error=str(exc))
    summary = summarize(events)
    times = [e.time for e in events if e.time is not None]
    return RunRecord(
        path=path,
        status=summary["status"],
        failure=summary["failure"],
        final=summary["final"],
        duration_s=max(times) - min(times) if len(times) > 1 else None,
        peak_memory_gb=summary["peak_memory_gb"],
        config=config,
    )


def list_runs(runs_dir: Path) -> list[RunRecord]:
    """The run folders (those holding a metrics.jsonl) under `runs_dir`, oldest first by name."""
    if not runs_dir.is_dir():
        return []
    return [read_run(p) for p in sorted(runs_dir.iterdir()) if (p / METRICS_FILE).exists()]


def _flat(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_differences(runs: list[RunRecord]) -> dict[str, dict[str, Any]]:
    """For each run, the options whose value differs from the value most runs share."""
    flats = {run.name: _flat(run.config) for run in runs}
    keys = {key for flat in flats.values() for key in flat} - _ALWAYS_DIFFERENT
    usual: dict[str, str | None] = {}
    for key in keys:
        ranked = Counter(repr(flat.get(key)) for flat in flats.values()).most_common(2)
        # Without a strict majority (two runs that differ) every run shows its own value.
        usual[key] = ranked[0][0] if len(ranked) == 1 or ranked[0][1] > ranked[1][1] else None
    return {
        name: {key: flat.get(key) for key in sorted(keys) if repr(flat.get(key)) != usual[key]}
        for name, flat in flats.items()
    }
