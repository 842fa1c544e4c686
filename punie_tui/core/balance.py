"""The tool vs direct-answer balance of a dataset: by human labels where any exist, else by content.

Its own small module, so the home screen's gauge imports it without the dataset and format parsers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Balance:
    """Tool vs direct counts, and whether they come from human labels or the content's own turns."""

    tool: int
    direct: int
    source: str

    @property
    def share(self) -> float | None:
        """The share of `tool` among tool+direct; None when there are neither."""
        total = self.tool + self.direct
        return self.tool / total if total else None


def balance(labels: Mapping[str, int], content: Mapping[str, int]) -> Balance:
    """The balance by human labels where any exist, else by the split the examples' turns imply."""
    if labels.get("tool", 0) + labels.get("direct", 0):
        return Balance(labels.get("tool", 0), labels.get("direct", 0), "labels")
    return Balance(content.get("tool", 0), content.get("direct", 0), "content")
