"""An eval report as Markdown: the side-by-side table of targets (references marked), what the
numbers say about memorisation and checkpoint choice, and every query's result per target.
"""

from __future__ import annotations

from pathlib import Path

from punie_tui.core.atomic import atomic_write_text
from punie_tui.core.evaluate import EvalReport, QueryResult, memorisation_note

# The table's columns: JSON field and heading, shared with the eval screen.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("accuracy", "held-out acc"),
    ("seen_accuracy", "seen acc"),
    ("tool_precision", "tool precision"),
    ("tool_recall", "tool recall"),
    ("loop_rate", "loop rate"),
    ("mean_turns", "mean turns"),
    ("mean_seconds", "mean s"),
)
_PERCENT = {"accuracy", "seen_accuracy", "heldout_accuracy", "tool_precision", "tool_recall", "loop_rate"}


def format_value(key: str, value: float | None) -> str:
    """A metric as the table shows it: shares as percentages, turns and seconds as numbers."""
    if value is None:
        return "-"
    if key in _PERCENT:
        return f"{value:.0%}"
    return f"{value:.2f}" if key == "mean_seconds" else f"{value:.1f}"


def result_cell(result: QueryResult | None) -> str:
    """One query on one target in a few characters: right or wrong, what it did, the verdict."""
    if result is None:
        return "-"
    mark = "ok" if result.correct else "WRONG"
    did = "tool " + ",".join(result.tools) if result.tools else "direct"
    if result.tools and result.tool_ok is False:
        did += " (not the expected call)"
    verdict = "" if result.verdict == "completed" else f", {result.verdict}"
    return f"{mark}: {did}{verdict}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_rows(report: EvalReport, *, notes: bool = True) -> list[list[str]]:
    """Rows of the target table: measured targets first, then references marked as such (with
    their notes unless `notes` is False)."""
    rows = []
    for target in report.targets:
        values = target.metrics()
        name = target.name + (f" (failed: {target.error})" if target.error else "")
        loss = f"{target.target.val_loss:.3f}" if target.target.val_loss is not None else "-"
        rows.append([name, *(format_value(key, values[key]) for key, _ in COLUMNS), loss])
    for reference in report.references:
        note = f" ({reference.note})" if reference.note and notes else ""
        rows.append([f"{reference.name} [reference]{note}", *(format_value(key, reference.metrics.get(key)) for key, _ in COLUMNS), "-"])
    return rows


def render_markdown(report: EvalReport, title: str = "Eval report") -> str:
    heldout = sum(q.set == "heldout" for q in report.queries)
    seen = len(report.queries) - heldout
    lines = [
        f"# {title}",
        "",
        f"{heldout} held-out queries and {seen} prompts from the training data, temperature "
        f"{report.options.temperature:g}, seed {report.options.seed}, at most {report.options.max_tokens} tokens per turn."
        + (" Cancelled before the end." if report.cancelled else ""),
        "",
        "| target | " + " | ".join(heading for _, heading in COLUMNS) + " | val loss |",
        "| --- |" + " ---: |" * (len(COLUMNS) + 1),
    ]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in summary_rows(report)]
    lines.append("")
    lines += [f"- **{target.name}**: {memorisation_note(target.metrics())}" for target in report.targets if not target.error]
    by_behaviour, by_loss = report.best_by_behaviour(), report.best_by_val_loss()
    if by_behaviour is not None:
        lines.append(f"- Best checkpoint by behaviour: **{by_behaviour.name}**; by validation loss: **{by_loss.name if by_loss else 'no losses recorded'}**.")
    lines += ["", "## Per query", ""]
    lines += ["| query | set | expected | " + " | ".join(_cell(t.name) for t in report.targets) + " |"]
    lines += ["| --- | --- | --- |" + " --- |" * len(report.targets)]
    for query in report.queries:
        cells = [result_cell(next((r for r in target.results if r.query == query), None)) for target in report.targets]
        lines.append("| " + " | ".join(_cell(text) for text in [query.prompt, query.set, query.expected, *cells]) + " |")
    return "\n".join(lines) + "\n"


def write_markdown(report: EvalReport, path: Path) -> None:
    atomic_write_text(path, render_markdown(report), backup=False)
