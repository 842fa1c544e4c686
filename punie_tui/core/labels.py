"""Labels: the human decision (`tool`, `direct`, `skip`) stored under a record's `"punie"` key,
and the label its content suggests."""

from __future__ import annotations

from punie_tui.core.dataset import Record
from punie_tui.core.formats import record_formats

LABELS: tuple[str, ...] = ("tool", "direct", "skip")


def human_label(record: Record) -> str | None:
    """The label a person gave this record, or None when it is unlabelled."""
    meta = record.data.get("punie") if record.data else None
    label = meta.get("label") if isinstance(meta, dict) else None
    return label if label in LABELS else None


def suggested_label(record: Record) -> str | None:
    """`tool` when an assistant turn calls a tool, `direct` otherwise; None for unusable records."""
    if record.shape in ("broken", "unknown"):
        return None
    return "tool" if record_formats(record) else "direct"
