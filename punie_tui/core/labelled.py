"""A workspace's datasets with the pending label journal applied, and the labelling session on them.

`open_labelled_datasets` is the one way commands and screens read a workspace, so none of them
shows a state older than the last journaled decision. The session makes decisions (journal first,
then memory), undoes and redoes them, keeps the balance counts current and compacts the journal
into the dataset files on save.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from punie_tui.core.dataset import Dataset, DatasetError, Record, load_dataset
from punie_tui.core.journal import Entry, Journal, JournalProblem
from punie_tui.core.labels import Label, content_hash, parse_filter, read_label, suggested_label, with_label

if TYPE_CHECKING:
    from punie_tui.config import Workspace


@dataclass(frozen=True, slots=True)
class Decision:
    """One applied change of one example's label (what undo reverts)."""

    item: int
    before: Label
    after: Label


class LabelSession:
    """Labelled datasets of one workspace: decisions, undo/redo, counts, navigation and save."""

    def __init__(self, workspace: Workspace, datasets: list[Dataset], errors: dict[Path, str]) -> None:
        self.workspace = workspace
        self.datasets = datasets
        self.errors = errors
        self.journal = Journal(workspace.punie_dir)
        self.problems: list[JournalProblem] = []
        self.pending: list[Entry] = []
        self.unmatched: list[Entry] = []
        self.undo_stack: list[Decision] = []
        self.redo_stack: list[Decision] = []
        # Items are the parseable records; broken lines cannot carry a label.
        self.items: list[tuple[int, int]] = []
        self.files = [self._relative(ds.path) for ds in datasets]
        for d, ds in enumerate(datasets):
            self.items.extend((d, r) for r, record in enumerate(ds.records) if not record.broken)
        self._by_location = {(self.files[d], datasets[d].records[r].line): i for i, (d, r) in enumerate(self.items)}
        self.labels = [read_label(self.record(i)) for i in range(len(self.items))]
        self.suggestions = [suggested_label(self.record(i)) for i in range(len(self.items))]
        self.label_counts: Counter[str] = Counter(lab.label or "unlabelled" for lab in self.labels)
        self.content_counts: Counter[str] = Counter(s for s in self.suggestions if s)
        self.category_counts: Counter[str] = Counter(lab.category for lab in self.labels if lab.category)
        self.view: list[int] = list(range(len(self.items)))
        self.position = 0
        self.filter_text = ""

    def _relative(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.workspace.root)).as_posix()

    # Records and state -------------------------------------------------------------------------

    def record(self, item: int) -> Record:
        d, r = self.items[item]
        return self.datasets[d].records[r]

    def location(self, item: int) -> str:
        d, r = self.items[item]
        return f"{self.files[d]}:{self.datasets[d].records[r].line}"

    @property
    def done(self) -> int:
        return len(self.items) - self.label_counts["unlabelled"]

    def has_unsaved_changes(self) -> bool:
        """Decisions journaled but not yet compacted into the dataset files."""
        return bool(self.pending)

    def recent(self, count: int = 10) -> list[Decision]:
        """The latest decisions still in effect, newest first."""
        return self.undo_stack[-count:][::-1]

    # Decisions ----------------------------------------------------------------------------------

    def decide(self, item: int, after: Label) -> Decision | None:
        """Give an example a new label: journaled and fsynced first, then applied; None if unchanged."""
        before = self.labels[item]
        if before == after:
            return None
        self._journal("set", item, before, after)
        decision = Decision(item, before, after)
        self.undo_stack.append(decision)
        self.redo_stack.clear()
        return decision

    def set_label(self, item: int, name: str) -> Decision | None:
        return self.decide(item, self.labels[item].with_(label=name))

    def set_category(self, item: int, category: str | None) -> Decision | None:
        return self.decide(item, self.labels[item].with_(category=category))

    def set_flag(self, item: int, flag: bool, note: str = "") -> Decision | None:
        return self.decide(item, self.labels[item].with_(flag=flag, note=note if flag else ""))

    def undo(self) -> Decision | None:
        """Revert the latest decision still in effect; None when there is none."""
        if not self.undo_stack:
            return None
        decision = self.undo_stack[-1]
        self._journal("undo", decision.item, decision.after, decision.before)
        self.redo_stack.append(self.undo_stack.pop())
        return decision

    def redo(self) -> Decision | None:
        """Apply again the latest undone decision; None when there is none."""
        if not self.redo_stack:
            return None
        decision = self.redo_stack[-1]
        self._journal("redo", decision.item, decision.before, decision.after)
        self.undo_stack.append(self.redo_stack.pop())
        return decision

    def _journal(self, op: str, item: int, before: Label, after: Label) -> None:
        d, r = self.items[item]
        record = self.datasets[d].records[r]
        entry = Entry(op, self.files[d], record.line, content_hash(record), before, after)
        self.journal.append(entry)
        self.pending.append(entry)
        self._apply(item, after)

    def _apply(self, item: int, after: Label) -> None:
        before = self.labels[item]
        if before == after:
            return
        d, r = self.items[item]
        dataset = self.datasets[d]
        dataset.replace(r, with_label(dataset.records[r].data or {}, after))
        self.labels[item] = after
        self.label_counts[before.label or "unlabelled"] -= 1
        self.label_counts[after.label or "unlabelled"] += 1
        if before.category:
            self.category_counts[before.category] -= 1
        if after.category:
            self.category_counts[after.category] += 1

    # Replay and save ----------------------------------------------------------------------------

    def replay(self) -> None:
        """Apply the journal left by an earlier session (or a crash), rebuilding undo history."""
        entries, self.problems = self.journal.read()
        known = set(self.files)
        hashes: dict[str, dict[str, list[int]]] = {}
        for entry in entries:
            if entry.file not in known:
                if not (self.workspace.root / entry.file).exists():
                    self.problems.append(self._problem(entry, f"{entry.file} no longer exists; decision not applied"))
                self.unmatched.append(entry)
                continue
            item = self._find(entry, hashes)
            if item is None:
                self.unmatched.append(entry)
                continue
            self._apply(item, entry.after)
            self.pending.append(entry)
            self._replay_history(entry, item)

    def _find(self, entry: Entry, hashes: dict[str, dict[str, list[int]]]) -> int | None:
        item = self._by_location.get((entry.file, entry.line))
        if item is not None and content_hash(self.record(item)) == entry.hash:
            return item
        # The file changed since the decision: follow the example if it only moved.
        if entry.file not in hashes:
            by_hash: dict[str, list[int]] = {}
            for i, (d, _) in enumerate(self.items):
                if self.files[d] == entry.file:
                    by_hash.setdefault(content_hash(self.record(i)), []).append(i)
            hashes[entry.file] = by_hash
        found = hashes[entry.file].get(entry.hash, [])
        if len(found) == 1:
            self.problems.append(
                self._problem(entry, f"{entry.file}:{entry.line} moved to {self.location(found[0])}; decision applied there")
            )
            return found[0]
        reason = "changed since it was labelled" if not found else "now appears more than once"
        self.problems.append(self._problem(entry, f"{entry.file}:{entry.line} {reason}; decision not applied"))
        return None

    def _problem(self, entry: Entry, message: str) -> JournalProblem:
        return JournalProblem(self.journal.path, entry.line_no, message)

    def _replay_history(self, entry: Entry, item: int) -> None:
        if entry.op == "set":
            self.undo_stack.append(Decision(item, entry.before, entry.after))
            self.redo_stack.clear()
        elif entry.op == "undo" and self.undo_stack and self.undo_stack[-1].item == item:
            self.redo_stack.append(self.undo_stack.pop())
        elif entry.op == "redo" and self.redo_stack and self.redo_stack[-1].item == item:
            self.undo_stack.append(self.redo_stack.pop())

    def save(self) -> list[Path]:
        """Compact the journal into the dataset files (each written atomically); return those written.

        Decisions that matched no record stay in the journal so they are reported again, not lost.
        """
        written = []
        for dataset in self.datasets:
            if dataset.dirty:
                dataset.save()
                written.append(dataset.path)
        self.journal.rewrite(self.unmatched)
        self.pending.clear()
        return written

    def close(self) -> None:
        self.journal.close()

    # Navigation ---------------------------------------------------------------------------------

    @property
    def current(self) -> int | None:
        return self.view[self.position] if self.view else None

    def set_filter(self, text: str) -> int:
        """Show only the examples matching `text` (see labels.FILTER_HELP); raises ValueError."""
        predicate = parse_filter(text)
        self.view = [
            i for i in range(len(self.items)) if predicate(self.labels[i], self.suggestions[i], self.record(i))
        ]
        self.filter_text = text.strip()
        self.position = 0
        return len(self.view)

    def move(self, step: int) -> int | None:
        """Go `step` examples forward (or back) in the current view, stopping at its ends."""
        if self.view:
            self.position = max(0, min(len(self.view) - 1, self.position + step))
        return self.current

    def first_unlabelled(self) -> int:
        """The first example without a label (the first example when all have one)."""
        return next((i for i, label in enumerate(self.labels) if label.label is None), 0)

    def goto(self, item: int) -> None:
        """Show one example, leaving the filter when it hides that example."""
        if not 0 <= item < len(self.items):
            return
        if item not in self.view:
            self.view = list(range(len(self.items)))
            self.filter_text = ""
        self.position = self.view.index(item)


def open_labelled_datasets(workspace: Workspace, paths: Iterable[Path] | None = None) -> LabelSession:
    """The workspace's datasets (or just `paths` in it) with the pending label journal applied.

    Files that cannot be read are in `.errors`; journal lines that cannot be used in `.problems`.
    """
    datasets: list[Dataset] = []
    errors: dict[Path, str] = {}
    for path in workspace.dataset_paths() if paths is None else paths:
        try:
            datasets.append(load_dataset(path))
        except DatasetError as exc:
            errors[Path(path)] = str(exc)
    session = LabelSession(workspace, datasets, errors)
    session.replay()
    return session
