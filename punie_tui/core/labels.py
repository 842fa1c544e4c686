"""Labels: the human decision (`tool`, `direct`, `skip`, a category, a flag with a note) stored under
a record's `"punie"` key, the label its content suggests, and filters over both.

The `"punie"` object sits next to `messages`; mlx-lm ignores it, so a labelled file stays a valid
mlx-lm dataset. Other keys already in it are kept. `punie.category` is one field whoever wrote it:
a category set by the demo-data generator is the example's current category, shown on the label
screen and counted by `stats`; choosing a category (keys `1`..`9`) replaces it, and labelling an
example `tool`/`direct`/`skip` keeps it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from punie_tui.core.dataset import Record
from punie_tui.core.formats import FORMATS, record_formats

LABELS: tuple[str, ...] = ("tool", "direct", "skip")
META_KEY = "punie"


@dataclass(frozen=True, slots=True)
class Label:
    """A record's human label; `label=None` means unlabelled."""

    label: str | None = None
    category: str | None = None
    flag: bool = False
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "category": self.category, "flag": self.flag, "note": self.note}

    @classmethod
    def from_json(cls, value: Any) -> Label:
        """Read a journal's label object; raises ValueError on anything malformed."""
        if not isinstance(value, dict):
            raise ValueError("label is not an object")
        label, category, flag, note = (value.get(k) for k in ("label", "category", "flag", "note"))
        if label is not None and label not in LABELS:
            raise ValueError(f"unknown label {label!r} (expected one of {', '.join(LABELS)})")
        if category is not None and not isinstance(category, str):
            raise ValueError("category is not a string")
        if not isinstance(flag, bool) or not isinstance(note, str):
            raise ValueError("flag must be true/false and note a string")
        return cls(label, category, flag, note)

    def with_(self, **changes: Any) -> Label:
        return replace(self, **changes)


def read_label(record: Record) -> Label:
    """The label stored in a record (an empty Label for broken or unlabelled records)."""
    meta = record.data.get(META_KEY) if record.data else None
    if not isinstance(meta, dict):
        return Label()
    label = meta.get("label")
    category = meta.get("category")
    note = meta.get("note")
    return Label(
        label if label in LABELS else None,
        category if isinstance(category, str) and category else None,
        meta.get("flag") is True,
        note if isinstance(note, str) else "",
    )


def with_label(data: dict[str, Any], label: Label) -> dict[str, Any]:
    """A copy of a record's data carrying `label`; other keys of `"punie"` are kept."""
    old = data.get(META_KEY)
    meta = dict(old) if isinstance(old, dict) else {}
    for key, value, present in (
        ("label", label.label, label.label is not None),
        ("category", label.category, label.category is not None),
        ("flag", True, label.flag),
        ("note", label.note, bool(label.note)),
    ):
        if present:
            meta[key] = value
        else:
            meta.pop(key, None)
    new = dict(data)
    if meta:
        new[META_KEY] = meta
    else:
        new.pop(META_KEY, None)
    return new


def human_label(record: Record) -> str | None:
    """The label a person gave this record, or None when it is unlabelled."""
    return read_label(record).label


def suggested_label(record: Record) -> str | None:
    """`tool` when an assistant turn calls a tool, `direct` otherwise; None for unusable records."""
    if record.shape in ("broken", "unknown"):
        return None
    return "tool" if record_formats(record) else "direct"


def disagrees(label: str | None, suggestion: str | None) -> bool:
    """True when a human `tool`/`direct` label contradicts what the content suggests."""
    return label in ("tool", "direct") and suggestion is not None and label != suggestion


def content_hash(record: Record) -> str:
    """A digest of what the example says, ignoring its `"punie"` label object.

    Labelling a record does not change it, so it identifies the example in the label journal and in
    the token-count cache; any edit of the example itself does. Keys keep their order from the file
    (sorting them would double the cost, and a re-count of 100k examples should take under a second).
    """
    if record.data is None:
        body = record.raw.rstrip(b"\r\n")
    else:
        content = {k: v for k, v in record.data.items() if k != META_KEY} if META_KEY in record.data else record.data
        body = json.dumps(content, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(body).hexdigest()[:16]


# Filters -------------------------------------------------------------------------------------

FILTER_HELP = (
    "unlabelled, labelled, flagged, disagrees, tool, direct, skip, category:NAME, format:NAME "
    "(several terms: all must match; empty: every example)"
)

Predicate = Callable[[Label, str | None, Record], bool]


def _term(term: str) -> Predicate:
    word, _, arg = term.partition(":")
    if not arg:
        simple: dict[str, Predicate] = {
            "unlabelled": lambda lab, sug, rec: lab.label is None,
            "labelled": lambda lab, sug, rec: lab.label is not None,
            "flagged": lambda lab, sug, rec: lab.flag,
            "disagrees": lambda lab, sug, rec: disagrees(lab.label, sug),
        }
        if term in simple:
            return simple[term]
        if term in LABELS:
            return lambda lab, sug, rec: lab.label == term
    elif word == "category":
        return lambda lab, sug, rec: lab.category == arg
    elif word == "format":
        if arg not in FORMATS and arg != "none":
            raise ValueError(f"unknown format {arg!r} (known: {', '.join(FORMATS)}, none)")
        if arg == "none":
            return lambda lab, sug, rec: not record_formats(rec)
        return lambda lab, sug, rec: arg in record_formats(rec)
    raise ValueError(f"unknown filter term {term!r}; use: {FILTER_HELP}")


def parse_filter(text: str) -> Predicate:
    """A predicate over (label, suggestion, record) from a filter text; raises ValueError."""
    terms = [_term(term) for term in text.split()]
    return lambda lab, sug, rec: all(term(lab, sug, rec) for term in terms)
