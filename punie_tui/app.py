"""PunieApp: one mode per screen, global bindings, the command palette, themes, the quit guard."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from punie_tui.config import UserSettings, Workspace


@dataclass(frozen=True)
class ScreenEntry:
    """A screen the app can show: where its class lives, how to reach it and what it is for."""

    module: str
    cls: str
    keys: str
    title: str
    help: str


# Each screen is its own mode, so switching keeps every screen's state (cursor, edits, charts).
SCREENS: dict[str, ScreenEntry] = {
    "home": ScreenEntry("punie_tui.screens.home", "HomeScreen", "f1", "Home", "The workspace at a glance"),
    "inspect": ScreenEntry("punie_tui.screens.inspect", "InspectScreen", "i on Home", "Inspect", "Find and fix broken tool calls"),
    "label": ScreenEntry("punie_tui.screens.label", "LabelScreen", "l on Home", "Label", "Label examples tool, direct or skip, one key each"),
    "train": ScreenEntry("punie_tui.screens.train", "TrainScreen", "t on Home", "Train", "Launch and watch training runs"),
    "chat": ScreenEntry("punie_tui.screens.chat", "ChatScreen", "c on Home", "Chat", "Spot-check a model's tool loop with real tools"),
    "evaluate": ScreenEntry("punie_tui.screens.evaluate", "EvalScreen", "e on Home", "Eval", "Compare models, adapters and checkpoints on tool-vs-direct queries"),
}


class PunieApp(App[None]):
    """The punie-tui application on one workspace.

    Given a folder, the app draws the home screen at once and opens the workspace in a worker
    (validating settings imports pydantic, the slowest part of start-up); given an opened
    Workspace, it is ready at once.
    """

    CSS_PATH = "app.tcss"
    TITLE = "punie-tui"
    # The first screen composed is home itself, not textual's blank default screen switched away from.
    DEFAULT_MODE = "home"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Quit (asks first when anything is unsaved)", priority=True),
        Binding("f1", "show_screen('home')", "Home", id="app.home", tooltip="The workspace home screen"),
        Binding("ctrl+t", "toggle_dark", "Theme", id="app.theme", tooltip="Switch between light and dark themes"),
    ]

    def __init__(
        self,
        workspace: Workspace | Path,
        start_screen: str | None = None,
        screen_args: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.workspace: Workspace | None = None if isinstance(workspace, Path) else workspace
        self.root = workspace if isinstance(workspace, Path) else workspace.root
        self.start_screen = start_screen or "home"
        self.screen_args = screen_args or {}
        self.error: str | None = None
        self.user_settings: UserSettings | None = None
        for name in SCREENS:
            self.add_mode(name, self._screen_factory(name))
        self.sub_title = str(self.root)

    def _screen_factory(self, name: str):
        def make() -> Screen:
            entry = SCREENS[name]
            cls = getattr(importlib.import_module(entry.module), entry.cls)
            args = self.screen_args if name == self.start_screen else {}
            return cls(self.workspace, **args)

        return make

    def on_mount(self) -> None:
        if self.workspace is not None:
            self._workspace_ready(self.workspace, _load_user_settings_quietly())

    def on_ready(self) -> None:
        # Opening after the first frame is on the terminal keeps the worker's imports (pydantic)
        # from delaying it: until then the main thread would share the GIL with them.
        if self.workspace is None:
            self.call_after_refresh(self.open_workspace)

    @work(thread=True, exclusive=True, exit_on_error=False, name="open workspace")
    def open_workspace(self) -> None:
        from punie_tui.config import WorkspaceError, open_workspace

        try:
            workspace = open_workspace(self.root)
        except WorkspaceError as exc:
            self.call_from_thread(self._workspace_failed, str(exc))
            return
        self.call_from_thread(self._workspace_ready, workspace, _load_user_settings_quietly())

    def _workspace_failed(self, error: str) -> None:
        # The command line prints the error and exits 2, as for any unusable input.
        self.error = error
        self.exit(return_code=2)

    def _workspace_ready(self, workspace: Workspace, user_settings: UserSettings) -> None:
        self.workspace = workspace
        self.user_settings = user_settings
        if user_settings.theme in self.available_themes:
            self.theme = user_settings.theme
        # Users remap any binding by its id (`"label.tool" = "k"`) in settings.toml's [keymap].
        self.set_keymap(user_settings.keymap)
        home = self._screen_stacks.get("home")
        if home:
            home[0].workspace_opened(workspace)
        self.switch_mode(self.start_screen)

    def action_show_screen(self, name: str) -> None:
        # Other screens need the opened workspace; until then only home exists.
        if name in SCREENS and self.current_mode != name and self.workspace is not None:
            self.switch_mode(name)

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def unsaved_screens(self) -> list[str]:
        """Titles of the screens that report unsaved changes."""
        names = []
        for mode, stack in self._screen_stacks.items():
            for screen in stack:
                if getattr(screen, "has_unsaved_changes", lambda: False)():
                    names.append(SCREENS[mode].title if mode in SCREENS else mode)
        return names

    async def action_quit(self) -> None:
        unsaved = self.unsaved_screens()
        if not unsaved:
            self.exit()
            return

        from punie_tui.widgets.confirm import ConfirmDialog

        def decided(really: bool | None) -> None:
            if really:
                self.exit()

        self.push_screen(
            ConfirmDialog(f"Unsaved changes in: {', '.join(unsaved)}.\nQuit without saving?", yes="Quit", no="Stay"),
            decided,
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name, entry in SCREENS.items():
            yield SystemCommand(f"Go to {entry.title}", f"{entry.help} ({entry.keys})", lambda n=name: self.action_show_screen(n))
        # Every key binding of the current screen and its widgets is also a palette command.
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            yield SystemCommand(
                binding.description,
                f"{binding.tooltip or binding.description} ({key})",
                lambda node=active.node, action=binding.action: self.run_action(action, node),
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # One place for worker failures: a message instead of a crashed app.
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(f"{type(error).__name__}: {error}", title=f"{event.worker.name} failed", severity="error", timeout=10)


def _load_user_settings_quietly() -> UserSettings:
    from punie_tui.config import UserSettings, WorkspaceError, load_user_settings

    try:
        return load_user_settings()
    except WorkspaceError:
        # A broken settings file must not stop the app; the defaults apply.
        return UserSettings()
