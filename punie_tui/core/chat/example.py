"""Turning a chat transcript into a training example (the user may correct it first), and adding
it to the workspace's dataset of chat examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from punie_tui.core.atomic import atomic_write_text
from punie_tui.core.chat.transcript import Transcript
from punie_tui.core.formats import openai_call, render_call

CHAT_EXAMPLES_FILE = "chat-examples.jsonl"


class ExampleError(Exception):
    """An edited example that is not a usable training example; the message says what is wrong."""


def transcript_to_example(transcript: Transcript, target_format: str = "qwen25-json") -> dict[str, Any]:
    """A `messages` training example with the transcript's prompt, calls, results and answers.

    Calls are written in the workspace's target format, in that format's canonical layout (text
    formats in the assistant's content, `openai` as tool_calls on the assistant message).
    """
    messages: list[dict[str, Any]] = []
    if transcript.system_prompt:
        messages.append({"role": "system", "content": transcript.system_prompt})
    messages.append({"role": "user", "content": transcript.prompt})
    for turn in transcript.turns:
        data = turn.to_json()
        calls = data["tool_calls"]
        if not calls:
            messages.append({"role": "assistant", "content": data["text"]})
            continue
        if target_format == "openai":
            tool_calls = [openai_call(c["name"], _as_object(c["arguments"])) for c in calls]
            messages.append({"role": "assistant", "content": "", "tool_calls": tool_calls})
        else:
            text = "\n".join(render_call(c["name"], _as_object(c["arguments"]), target_format) for c in calls)
            messages.append({"role": "assistant", "content": text})
        for result in data["tool_results"]:
            content = result["output"] if result["status"] == "ok" else f"{result['status'].capitalize()}: {result['reason']}"
            messages.append({"role": "tool", "content": content})
    return {"messages": messages}


def _as_object(arguments: dict[str, Any] | str) -> dict[str, Any]:
    # Unparseable arguments are kept whole for the user to correct in the editor.
    return arguments if isinstance(arguments, dict) else {"INVALID_JSON": arguments}


def parse_example(text: str) -> dict[str, Any]:
    """An example as the user edited it: one JSON object with a non-empty `messages` list."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExampleError(f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, list) or not messages:
        raise ExampleError("an example needs a non-empty 'messages' list")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant", "tool"):
            raise ExampleError(f"message {index + 1}: needs a role of system, user, assistant or tool")
    if messages[-1].get("role") != "assistant":
        raise ExampleError("the last message must be the assistant's answer")
    return data


def append_example(workspace_root: Path, example: dict[str, Any], file_name: str = CHAT_EXAMPLES_FILE) -> Path:
    """Add one example as a JSONL line to the workspace's chat examples; returns the file."""
    path = workspace_root / file_name
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if existing and not existing.endswith("\n"):
        existing += "\n"
    atomic_write_text(path, existing + json.dumps(example, ensure_ascii=False) + "\n")
    return path
