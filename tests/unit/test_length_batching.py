"""Real length batching: mlx-lm 0.32.2 sorts by the number of record keys; punie by tokens."""

from __future__ import annotations

import json
from pathlib import Path

from punie_tui.core.training.length_batching import itemlen_is_broken, padding_ratio, token_length_dataset


class _Rows:
    """A dataset of records whose token rows have the given lengths (as mlx-lm's datasets process)."""

    def __init__(self, lengths: list[int]) -> None:
        self.lengths = lengths

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, idx: int) -> dict:
        return {"messages": idx}

    def process(self, record: dict) -> tuple[list[int], int]:
        return [1] * self.lengths[record["messages"]], 0


def test_mlx_lm_itemlen_still_counts_record_keys() -> None:
    # When this fails, mlx-lm sorts by tokens itself: delete length_batching.py.
    assert itemlen_is_broken()


def test_batches_hold_neighbours_in_token_length() -> None:
    from mlx_lm.tuner.trainer import iterate_batches

    lengths = [5, 300, 7, 290, 6, 310, 8, 305]
    widths = sorted(batch.shape[1] for batch, _ in iterate_batches(token_length_dataset(_Rows(lengths)), 4, 2048))
    # The four short rows pad to 33 and the four long ones to 321; unsorted, both batches pad to 321+.
    assert widths == [33, 321]


def test_sorting_cuts_padding_on_the_mixed_length_demo_data() -> None:
    # Characters stand in for tokens here: the demo rows range from one-line answers to file dumps.
    path = Path(__file__).resolve().parents[2] / "data" / "examples.jsonl"
    lengths = [len(json.dumps(json.loads(line)["messages"])) for line in path.read_text(encoding="utf-8").splitlines()]
    assert padding_ratio(lengths, 4, sort=True) < 1.1 < 1.5 < padding_ratio(lengths, 4, sort=False)
