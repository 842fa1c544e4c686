"""One example drawn as a conversation: turns, tool calls with their parsed arguments, results."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text

from punie_tui.core.dataset import Record
from punie_tui.core.formats import ToolCall, ToolSchemas, parse_raw_distill_calls, result_contents, turn_calls

_ROLE_STYLES = {"system": "magenta", "user": "cyan", "assistant": "green", "tool": "yellow"}


def _call_block(call: ToolCall) -> list[RenderableType]:
    head = Text.assemble(("⚙ ", "bold"), (call.name or "(no name)", "bold yellow"), (f"  [{call.format}]", "dim"))
    if call.arguments is None:
        blocks: list[RenderableType] = [head, Text(call.raw, style="red")]
    else:
        blocks = [head, Syntax(json.dumps(call.arguments, indent=2, ensure_ascii=False), "json", word_wrap=True,
                               theme="ansi_dark", background_color="default")]
    for problem in call.problems:
        blocks.append(Text(f"  ✗ {problem.code}: {problem.message}", style="red"))
    return blocks


def _turn_blocks(index: int, turn: dict[str, Any], schemas: ToolSchemas | None) -> list[RenderableType]:
    role = str(turn.get("role"))
    content = turn.get("content")
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    results = result_contents(turn) if role in ("user", "tool") else None
    label = f"{index + 1}. {role}" + (" (tool result)" if results is not None else "")
    blocks: list[RenderableType] = [Text(label, style=f"bold {_ROLE_STYLES.get(role, 'white')}")]
    if role == "assistant":
        calls = turn_calls(turn, schemas)
        cursor = 0
        for call in calls:
            if call.format != "openai":
                if text[cursor:call.start].strip():
                    blocks.append(Text(text[cursor:call.start].strip()))
                cursor = call.end
        if text[cursor:].strip():
            blocks.append(Text(text[cursor:].strip()))
        for call in calls:
            blocks.extend(_call_block(call))
        if not calls and not text.strip():
            blocks.append(Text("(empty)", style="dim"))
        return blocks
    if results is not None:
        for result in results:
            blocks.append(Text("↳ " + (result if result else "(empty result)"), style="yellow"))
    else:
        blocks.append(Text(text if text.strip() else "(empty)", style="" if text.strip() else "dim"))
    return blocks


def conversation_view(record: Record, schemas: ToolSchemas | None = None, raw: bool = False) -> RenderableType:
    """The example as the model will see it, or its raw JSON (`raw`)."""
    if record.data is None:
        return Group(Text(f"line {record.line} is not usable: {record.error}", style="bold red"), Text(record.text))
    if raw:
        return Syntax(json.dumps(record.data, indent=2, ensure_ascii=False), "json", word_wrap=True,
                      theme="ansi_dark", background_color="default")
    blocks: list[RenderableType] = []
    if record.shape == "raw-distill":
        blocks.append(Text(f"raw-distill query: {record.data.get('query')}", style="bold cyan"))
        for call in parse_raw_distill_calls(record.data):
            blocks.extend(_call_block(call))
        blocks.append(Text(f"answer: {record.data.get('answer')}", style="green"))
        return Group(*blocks)
    turns = record.turns()
    if not turns:
        return Text(f"a {record.shape} record: nothing to show as a conversation (r shows the raw JSON)", style="dim")
    for index, turn in enumerate(turns):
        blocks.extend(_turn_blocks(index, turn, schemas))
        blocks.append(Text(""))
    return Group(*blocks)
