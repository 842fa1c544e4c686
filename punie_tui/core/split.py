"""Train/valid/test split for mlx-lm: stratified by label, deterministic for a seed, duplicates kept
on one side, refused (with the numbers) when a part would be smaller than one training batch.

The stratum of an example is its human label (`tool`/`direct`), else the label its content
suggests; `skip` examples are left out, as are records mlx-lm cannot read.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from punie_tui.core.atomic import atomic_write_bytes, backup_path
from punie_tui.core.dataset import Record
from punie_tui.core.labelled import LabelSession

PARTS: tuple[str, ...] = ("train", "valid", "test")
# The record shapes mlx-lm's datasets read; it picks one per file from the first record.
MLX_SHAPES: tuple[str, ...] = ("messages", "text", "prompt-completion")


class SplitError(Exception):
    """A split that mlx-lm could not use; the message gives the numbers and what to change."""


@dataclass
class Split:
    """The rows of each part, and what was left out and why."""

    parts: dict[str, list[Record]]
    strata: dict[str, Counter[str]]
    excluded: Counter[str] = field(default_factory=Counter)
    duplicate_rows: int = 0

    def counts(self) -> dict[str, int]:
        return {part: len(rows) for part, rows in self.parts.items()}


def duplicate_key(record: Record) -> str:
    """A digest of the conversation with whitespace collapsed: equal for copies of one example."""
    turns = [
        {
            "role": turn.get("role"),
            "content": " ".join(str(turn.get("content") or "").split()),
            "tool_calls": turn.get("tool_calls"),
        }
        for turn in record.turns()
    ]
    body = json.dumps(turns, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _round(value: float) -> int:
    return math.floor(value + 0.5)


def _eligible(session: LabelSession) -> tuple[dict[str, dict[str, list[int]]], Counter[str]]:
    """Usable items grouped by stratum then duplicate key; counts of what was left out."""
    excluded: Counter[str] = Counter()
    excluded["broken"] = sum(1 for ds in session.datasets for r in ds.records if r.broken)
    by_key: dict[str, list[int]] = {}
    stratum_of: dict[str, str] = {}
    shapes: Counter[str] = Counter()
    for item, label in enumerate(session.labels):
        record = session.record(item)
        if label.label == "skip":
            excluded["skip"] += 1
            continue
        if record.shape not in MLX_SHAPES:
            excluded[f"shape {record.shape}"] += 1
            continue
        shapes[record.shape] += 1
        key = duplicate_key(record)
        by_key.setdefault(key, []).append(item)
        # Copies of one example share the stratum of the first, whatever their own labels say.
        stratum_of.setdefault(key, label.label or session.suggestions[item] or "direct")
    if len(shapes) > 1:
        found = ", ".join(f"{shape} {count}" for shape, count in shapes.most_common())
        raise SplitError(
            f"the examples have mixed shapes ({found}); mlx-lm reads one shape per file, "
            "so convert them to one shape first"
        )
    strata: dict[str, dict[str, list[int]]] = {}
    for key, items in by_key.items():
        strata.setdefault(stratum_of[key], {})[key] = items
    return strata, +excluded


def _needed(sizes: list[int], batch_size: int) -> float:
    """The smallest share (in hundredths) that gives a part at least one batch, as rounded per stratum."""
    for hundredths in range(1, 100):
        if sum(_round(size * hundredths / 100) for size in sizes) >= batch_size:
            return hundredths / 100
    return 1.0


def _check_size(part: str, rows: int, fraction: float, sizes: list[int], batch_size: int) -> None:
    if fraction <= 0 and part != "train":
        return
    if rows >= batch_size:
        return
    if part == "train":
        raise SplitError(
            f"train would have {rows} rows, fewer than the batch size {batch_size} "
            "([training] batch_size in punie.toml); lower --valid/--test or the batch size"
        )
    total = sum(sizes)
    needed = _needed(sizes, batch_size)
    raise SplitError(
        f"{part} would have {rows} rows ({fraction:.0%} of {total} usable rows), fewer than the batch "
        f"size {batch_size} ([training] batch_size in punie.toml); mlx-lm would only fail once training "
        f"starts. Use --{part} {needed:.2f} or more, or a smaller batch size"
    )


def plan_split(session: LabelSession, valid: float = 0.1, test: float = 0.0, seed: int = 42, batch_size: int = 4) -> Split:
    """Assign every usable example to train, valid or test; raises SplitError when mlx-lm could not use it."""
    if valid < 0 or test < 0 or valid + test >= 1:
        raise SplitError(f"--valid {valid} and --test {test} must be >= 0 and leave rows for train")
    groups, excluded = _eligible(session)
    rng = random.Random(seed)
    parts: dict[str, list[int]] = {part: [] for part in PARTS}
    strata: dict[str, Counter[str]] = {part: Counter() for part in PARTS}
    duplicate_rows = 0
    for stratum in sorted(groups):
        keys = sorted(groups[stratum])
        rng.shuffle(keys)
        rows = sum(len(groups[stratum][key]) for key in keys)
        want = {"test": _round(rows * test), "valid": _round(rows * valid)}
        for key in keys:
            members = groups[stratum][key]
            duplicate_rows += len(members) - 1
            # Copies of one example go to one part together, so no example is on both sides.
            part = next((p for p in ("test", "valid") if strata[p][stratum] < want[p]), "train")
            parts[part].extend(members)
            strata[part][stratum] += len(members)
    sizes = [sum(len(members) for members in stratum.values()) for stratum in groups.values()]
    for part, fraction in (("valid", valid), ("test", test), ("train", 1 - valid - test)):
        _check_size(part, len(parts[part]), fraction, sizes, batch_size)
    return Split(
        {part: [session.record(i) for i in sorted(items)] for part, items in parts.items()},
        strata,
        excluded,
        duplicate_rows,
    )


def write_split(split: Split, out: Path) -> list[Path]:
    """Write train/valid/test.jsonl atomically; an empty part gets no file (mlx-lm fails on an
    empty one) and a stale file of it from an earlier split is moved to `.bak`."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for part in PARTS:
        path = out / f"{part}.jsonl"
        rows = split.parts[part]
        if not rows:
            if path.exists():
                path.replace(backup_path(path))
            continue
        content = b"".join(r.raw if r.raw.endswith(b"\n") else r.raw + b"\n" for r in rows)
        atomic_write_bytes(path, content)
        written.append(path)
    return written
