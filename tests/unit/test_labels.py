"""Labels in records, the label journal, replay, undo/redo and the labelled-datasets entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from punie_tui.config import open_workspace
from punie_tui.core.dataset import load_dataset, parse_line
from punie_tui.core.journal import JOURNAL_NAME
from punie_tui.core.labelled import open_labelled_datasets
from punie_tui.core.labels import Label, content_hash, parse_filter, read_label, with_label
from punie_tui.core.summary import summarize_workspace


def _session(root: Path):
    return open_labelled_datasets(open_workspace(root))


def _journal(root: Path) -> Path:
    return root / ".punie" / JOURNAL_NAME


def test_label_is_stored_under_punie_keeping_its_other_keys():
    data = {"messages": [{"role": "user", "content": "hi"}], "punie": {"category": "concept", "source": "gen"}}
    labelled = with_label(data, Label("direct", "concept", True, "check"))
    assert labelled["messages"] == data["messages"]
    assert labelled["punie"] == {"category": "concept", "source": "gen", "label": "direct", "flag": True, "note": "check"}
    cleared = with_label(labelled, Label())
    assert cleared["punie"] == {"source": "gen"}


def test_pre_existing_punie_category_is_the_examples_category():
    record = parse_line(Path("x.jsonl"), 1, b'{"messages": [], "punie": {"category": "how-to"}}\n')
    assert read_label(record) == Label(None, "how-to", False, "")


def test_content_hash_ignores_the_label_but_not_the_example():
    data = {"messages": [{"role": "user", "content": "hi"}]}
    plain = parse_line(Path("x"), 1, json.dumps(data).encode() + b"\n")
    labelled = parse_line(Path("x"), 1, json.dumps(with_label(data, Label("tool"))).encode() + b"\n")
    edited = parse_line(Path("x"), 1, json.dumps({"messages": [{"role": "user", "content": "hi!"}]}).encode())
    assert content_hash(plain) == content_hash(labelled)
    assert content_hash(plain) != content_hash(edited)


def test_every_decision_is_in_the_journal_before_the_call_returns(domain_workspace):
    session = _session(domain_workspace)
    session.set_label(0, "tool")
    session.set_label(1, "direct")
    lines = _journal(domain_workspace).read_bytes().splitlines()
    assert [json.loads(line)["after"]["label"] for line in lines] == ["tool", "direct"]
    assert json.loads(lines[0])["file"] == "domain_examples.jsonl"
    assert json.loads(lines[0])["line"] == 1


def test_reopening_replays_the_journal_without_saving(domain_workspace):
    session = _session(domain_workspace)
    for item in range(5):
        session.set_label(item, "tool" if item % 2 else "direct")
    session.set_category(0, "concept")
    reopened = _session(domain_workspace)
    assert reopened.done == 5
    assert reopened.labels[0] == Label("direct", "concept")
    assert reopened.has_unsaved_changes()
    assert reopened.problems == []


def test_save_compacts_the_journal_into_the_dataset(domain_workspace):
    session = _session(domain_workspace)
    session.set_label(2, "skip")
    session.save()
    assert not _journal(domain_workspace).exists()
    dataset = load_dataset(domain_workspace / "domain_examples.jsonl")
    assert dataset.records[2].data["punie"] == {"label": "skip"}
    assert "punie" not in dataset.records[3].data
    assert _session(domain_workspace).labels[2].label == "skip"


def test_undo_and_redo_walk_the_whole_session_and_survive_a_reopen(domain_workspace):
    session = _session(domain_workspace)
    session.set_label(0, "tool")
    session.set_label(1, "direct")
    session.set_label(0, "skip")
    assert session.undo().after.label == "skip"
    assert session.undo().item == 1
    assert [session.labels[0].label, session.labels[1].label] == ["tool", None]
    assert session.redo().item == 1
    assert session.labels[1].label == "direct"
    reopened = _session(domain_workspace)
    assert [reopened.labels[0].label, reopened.labels[1].label] == ["tool", "direct"]
    assert reopened.redo_stack[-1].item == 0
    reopened.redo()
    assert reopened.labels[0].label == "skip"


def test_undo_reaches_past_a_save(domain_workspace):
    session = _session(domain_workspace)
    session.set_label(0, "tool")
    session.save()
    session.undo()
    assert session.labels[0].label is None
    assert _session(domain_workspace).labels[0].label is None


def test_a_new_decision_clears_redo(domain_workspace):
    session = _session(domain_workspace)
    session.set_label(0, "tool")
    session.undo()
    session.set_label(1, "direct")
    assert session.redo() is None


def test_corrupt_journal_line_is_reported_with_file_and_line_and_the_rest_kept(domain_workspace):
    session = _session(domain_workspace)
    session.set_label(0, "tool")
    session.set_label(1, "direct")
    session.close()
    journal = _journal(domain_workspace)
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(lines[0] + b'{"op": "set", "file": \n' + lines[1] + b'{"v":1,"op":"se')
    reopened = _session(domain_workspace)
    assert [reopened.labels[0].label, reopened.labels[1].label] == ["tool", "direct"]
    assert [(p.path, p.line) for p in reopened.problems] == [(journal, 2), (journal, 4)]
    assert "corrupt journal line" in str(reopened.problems[0])
    # A torn last line must not swallow the next decision.
    reopened.set_label(2, "skip")
    assert _session(domain_workspace).labels[2].label == "skip"


def test_a_changed_example_does_not_receive_an_old_label(domain_workspace):
    session = _session(domain_workspace)
    session.set_label(3, "tool")
    session.close()
    path = domain_workspace / "domain_examples.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    data = json.loads(lines[3])
    data["messages"][1]["content"] += " (edited)"
    lines[3] = json.dumps(data).encode() + b"\n"
    path.write_bytes(b"".join(lines))
    reopened = _session(domain_workspace)
    assert reopened.labels[3].label is None
    assert "domain_examples.jsonl:4 changed since it was labelled" in str(reopened.problems[0])
    reopened.save()
    # The unmatched decision stays in the journal, reported again, never silently dropped.
    assert len(_session(domain_workspace).problems) == 1


def test_a_moved_example_keeps_its_label_and_the_move_is_reported(domain_workspace):
    session = _session(domain_workspace)
    session.set_label(3, "tool")
    session.close()
    path = domain_workspace / "domain_examples.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + lines[0].replace(b"basic injection", b"basic injection again") + b"".join(lines[1:]))
    reopened = _session(domain_workspace)
    assert reopened.labels[4].label == "tool"
    assert "moved to domain_examples.jsonl:5" in str(reopened.problems[0])


def test_counts_follow_decisions(domain_workspace):
    session = _session(domain_workspace)
    assert session.content_counts == {"tool": 16, "direct": 50}
    session.set_label(0, "tool")
    session.set_category(0, "how-to")
    session.set_label(20, "direct")
    session.set_label(20, "skip")
    assert +session.label_counts == {"tool": 1, "skip": 1, "unlabelled": 64}
    assert +session.category_counts == {"how-to": 1}


def test_disagrees_filter_finds_a_human_label_against_the_content(domain_workspace):
    session = _session(domain_workspace)
    direct_item = session.suggestions.index("direct")
    session.set_label(direct_item, "tool")
    assert session.set_filter("disagrees") == 1
    assert session.current == direct_item
    assert session.set_filter("unlabelled") == 65
    assert session.set_filter("format:json-fence") == 16


def test_unknown_filter_term_says_what_is_allowed():
    with pytest.raises(ValueError, match="unknown filter term 'colour:red'.*unlabelled"):
        parse_filter("colour:red")


def test_home_summary_shows_pending_labels(domain_workspace):
    session = _session(domain_workspace)
    session.set_label(0, "tool")
    session.set_label(1, "skip")
    summary = summarize_workspace(open_workspace(domain_workspace))
    assert summary.labels["tool"] == 1
    assert summary.labels["skip"] == 1
