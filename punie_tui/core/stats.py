"""Dataset statistics for `punie-tui stats`: records, labels, the content's own tool/direct split,
categories, tool-call formats and token counts against the workspace's max sequence length."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from punie_tui.core.formats import record_formats
from punie_tui.core.labelled import LabelSession


@dataclass
class DatasetStats:
    """Everything `stats --json` prints; `to_json` gives the documented shape."""

    records: int
    labels: Counter[str]
    content: Counter[str]
    categories: Counter[str]
    formats: Counter[str]
    tokens: list[int]
    # Counted per workspace, against that workspace's `max_seq_length`.
    over_max_seq: int

    def to_json(self) -> dict[str, Any]:
        tokens = sorted(self.tokens)
        return {
            "records": self.records,
            "labels": {name: self.labels[name] for name in ("tool", "direct", "skip", "unlabelled")},
            "content": {name: self.content[name] for name in ("tool", "direct")},
            "categories": dict(sorted(self.categories.items())),
            "formats": dict(sorted(self.formats.items())),
            "tokens": {
                "total": sum(tokens),
                "min": tokens[0] if tokens else 0,
                "median": _whole(statistics.median(tokens)) if tokens else 0,
                # Nearest-rank percentile: a count some example really has.
                "p95": tokens[math.ceil(0.95 * len(tokens)) - 1] if tokens else 0,
                "max": tokens[-1] if tokens else 0,
            },
            "over_max_seq": self.over_max_seq,
        }


def _whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def session_stats(session: LabelSession, tokens: list[int | None]) -> DatasetStats:
    """Statistics of a labelled session; `tokens` has one count (or None) per session item."""
    counted = [n for n in tokens if n is not None]
    formats: Counter[str] = Counter()
    for item in range(len(session.items)):
        formats.update(record_formats(session.record(item)))
    return DatasetStats(
        records=sum(len(ds.records) for ds in session.datasets),
        labels=Counter(session.label_counts),
        content=Counter(session.content_counts),
        categories=+session.category_counts,
        formats=formats,
        tokens=counted,
        over_max_seq=sum(1 for n in counted if n > session.workspace.settings.max_seq_length),
    )


def merge_stats(parts: list[DatasetStats]) -> DatasetStats:
    """Several workspaces' statistics as one."""
    total = DatasetStats(0, Counter(), Counter(), Counter(), Counter(), [], 0)
    for part in parts:
        total.records += part.records
        total.labels.update(part.labels)
        total.content.update(part.content)
        total.categories.update(part.categories)
        total.formats.update(part.formats)
        total.tokens.extend(part.tokens)
        total.over_max_seq += part.over_max_seq
    return total
