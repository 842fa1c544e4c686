"""Shared by the benchmarks: the bundled demo examples, the seed of generated 100k-example sets."""

from __future__ import annotations

import json

from punie_tui.core.demo import bundled_data_dir


def base_examples() -> list[dict]:
    """The demo workspace's clean chat examples (incoming.jsonl, with planted defects, is left out)."""
    lines = (bundled_data_dir() / "examples.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]
