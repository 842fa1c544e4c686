"""The label screen: single-key labelling, undo, flags, categories, filters, keymap and save."""

from __future__ import annotations

from pathlib import Path

from punie_tui.app import PunieApp
from punie_tui.config import open_workspace
from punie_tui.core.dataset import load_dataset
from punie_tui.core.labelled import open_labelled_datasets
from punie_tui.locations import user_config_dir


def _app(root: Path) -> PunieApp:
    return PunieApp(open_workspace(root), start_screen="label")


async def _loaded(pilot) -> None:
    # The session loads in a worker; wait for it like a user waits for the first example.
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _labels(root: Path) -> list[str | None]:
    session = open_labelled_datasets(open_workspace(root))
    return [label.label for label in session.labels]


async def test_t_d_and_space_label_and_advance(domain_workspace):
    async with _app(domain_workspace).run_test(size=(120, 36)) as pilot:
        await _loaded(pilot)
        await pilot.press("t", "d", "space")
        screen = pilot.app.screen
        assert screen.session.current == 3
        assert "3/66 labelled" in str(screen.query_one("#progress").render())
    assert _labels(domain_workspace)[:4] == ["tool", "direct", "skip", None]


async def test_backspace_undoes_and_ctrl_y_redoes(domain_workspace):
    async with _app(domain_workspace).run_test(size=(120, 36)) as pilot:
        await _loaded(pilot)
        await pilot.press("t", "d", "backspace")
        session = pilot.app.screen.session
        assert [session.labels[0].label, session.labels[1].label] == ["tool", None]
        assert session.current == 1
        await pilot.press("ctrl+y")
        assert session.labels[1].label == "direct"


async def test_flag_with_a_note_and_category_keys(domain_workspace):
    async with _app(domain_workspace).run_test(size=(120, 36)) as pilot:
        await _loaded(pilot)
        await pilot.press("n", "n", "n", "n", "n", "n", "n", "n", "n", "n", "n", "n", "n", "n", "n", "n")
        session = pilot.app.screen.session
        item = session.current
        assert session.suggestions[item] == "direct"
        await pilot.press("f", *"too long", "enter", "2")
        assert session.labels[item].flag and session.labels[item].note == "too long"
        assert session.labels[item].category == open_workspace(domain_workspace).settings.direct_categories[1]
        await pilot.press("f")
        assert not session.labels[item].flag


async def test_labelling_keys_do_nothing_while_a_text_field_has_focus(domain_workspace):
    async with _app(domain_workspace).run_test(size=(120, 36)) as pilot:
        await _loaded(pilot)
        await pilot.press("slash", "t", "d", "space", "backspace", "n")
        session = pilot.app.screen.session
        assert session.done == 0 and session.current == 0
        await pilot.press("escape", "t")
        assert session.labels[0].label == "tool"


async def test_filter_shows_only_matching_examples(domain_workspace):
    async with _app(domain_workspace).run_test(size=(120, 36)) as pilot:
        await _loaded(pilot)
        await pilot.press("t")
        await pilot.press("slash", *"format:json-fence", "enter")
        session = pilot.app.screen.session
        assert len(session.view) == 16
        await pilot.press("slash", "ctrl+u", *"disagrees", "enter")
        assert len(session.view) == 0
        assert "No example matches" in str(pilot.app.screen.query_one("#meta").render())


async def test_a_recent_decision_can_be_reopened_and_changed(domain_workspace):
    async with _app(domain_workspace).run_test(size=(120, 36)) as pilot:
        await _loaded(pilot)
        await pilot.press("t", "t", "t")
        recent = pilot.app.screen.query_one("#recent")
        recent.focus()
        await pilot.press("down", "down", "enter")
        session = pilot.app.screen.session
        assert session.current == 1
        await pilot.press("d")
        assert [label.label for label in session.labels[:3]] == ["tool", "direct", "tool"]


async def test_keys_are_remapped_from_the_user_keymap(domain_workspace):
    settings = user_config_dir() / "settings.toml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text('[keymap]\n"label.tool" = "k"\n"label.direct" = "j"\n')
    async with _app(domain_workspace).run_test(size=(120, 36)) as pilot:
        await _loaded(pilot)
        await pilot.press("k", "j", "t")
        assert [label.label for label in pilot.app.screen.session.labels[:3]] == ["tool", "direct", None]


async def test_save_writes_labels_and_quit_asks_only_while_unsaved(domain_workspace):
    async with _app(domain_workspace).run_test(size=(120, 36)) as pilot:
        await _loaded(pilot)
        await pilot.press("t")
        assert pilot.app.unsaved_screens() == ["Label"]
        await pilot.press("ctrl+s")
        assert pilot.app.unsaved_screens() == []
    record = load_dataset(domain_workspace / "domain_examples.jsonl").records[0]
    assert record.data["punie"]["label"] == "tool"


async def test_reopening_resumes_at_the_first_unlabelled_example(domain_workspace):
    session = open_labelled_datasets(open_workspace(domain_workspace))
    for item in range(3):
        session.set_label(item, "direct")
    session.close()
    async with _app(domain_workspace).run_test(size=(120, 36)) as pilot:
        await _loaded(pilot)
        assert pilot.app.screen.session.current == 3


async def test_a_workspace_without_examples_says_so(tmp_path):
    async with _app(tmp_path).run_test(size=(120, 36)) as pilot:
        await _loaded(pilot)
        await pilot.press("t", "n", "backspace")
        assert "No examples" in str(pilot.app.screen.query_one("#meta").render())


def test_label_screen_snapshot(fixed_domain_workspace, snap_compare):
    async def label_a_few(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("t", "d", "n")

    assert snap_compare(_app(fixed_domain_workspace), terminal_size=(110, 34), run_before=label_a_few)


async def test_the_filter_field_completes_terms(domain_workspace):
    async with _app(domain_workspace).run_test(size=(120, 36)) as pilot:
        await _loaded(pilot)
        await pilot.press("slash", *"form", "right", "enter")
        session = pilot.app.screen.session
        assert session.filter_text == "format:qwen25-json"
        assert session.view == []
