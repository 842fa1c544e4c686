"""Dialogs of the inspect screen: a diff to accept, a raw line to edit, a choice from a list."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static, TextArea
from textual.widgets.option_list import Option


class DiffDialog(ModalScreen[bool]):
    """Show a unified diff; dismiss with True to apply it."""

    DEFAULT_CSS = """
    DiffDialog { align: center middle; }
    DiffDialog > Vertical { width: 90%; height: 85%; border: thick $accent; background: $panel; padding: 0 1; }
    DiffDialog #diff { height: 1fr; }
    DiffDialog Horizontal { height: auto; align-horizontal: right; }
    """
    BINDINGS = [
        Binding("y", "decide(True)", "Apply", id="diff.apply", tooltip="Apply these changes"),
        Binding("escape,n", "decide(False)", "Cancel", id="diff.cancel", tooltip="Change nothing"),
    ]

    def __init__(self, title: str, diff: str) -> None:
        super().__init__()
        self.title_text = title
        self.diff = diff

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"[b]{self.title_text}[/b]")
            with VerticalScroll(id="diff"):
                yield Static(Syntax(self.diff, "diff", word_wrap=True, theme="ansi_dark"))
            with Horizontal():
                yield Button("Apply (y)", variant="primary", id="apply")
                yield Button("Cancel (esc)", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "apply")

    def action_decide(self, apply: bool) -> None:
        self.dismiss(apply)


class EditDialog(ModalScreen[dict[str, Any] | None]):
    """Edit one example as indented JSON, validated as you type; dismiss with the new data."""

    DEFAULT_CSS = """
    EditDialog { align: center middle; }
    EditDialog > Vertical { width: 90%; height: 90%; border: thick $accent; background: $panel; padding: 0 1; }
    EditDialog TextArea { height: 1fr; }
    EditDialog #status { height: auto; max-height: 6; }
    EditDialog Horizontal { height: auto; align-horizontal: right; }
    """
    BINDINGS = [
        Binding("ctrl+s", "apply", "Apply", id="edit.apply", tooltip="Put the edited example in place (when valid)"),
        Binding("escape", "cancel", "Cancel", id="edit.cancel", tooltip="Drop the edit"),
    ]

    def __init__(self, title: str, text: str, check: Callable[[dict[str, Any]], list[str]]) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.check = check
        self.data: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"[b]{self.title_text}[/b]  ctrl+s apply, esc cancel")
            yield TextArea(self.text, id="editor", soft_wrap=True, show_line_numbers=True, tab_behavior="indent")
            yield Static("", id="status")
            with Horizontal():
                yield Button("Apply (ctrl+s)", variant="primary", id="apply")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.validate(self.text)
        self.query_one(TextArea).focus()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.validate(event.text_area.text)

    def validate(self, text: str) -> None:
        """Parse and lint the text; the status line says what is wrong, with line and column."""
        status = self.query_one("#status", Static)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            self.data = None
            status.update(f"[red]not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}[/red]")
            return
        if not isinstance(data, dict):
            self.data = None
            status.update(f"[red]a JSON {type(data).__name__}, not an object[/red]")
            return
        self.data = data
        problems = self.check(data)
        status.update("[green]valid: no problems[/green]" if not problems else "[yellow]valid JSON; " +
                      f"{len(problems)} problem{'s' if len(problems) != 1 else ''}:[/yellow]\n" + "\n".join(problems[:5]))
        self.query_one("#apply", Button).disabled = False

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.dismiss(None)

    def action_apply(self) -> None:
        if self.data is None:
            self.notify("Fix the JSON first: the status line says where it breaks.", severity="warning")
            return
        self.dismiss(self.data)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceDialog(ModalScreen[str | None]):
    """Pick one of several options (a code to filter by, a file to open); esc picks nothing."""

    DEFAULT_CSS = """
    ChoiceDialog { align: center middle; }
    ChoiceDialog > Vertical { width: 80; height: auto; max-height: 80%; border: thick $accent; background: $panel; padding: 0 1; }
    ChoiceDialog OptionList { height: auto; max-height: 30; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel", tooltip="Choose nothing")]

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"[b]{self.title_text}[/b]")
            yield OptionList(*(Option(label, id=value) for value, label in self.options))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
