"""Batch by real token length, working around mlx-lm 0.32.2's `CacheDataset.itemlen`.

`iterate_batches` sorts examples by `CacheDataset.itemlen`, meant to be the token count, but in
0.32.2 it returns `len()` of the raw record, i.e. the number of its JSON keys, so every example
has the same "length", nothing is sorted, and batches pad short rows to long ones (1.87x the real
tokens on the demo data instead of 1.22x). This subclass returns the token count. Delete this
module and use `CacheDataset` directly once mlx-lm's `itemlen` tokenizes.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def itemlen_is_broken() -> bool:
    """True while mlx-lm's own `itemlen` still counts record keys instead of tokens."""
    from mlx_lm.tuner.datasets import CacheDataset

    class _Probe:
        def __len__(self) -> int:
            return 1

        def __getitem__(self, idx: int) -> dict:
            return {"text": "a b c d e f g h"}

        def process(self, record: dict) -> tuple[list[int], int]:
            return list(range(8)), 0

    return CacheDataset(_Probe()).itemlen(0) != 8


@cache
def _dataset_class() -> type:
    # mlx-lm (and the rich it imports) is loaded only in the training process.
    from mlx_lm.tuner.datasets import CacheDataset

    class TokenLengthCacheDataset(CacheDataset):
        """A CacheDataset whose `itemlen` is the example's token count (tokenizing once, cached)."""

        def itemlen(self, idx: int) -> int:
            return len(self[idx][0])

    return TokenLengthCacheDataset


def token_length_dataset(data: Any):
    """`CacheDataset(data)` for mlx-lm's trainer, but sorted into batches by real token length.

    Once mlx-lm's own `itemlen` counts tokens, its CacheDataset is used as it is.
    """
    from mlx_lm.tuner.datasets import CacheDataset

    return (_dataset_class() if itemlen_is_broken() else CacheDataset)(data)


def padding_ratio(lengths: list[int], batch_size: int, sort: bool) -> float:
    """Padded tokens over real tokens for batches formed as mlx-lm forms them (pad to 32k+1)."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__) if sort else list(range(len(lengths)))
    real = padded = 0
    for start in range(0, len(order) - batch_size + 1, batch_size):
        batch = [lengths[i] for i in order[start : start + batch_size]]
        width = 1 + 32 * ((max(batch) + 31) // 32)
        real += sum(batch)
        padded += width * len(batch)
    return padded / real if real else 1.0
