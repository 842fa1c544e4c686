"""Chat: spot-check a model's tool loop with the workspace's real tools; the verdict (loop, no-stop,
request-limit, unparsed-call) shows at a glance, and a transcript can become a training example."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, Header, Input, Label, OptionList, Select, Static, TextArea

from punie_tui.widgets.confirm import ConfirmDialog
from punie_tui.widgets.demo_offer import DemoModelOffer
from punie_tui.widgets.footer import KeyFooter
from punie_tui.widgets.transcript import TranscriptView, VerdictBanner

if TYPE_CHECKING:
    from punie_tui.config import Workspace


@dataclass
class LoadedModel:
    """The model the screen chats with, kept while the picked source stays the same."""

    choice: tuple
    model: Any
    server: Any = None  # the running MlxServer on the server path

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
        else:
            self.model.close()


class AddExampleDialog(ModalScreen[bool]):
    """The transcript as a training example, editable; saving appends it to the workspace's data."""

    DEFAULT_CSS = """
    AddExampleDialog { align: center middle; }
    AddExampleDialog > Vertical { width: 90%; height: 80%; border: thick $accent; background: $surface; padding: 0 1; }
    AddExampleDialog TextArea { height: 1fr; }
    AddExampleDialog #example-error { color: $error; height: auto; }
    AddExampleDialog Horizontal { height: 3; align: right middle; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="chat.example.save", tooltip="Append the example to the workspace's chat examples"),
        Binding("escape", "dismiss(False)", "Cancel", id="chat.example.cancel", tooltip="Close without adding"),
    ]

    def __init__(self, text: str, workspace: Workspace) -> None:
        super().__init__()
        self.text = text
        self.workspace = workspace

    def compose(self) -> ComposeResult:
        from punie_tui.core.chat.example import CHAT_EXAMPLES_FILE

        with Vertical():
            yield Label(f"Correct the example if needed; Save appends it to {CHAT_EXAMPLES_FILE}")
            yield TextArea(self.text, language="json", id="example-text")
            yield Static("", id="example-error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(False)

    def action_save(self) -> None:
        from punie_tui.core.chat.example import ExampleError, append_example, parse_example

        try:
            example = parse_example(self.query_one(TextArea).text)
        except ExampleError as exc:
            self.query_one("#example-error", Static).update(str(exc))
            return
        append_example(self.workspace.root, example)
        self.dismiss(True)


class ChatScreen(Screen[None]):
    """Pick a model, send a prompt (or a quick probe), watch the turns stream, read the verdict."""

    DEFAULT_CSS = """
    ChatScreen #side { width: 38; padding: 0 1; border-right: solid $panel; }
    ChatScreen #side Input { margin: 0; }
    ChatScreen #side Select { margin: 0; }
    ChatScreen #probes { height: 1fr; min-height: 4; }
    ChatScreen #warnings { color: $warning; height: auto; padding: 0 1; }
    ChatScreen #main { width: 1fr; }
    ChatScreen .field { color: $text-muted; margin: 1 0 0 0; }
    ChatScreen .pair { height: auto; }
    ChatScreen .pair Input { width: 1fr; margin-right: 1; }
    ChatScreen #server { border: none; padding: 0; margin: 1 0 0 0; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="chat.cancel", tooltip="Stop the running spot-check"),
        Binding("ctrl+n", "add_example", "Add to dataset", id="chat.add", tooltip="Turn the transcript into a training example"),
        Binding("ctrl+o", "focus_prompt", "Prompt", id="chat.prompt", tooltip="Go to the prompt line"),
    ]

    class Updated(Message):
        """The turns so far; a newer update replaces one not yet shown."""

        def __init__(self, turns: list[dict[str, Any]]) -> None:
            super().__init__()
            self.turns = turns

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ChatScreen.Updated)

    class Finished(Message):
        def __init__(self, data: dict[str, Any]) -> None:
            super().__init__()
            self.data = data

    class Status(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Warnings(Message):
        """How this chat differs from training (prompt, tools, rendering); [] when it does not."""

        def __init__(self, warnings: list[str]) -> None:
            super().__init__()
            self.warnings = warnings

    def __init__(self, workspace: Workspace, model: str | None = None, adapter: str | None = None,
                 server: bool = False, chat_model: Any = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.initial_model = model or workspace.settings.model or ""
        self.initial_adapter = adapter
        self.initial_server = server
        # A ready pydantic-ai model (tests pass a FunctionModel); otherwise one is loaded on demand.
        self.fixed_model = chat_model
        self.session_file = f"chat-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        self.last_result: Any = None
        self._cancel = threading.Event()
        self.loaded: LoadedModel | None = None
        # Set when the demo model finished training: the next prompt loads it instead.
        self._demo_model_changed = False
        # A prompt sent while a model still loads must wait for it, not load a second one.
        self._model_lock = threading.Lock()
        self._setup: Any = None
        self._tokenizer: Any = None  # of the loaded model, to compare prompt renderings
        from punie_tui.core.eval_suite import SuiteError, workspace_queries

        # A broken queries file leaves the probes empty and is reported once the screen is up.
        self.queries_problem: str | None = None
        try:
            self.queries = workspace_queries(workspace)
        except SuiteError as exc:
            self.queries, self.queries_problem = [], str(exc)

    def compose(self) -> ComposeResult:
        from punie_tui.core.chat.sources import run_adapters

        adapters = [(str(p.relative_to(self.workspace.root)), str(p)) for p in run_adapters(self.workspace)]
        if self.initial_adapter and self.initial_adapter not in [value for _, value in adapters]:
            adapters.insert(0, (self.initial_adapter, self.initial_adapter))
        yield Header()
        if not self.workspace.settings.model:
            yield DemoModelOffer()
        with Horizontal():
            with VerticalScroll(id="side"):
                yield Static("system prompt (training prompt)", classes="field")
                yield Input(self.workspace.settings.system_prompt, id="system-prompt", compact=True)
                yield Static("model folder", classes="field")
                yield Input(self.initial_model, placeholder="path to an MLX model folder", id="model", compact=True)
                yield Static("adapter or checkpoint", classes="field")
                yield Select(adapters, prompt="(no adapter)", value=self.initial_adapter or Select.NULL, id="adapter", compact=True)
                yield Checkbox("through mlx_lm.server", self.initial_server, id="server")
                yield Static("temperature / max tokens", classes="field")
                with Horizontal(classes="pair"):
                    yield Input("0.0", id="temperature", type="number", compact=True)
                    yield Input("512", id="max-tokens", type="integer", compact=True)
                yield Static("stop sequences (separate with |)", classes="field")
                yield Input("", id="stop", compact=True)
                yield Static("request limit / loop threshold", classes="field")
                with Horizontal(classes="pair"):
                    yield Input("8", id="request-limit", type="integer", compact=True)
                    yield Input("3", id="loop-threshold", type="integer", compact=True)
                yield Static("quick probes (eval queries)", classes="field")
                yield OptionList(*[Text(f"[{q.expected}] {q.prompt}") for q in self.queries], id="probes")
            with Vertical(id="main"):
                yield VerdictBanner("Type a prompt below, or pick a quick probe.", id="verdict")
                yield Static("", id="warnings")
                yield TranscriptView(id="transcript")
                yield Input(placeholder="prompt (Enter sends, Esc cancels)", id="prompt")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#prompt", Input).focus()
        if self.queries_problem:
            self.notify(self.queries_problem, title="eval queries not offered", severity="warning", timeout=10)

    def action_focus_prompt(self) -> None:
        self.query_one("#prompt", Input).focus()

    @on(Input.Submitted, "#prompt")
    def send_prompt(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.start(event.value.strip())

    @on(OptionList.OptionSelected, "#probes")
    def send_probe(self, event: OptionList.OptionSelected) -> None:
        query = self.queries[event.option_index]
        self.query_one("#prompt", Input).value = query.prompt
        self.start(query.prompt, query.expected)

    def _options(self) -> Any:
        from punie_tui.core.chat.agent import ChatOptions

        def number(widget_id: str, kind: type, default: Any) -> Any:
            try:
                return kind(self.query_one(f"#{widget_id}", Input).value)
            except ValueError:
                return default

        stops = tuple(s for s in self.query_one("#stop", Input).value.split("|") if s)
        return ChatOptions(
            temperature=number("temperature", float, 0.0), max_tokens=max(1, number("max-tokens", int, 512)),
            stop_sequences=stops, request_limit=max(1, number("request-limit", int, 8)),
            loop_threshold=max(2, number("loop-threshold", int, 3)),
        )

    def start(self, prompt: str, expected: str | None = None) -> None:
        from punie_tui.core.eval_suite import expectation_for

        # A new prompt replaces a running one: stop it rather than let it run on unseen.
        self._cancel.set()
        self._cancel = threading.Event()
        adapter = self.query_one("#adapter", Select).value
        choice = (self.query_one("#model", Input).value.strip() or None, None if adapter is Select.NULL else str(adapter),
                  self.query_one("#server", Checkbox).value)
        self.query_one(TranscriptView).clear(prompt)
        self.query_one(VerdictBanner).show_running("running...")
        system_prompt = self.query_one("#system-prompt", Input).value
        self.run_spot_check(prompt, system_prompt, expected or expectation_for(self.queries, prompt), self._options(), choice, self._cancel)

    def action_cancel(self) -> None:
        self._cancel.set()

    @work(thread=True, exclusive=True, exit_on_error=False, name="chat")
    def run_spot_check(self, prompt: str, system_prompt: str, expected: Any, options: Any, choice: tuple, cancel: threading.Event) -> None:
        from punie_tui.core.chat.agent import run_chat_sync
        from punie_tui.core.chat.mlx_model import ModelSourceError
        from punie_tui.core.chat.server import ServerError
        from dataclasses import replace

        from punie_tui.core.chat.setup import chat_setup
        from punie_tui.core.chat.tools import WorkspaceTools
        from punie_tui.core.chat.transcript import append_session, sessions_dir

        if self._setup is None:
            self._setup = chat_setup(self.workspace)
        try:
            with self._model_lock:
                model = self._model_for(choice)
        except (ModelSourceError, ServerError, OSError, ValueError) as exc:
            self.post_message(self.Status(f"cannot load the model: {exc}"))
            return
        setup = replace(self._setup, system_prompt=system_prompt)
        self.post_message(self.Warnings([w.message for w in setup.warnings(self._tokenizer)]))
        tools = WorkspaceTools(self.workspace.root, approver=lambda request: self._ask_approval(request, cancel))
        try:
            result = run_chat_sync(
                model, prompt, tools, definitions=setup.definitions, system_prompt=setup.system_prompt,
                options=options, expected=expected, cancel=cancel,
                on_update=lambda transcript: self.post_message(self.Updated([turn.to_json() for turn in transcript.turns])),
            )
        except Exception as exc:
            # The banner says so; the app's worker-error handler reports the details.
            self.post_message(self.Status(f"failed: {type(exc).__name__}: {exc}"))
            raise
        self.last_result = result
        data = result.to_json()
        append_session(sessions_dir(self.workspace.root) / self.session_file, data)
        self.post_message(self.Updated(data["turns"]))
        self.post_message(self.Finished(data))

    def _model_for(self, choice: tuple) -> Any:
        """The model for the picked source, reusing the loaded one while the choice is the same."""
        if self.fixed_model is not None:
            return self.fixed_model
        if self.loaded is not None and self.loaded.choice == choice and not self._demo_model_changed:
            return self.loaded.model
        self._unload()
        self._demo_model_changed = False
        from punie_tui.core.chat.mlx_model import MlxModel
        from punie_tui.core.chat.server import MlxServer
        from punie_tui.core.chat.sources import resolve_source

        model_dir, adapter, server = choice
        source = resolve_source(self.workspace, model_dir, adapter)
        setup = self._setup
        self.post_message(self.Status(f"loading {source.label}{' in mlx_lm.server' if server else ''}..."))
        if server:
            from mlx_lm.utils import load_tokenizer

            self._tokenizer = load_tokenizer(source.base)
            running = MlxServer(source).start()
            self.loaded = LoadedModel(choice, running.chat_model(setup.definitions, render_tools=setup.render_tools), running)
        else:
            model = MlxModel(source, tool_definitions=setup.definitions, render_tools=setup.render_tools)
            self._tokenizer = model.load()[1]
            self.loaded = LoadedModel(choice, model)
        self.post_message(self.Status(f"running on {source.label}..."))
        return self.loaded.model

    def on_demo_model_offer_finished(self, message: DemoModelOffer.Finished) -> None:
        self._demo_model_changed = message.ok

    def _unload(self) -> None:
        self._tokenizer = None
        if self.loaded is not None:
            self.loaded.close()
            self.loaded = None

    def on_unmount(self) -> None:
        self._cancel.set()
        self._unload()

    def _ask_approval(self, request: Any, cancel: threading.Event) -> bool:
        # Called on the worker thread: ask on the UI thread and wait for the answer.
        answered = threading.Event()
        answer: list[bool] = []

        def decided(value: bool | None) -> None:
            answer.append(bool(value))
            answered.set()

        question = f"{request.tool} wants to {request.reason}.\n{request.arguments}\nAllow it?"
        self.app.call_from_thread(self.app.push_screen, ConfirmDialog(question, yes="Allow", no="Refuse"), decided)
        while not answered.wait(0.1):
            if cancel.is_set():
                return False
        return answer[0]

    def on_chat_screen_updated(self, message: Updated) -> None:
        self.query_one(TranscriptView).show(message.turns)

    def on_chat_screen_status(self, message: Status) -> None:
        self.query_one(VerdictBanner).show_running(message.text)

    def on_chat_screen_warnings(self, message: Warnings) -> None:
        self.query_one("#warnings", Static).update("\n".join(f"warning: {w}" for w in message.warnings))

    def on_chat_screen_finished(self, message: Finished) -> None:
        self.query_one(VerdictBanner).show_result(message.data)

    def action_add_example(self) -> None:
        import json

        from punie_tui.core.chat.example import transcript_to_example

        if self.last_result is None:
            self.notify("Run a prompt first", severity="warning")
            return
        example = transcript_to_example(self.last_result.transcript, self.workspace.settings.target_format)

        def added(saved: bool | None) -> None:
            if saved:
                self.notify("Example added to the workspace's chat examples")

        self.app.push_screen(AddExampleDialog(json.dumps(example, indent=2, ensure_ascii=False), self.workspace), added)
