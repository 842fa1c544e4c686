"""What a workspace holds, at a glance: files, record shapes, formats, label balance, runs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from punie_tui.core.dataset import Dataset
from punie_tui.core.formats import record_formats
from punie_tui.core.journal import JournalProblem
from punie_tui.core.labelled import open_labelled_datasets
from punie_tui.core.labels import human_label, suggested_label

if TYPE_CHECKING:
    from punie_tui.config import Workspace


@dataclass
class FileSummary:
    path: Path
    records: int = 0
    broken: int = 0
    shapes: Counter[str] = field(default_factory=Counter)
    formats: Counter[str] = field(default_factory=Counter)
    error: str | None = None


@dataclass
class RunBrief:
    """One training run of the workspace: how it ended and its last losses."""

    name: str
    status: str
    failure: str | None = None
    train_loss: float | None = None
    val_loss: float | None = None


def brief_run(run_dir: Path) -> RunBrief:
    """Read a run folder's metrics.jsonl; a folder without one, or a broken one, says so."""
    # Training events are pydantic models: imported here, in the summary worker, not at start-up.
    from punie_tui.core.training.events import read_events
    from punie_tui.core.training.source import METRICS_FILE
    from punie_tui.core.training.summary import summarize as summarize_events

    metrics = run_dir / METRICS_FILE
    if not metrics.is_file():
        return RunBrief(run_dir.name, "no metrics")
    try:
        summary = summarize_events(read_events(metrics))
    except (OSError, ValueError) as exc:
        return RunBrief(run_dir.name, "unreadable", failure=str(exc))
    final = summary["final"]
    return RunBrief(run_dir.name, summary["status"], summary["failure"], final["train_loss"], final["val_loss"])


def describe_model(workspace: Workspace) -> str:
    """The model chat, eval and training use: punie.toml's, else the demo model and its state."""
    if workspace.settings.model:
        return workspace.settings.model
    from punie_tui.core.demo_model import demo_model_cache_dir, is_complete
    from punie_tui.core.training.demo_training import TRAINING_FILE, demo_model_install_dir

    if (demo_model_install_dir() / TRAINING_FILE).exists():
        return "demo model (trained)"
    if is_complete(demo_model_cache_dir()):
        return "demo model (untrained; the train screen trains it)"
    return "demo model (not built yet; the train screen builds it)"


@dataclass
class WorkspaceSummary:
    root: Path
    files: list[FileSummary]
    labels: Counter[str]
    content: Counter[str]
    runs: list[RunBrief]
    # Journal lines that could not be applied (corrupt, or their record changed).
    problems: list[JournalProblem] = field(default_factory=list)
    model: str = ""

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files)


def summarize_dataset(dataset: Dataset, labels: Counter[str], content: Counter[str]) -> FileSummary:
    summary = FileSummary(dataset.path, records=len(dataset.records))
    for record in dataset.records:
        summary.shapes[record.shape] += 1
        if record.broken:
            summary.broken += 1
            continue
        summary.formats.update(record_formats(record))
        labels[human_label(record) or "unlabelled"] += 1
        suggestion = suggested_label(record)
        if suggestion:
            content[suggestion] += 1
    return summary


def summarize_workspace(workspace: Workspace) -> WorkspaceSummary:
    """Summarise the workspace as it is now: its files with the pending label journal applied."""
    labels: Counter[str] = Counter()
    content: Counter[str] = Counter()
    session = open_labelled_datasets(workspace)
    datasets = {dataset.path: dataset for dataset in session.datasets}
    files = []
    for path in workspace.dataset_paths():
        if path in datasets:
            files.append(summarize_dataset(datasets[path], labels, content))
        else:
            files.append(FileSummary(path, error=session.errors.get(path, "not read")))
    runs_dir = workspace.runs_dir
    runs = [brief_run(p) for p in sorted(runs_dir.iterdir()) if p.is_dir()] if runs_dir.is_dir() else []
    return WorkspaceSummary(workspace.root, files, labels, content, runs, session.problems, describe_model(workspace))
