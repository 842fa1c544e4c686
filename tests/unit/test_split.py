"""Splitting a workspace for mlx-lm: stratified, deterministic, refusing unusable sizes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from punie_tui.config import open_workspace
from punie_tui.core.labelled import open_labelled_datasets
from punie_tui.core.split import SplitError, duplicate_key, plan_split, write_split


def _session(root: Path):
    return open_labelled_datasets(open_workspace(root))


def _queries(split, part):
    return [r.data["messages"][1]["content"] for r in split.parts[part]]


def test_same_seed_gives_the_same_split_and_another_seed_another(domain_workspace):
    first = plan_split(_session(domain_workspace), valid=0.2, seed=7)
    again = plan_split(_session(domain_workspace), valid=0.2, seed=7)
    other = plan_split(_session(domain_workspace), valid=0.2, seed=8)
    assert _queries(first, "valid") == _queries(again, "valid")
    assert _queries(first, "valid") != _queries(other, "valid")


def test_each_part_keeps_the_label_proportions(domain_workspace):
    split = plan_split(_session(domain_workspace), valid=0.25, test=0.25, seed=1)
    # 16 tool and 50 direct examples: a quarter of each stratum in valid and in test.
    assert split.strata["valid"] == {"tool": 4, "direct": 13}
    assert split.strata["test"] == {"tool": 4, "direct": 13}
    assert split.strata["train"] == {"tool": 8, "direct": 24}


def test_human_labels_decide_the_stratum_and_skip_is_left_out(domain_workspace):
    session = _session(domain_workspace)
    directs = [i for i, s in enumerate(session.suggestions) if s == "direct"]
    for item in directs[:10]:
        session.set_label(item, "tool")
    session.set_label(directs[10], "skip")
    split = plan_split(_session(domain_workspace), valid=0.5, seed=3)
    assert split.strata["valid"] + split.strata["train"] == {"tool": 26, "direct": 39}
    assert split.excluded == {"skip": 1}


def test_refuses_a_valid_set_smaller_than_the_batch_size_with_the_numbers(domain_workspace):
    with pytest.raises(SplitError, match=r"valid would have 3 rows \(4% of 66 usable rows\), fewer than the batch size 4.*--valid 0.05 or more"):
        plan_split(_session(domain_workspace), valid=0.04, batch_size=4)


def test_refuses_a_test_set_smaller_than_the_batch_size(domain_workspace):
    with pytest.raises(SplitError, match="test would have"):
        plan_split(_session(domain_workspace), valid=0.2, test=0.02, batch_size=4)


def test_copies_of_one_example_never_land_on_both_sides(domain_workspace):
    path = domain_workspace / "domain_examples.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    # Every example twice, the copy with different whitespace and a contradicting label.
    copies = []
    for line in lines:
        data = json.loads(line)
        data["messages"][1]["content"] = "  " + data["messages"][1]["content"].replace(" ", "   ")
        data["punie"] = {"label": "tool"}
        copies.append(json.dumps(data).encode() + b"\n")
    path.write_bytes(b"".join(lines + copies))
    for seed in range(5):
        split = plan_split(_session(domain_workspace), valid=0.3, seed=seed)
        train = {duplicate_key(r) for r in split.parts["train"]}
        valid = {duplicate_key(r) for r in split.parts["valid"]}
        assert train and valid and not train & valid
        assert split.duplicate_rows == 66


def test_written_files_are_what_mlx_lm_reads(domain_workspace, tmp_path):
    from mlx_lm.tuner.datasets import load_local_dataset

    out = tmp_path / "out"
    split = plan_split(_session(domain_workspace), valid=0.2, seed=0)
    written = write_split(split, out)
    assert [p.name for p in written] == ["train.jsonl", "valid.jsonl"]

    class _Tokenizer:
        # load_local_dataset only builds dataset objects; it tokenizes lazily.
        pass

    train, valid, test = load_local_dataset(out, _Tokenizer(), type("Config", (), {})())
    assert (len(train), len(valid), len(test)) == (53, 13, 0)


@pytest.mark.slow
def test_split_command_writes_the_parts_and_refuses_inside_the_workspace(domain_workspace, tmp_path):
    out = tmp_path / "split"
    cmd = [sys.executable, "-m", "punie_tui", "split", str(domain_workspace), "--out", str(out), "--valid", "0.2", "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["rows"] == {"train": 53, "valid": 13, "test": 0}
    assert len((out / "valid.jsonl").read_text().splitlines()) == 13
    inside = subprocess.run(cmd[:6] + [str(domain_workspace / "out")], capture_output=True, text=True)
    assert inside.returncode == 2
    assert "inside the workspace" in inside.stderr
    small = subprocess.run(cmd[:7] + ["--valid", "0.01"], capture_output=True, text=True)
    assert small.returncode == 2
    assert "valid would have 1 rows" in small.stderr
