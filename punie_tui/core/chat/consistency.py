"""Does a chat run the model the way it was trained? Compares the chat's system prompt and tool
definitions (and, given the tokenizer, the rendered prompt) with the workspace's training prompt
and training data, and says where they differ.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from punie_tui.config import Workspace
from punie_tui.core.dataset import load_dataset

# Enough examples to know what the training data uses without reading a huge dataset whole.
MAX_RECORDS = 5000


@dataclass(frozen=True)
class SetupWarning:
    """One difference between the chat and training; `code` is a stable identifier."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class TrainingSetup:
    """What the training data shows: its most common system prompt and tool list, with a location."""

    system_prompt: str | None = None
    system_prompt_at: str | None = None
    tools: list[dict[str, Any]] | None = None
    tools_at: str | None = None
    # The first example's opening turns (system, user) and its tools, to render both ways.
    example: list[dict[str, Any]] | None = None
    example_tools: list[dict[str, Any]] | None = None
    example_at: str | None = None

    @property
    def renders_tools(self) -> bool:
        """Whether training prompts had a tools block; a workspace without training data renders one."""
        return self.tools is not None or self.example is None


def training_setup(workspace: Workspace) -> TrainingSetup:
    """The system prompt and tools most training examples of the workspace carry."""
    prompts: Counter[str] = Counter()
    tool_lists: Counter[str] = Counter()
    where: dict[str, str] = {}
    seen = 0
    setup = TrainingSetup()
    for path in workspace.dataset_paths():
        for record in load_dataset(path).records:
            if seen >= MAX_RECORDS:
                break
            seen += 1
            turns = record.turns()
            if setup.example is None and len(turns) >= 2 and [t.get("role") for t in turns[:2]] == ["system", "user"]:
                setup.example, setup.example_at = turns[:2], record.location
                tools = record.data.get("tools") if record.data else None
                setup.example_tools = tools if isinstance(tools, list) else None
            if turns and turns[0].get("role") == "system" and isinstance(turns[0].get("content"), str):
                prompts[turns[0]["content"]] += 1
                where.setdefault("p:" + turns[0]["content"], record.location)
            tools = record.data.get("tools") if record.data else None
            if isinstance(tools, list):
                # Key order matters: templates render tools with `tojson`, in the order written.
                text = json.dumps(tools, ensure_ascii=False)
                tool_lists[text] += 1
                where.setdefault("t:" + text, record.location)
    if prompts:
        setup.system_prompt = prompts.most_common(1)[0][0]
        setup.system_prompt_at = where["p:" + setup.system_prompt]
    if tool_lists:
        text = tool_lists.most_common(1)[0][0]
        setup.tools, setup.tools_at = json.loads(text), where["t:" + text]
    return setup


def check_setup(
    workspace: Workspace,
    system_prompt: str,
    definitions: list[dict[str, Any]],
    *,
    render_tools: bool = True,
    tokenizer: Any = None,
    training: TrainingSetup | None = None,
) -> list[SetupWarning]:
    """Warnings for every way the chat's prompt or tools differ from training; [] when they match.

    With the tokenizer, the first training example's opening is rendered as training rendered it and
    as the chat renders it (its system prompt, its tools or none): any difference is a warning.
    """
    training = training or training_setup(workspace)
    warnings = []
    configured = workspace.settings.system_prompt
    if configured and system_prompt != configured:
        warnings.append(SetupWarning(
            "prompt-differs-from-settings",
            f"the system prompt differs from system_prompt in {workspace.settings_path} {_first_difference(configured, system_prompt)}",
        ))
    if training.system_prompt is not None and system_prompt != training.system_prompt:
        warnings.append(SetupWarning(
            "prompt-differs-from-training",
            f"the system prompt differs from the training data's (e.g. {training.system_prompt_at}) {_first_difference(training.system_prompt, system_prompt)}",
        ))
    if training.tools is not None:
        warnings.extend(_tool_warnings(training, definitions))
    if tokenizer is not None and training.example is not None:
        rendered_training = _render(tokenizer, training.example, training.example_tools)
        chat_opening = [{"role": "system", "content": system_prompt}, training.example[1]]
        rendered_chat = _render(tokenizer, chat_opening, definitions if render_tools else None)
        if rendered_training != rendered_chat:
            warnings.append(SetupWarning(
                "rendering-differs",
                f"the chat's prompt renders differently from the training example {training.example_at} {_first_difference(rendered_training, rendered_chat)}",
            ))
    return warnings


def _tool_warnings(training: TrainingSetup, definitions: list[dict[str, Any]]) -> list[SetupWarning]:
    assert training.tools is not None
    trained_names, chat_names = _names(training.tools), _names(definitions)
    if trained_names != chat_names:
        return [SetupWarning(
            "tools-differ",
            f"the chat offers tools {chat_names} but the training data (e.g. {training.tools_at}) has {trained_names}",
        )]
    if json.dumps(training.tools, sort_keys=True) != json.dumps(definitions, sort_keys=True):
        return [SetupWarning("tool-schemas-differ", f"tool descriptions or parameters differ from the training data's (e.g. {training.tools_at})")]
    if json.dumps(training.tools) != json.dumps(definitions):
        return [SetupWarning("tool-order-differs", f"tools or their keys are in another order than in the training data (e.g. {training.tools_at}), so they render differently")]
    return []


def _names(definitions: list[dict[str, Any]]) -> list[str]:
    return [str(d.get("function", d).get("name")) for d in definitions if isinstance(d, dict)]


def _render(tokenizer: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> str:
    return tokenizer.apply_chat_template(messages, tools=tools or None, add_generation_prompt=True, tokenize=False)


def _first_difference(expected: str, actual: str) -> str:
    index = next((i for i, (a, b) in enumerate(zip(expected, actual)) if a != b), min(len(expected), len(actual)))
    return f"at character {index}: expected {expected[index:index + 40]!r}, got {actual[index:index + 40]!r}"
