"""Everything a chat needs from the workspace, gathered once: its tools, the training prompt, how
training rendered tools, and the model (in-process or through a server) set up to match training.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from punie_tui.config import Workspace
from punie_tui.core.chat.consistency import SetupWarning, TrainingSetup, check_setup, training_setup
from punie_tui.core.chat.mlx_model import ModelSource


@dataclass
class ChatSetup:
    """The workspace side of a chat."""

    workspace: Workspace
    definitions: list[dict[str, Any]]
    system_prompt: str
    training: TrainingSetup

    @property
    def render_tools(self) -> bool:
        return self.training.renders_tools

    def warnings(self, tokenizer: Any = None) -> list[SetupWarning]:
        return check_setup(
            self.workspace, self.system_prompt, self.definitions, render_tools=self.render_tools, tokenizer=tokenizer, training=self.training
        )


def chat_setup(workspace: Workspace, system_prompt: str | None = None) -> ChatSetup:
    """The chat setup of a workspace; the system prompt defaults to the workspace's training prompt."""
    prompt = workspace.settings.system_prompt if system_prompt is None else system_prompt
    return ChatSetup(workspace, workspace.tools(), prompt, training_setup(workspace))


@contextmanager
def open_chat_model(setup: ChatSetup, source: ModelSource, *, server: bool = False) -> Iterator[tuple[Any, list[SetupWarning]]]:
    """The pydantic-ai model to chat with and the setup warnings; stopped or unloaded on exit."""
    if server:
        from mlx_lm.utils import load_tokenizer

        from punie_tui.core.chat.server import MlxServer

        warnings = setup.warnings(load_tokenizer(source.base))
        with MlxServer(source) as running:
            yield running.chat_model(setup.definitions, render_tools=setup.render_tools), warnings
        return
    from punie_tui.core.chat.mlx_model import MlxModel

    model = MlxModel(source, tool_definitions=setup.definitions, render_tools=setup.render_tools)
    try:
        yield model, setup.warnings(model.load()[1])
    finally:
        model.close()
