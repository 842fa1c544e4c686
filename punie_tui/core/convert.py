"""Convert a record's tool calls and tool results from any format to any other, losslessly.

A record is read into a neutral conversation (prose around calls, parsed calls, tool results),
rendered in the target format and parsed back; a conversion that would not give back the same
calls and prose is refused with the reason, and the record stays as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Any

from punie_tui.core.dataset import Record, detect_shape
from punie_tui.core.formats import (
    FORMATS,
    TEXT_FORMATS,
    ToolCall,
    ToolSchemas,
    openai_call,
    parse_raw_distill_calls,
    record_calls,
    render_call,
    render_results,
    result_contents,
    turn_calls,
)

_TURN_KEYS = ("role", "content", "tool_calls", "name", "tool_call_id")
_RAW_DISTILL_KEYS = ("query", "tool_calls", "answer", "messages", "system")


class ConversionError(ValueError):
    """A record that cannot be converted without losing or inventing information."""


@dataclass
class Item:
    """One step of a conversation: a plain turn, an assistant turn with calls, or tool results."""

    role: str
    text: str = ""
    segments: list[str] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    results: list[tuple[str | None, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def prose(self) -> str:
        return "".join(self.segments).strip() if self.role == "assistant" else self.text


def _usable(calls: list[ToolCall]) -> None:
    for call in calls:
        if call.name is None or call.arguments is None or any(
            p.code in ("tool-call-invalid-json", "tool-call-unclosed") for p in call.problems
        ):
            reason = call.problems[0].message if call.problems else "the call has no name"
            raise ConversionError(f"a {call.format} call cannot be read: {reason}")


def _assistant_item(turn: dict[str, Any], schemas: ToolSchemas | None) -> Item:
    calls = turn_calls(turn, schemas)
    _usable(calls)
    content = turn.get("content") if isinstance(turn.get("content"), str) else ""
    extra = {k: v for k, v in turn.items() if k not in _TURN_KEYS}
    structured = [c for c in calls if c.format == "openai"]
    inline = [c for c in calls if c.format != "openai"]
    segments: list[str] = []
    cursor = 0
    for call in inline:
        segments.append(content[cursor:call.start])
        cursor = call.end
    segments.append(content[cursor:])
    if structured:
        # Calls kept beside the text get the separators a text format puts around them.
        if segments[-1] and not inline:
            segments[-1] += "\n\n"
        segments.extend("\n" for _ in structured[1:])
        segments.append("")
    return Item("assistant", segments=segments, calls=inline + structured, extra=extra)


def conversation(record: Record, schemas: ToolSchemas | None = None) -> list[Item]:
    """A record as neutral conversation items; raises ConversionError when calls are unreadable."""
    data = record.data
    if data is None:
        raise ConversionError(f"line {record.line} is not a JSON object")
    if record.shape == "raw-distill":
        return _raw_distill_items(data)
    if record.shape not in ("messages", "text", "prompt-completion"):
        raise ConversionError(f"a {record.shape} record has no conversation to convert")
    items: list[Item] = []
    pending: list[str | None] = []
    for turn in record.turns():
        role = turn.get("role")
        results = result_contents(turn) if role in ("user", "tool") else None
        if results is not None and (pending or role == "tool"):
            names = [turn.get("name") if role == "tool" else None for _ in results]
            names = [name or (pending.pop(0) if pending else None) for name in names]
            if items and items[-1].role == "results":
                items[-1].results.extend(zip(names, results))
            else:
                items.append(Item("results", results=list(zip(names, results))))
            continue
        if role == "assistant":
            item = _assistant_item(turn, schemas)
            pending = [call.name for call in item.calls]
            items.append(item)
            continue
        content = turn.get("content")
        if not isinstance(content, str):
            raise ConversionError(f"a {role} turn has no text content")
        extra = {k: v for k, v in turn.items() if k not in _TURN_KEYS}
        items.append(Item(str(role), text=content, extra=extra))
        pending = []
    return items


def _raw_distill_items(data: dict[str, Any]) -> list[Item]:
    items = []
    if isinstance(data.get("system"), str):
        items.append(Item("system", text=data["system"]))
    items.append(Item("user", text=str(data.get("query", ""))))
    calls = parse_raw_distill_calls(data)
    _usable(calls)
    for entry, call in zip(data.get("tool_calls") or [], calls):
        items.append(Item("assistant", segments=["", ""], calls=[call]))
        if isinstance(entry, dict) and "result" in entry:
            result = entry["result"]
            items.append(Item("results", results=[(call.name, result if isinstance(result, str) else json.dumps(result, ensure_ascii=False))]))
    if data.get("answer") is not None:
        items.append(Item("assistant", segments=[str(data["answer"])]))
    return items


# --- rendering ------------------------------------------------------------------------------


def _assistant_turn(item: Item, target: str) -> dict[str, Any]:
    if target == "openai":
        turn: dict[str, Any] = {"role": "assistant", "content": item.prose()}
        if item.calls:
            turn["tool_calls"] = [openai_call(c.name or "", c.arguments or {}, c.id) for c in item.calls]
        return {**turn, **item.extra}
    parts = [item.segments[0]]
    for call, segment in zip(item.calls, item.segments[1:]):
        parts.append(render_call(call.name or "", call.arguments or {}, target))
        parts.append(segment)
    return {"role": "assistant", "content": "".join(parts), **item.extra}


def render_turns(items: list[Item], target: str) -> list[dict[str, Any]]:
    """Conversation items as chat turns in a target format (not raw-distill)."""
    turns: list[dict[str, Any]] = []
    for item in items:
        if item.role == "assistant":
            turns.append(_assistant_turn(item, target))
        elif item.role == "results":
            turns.extend(render_results(item.results, target))
        else:
            turns.append({"role": item.role, "content": item.text, **item.extra})
    return turns


def _chatml(turns: list[dict[str, Any]]) -> str:
    return "".join(f"<|im_start|>{t['role']}\n{t['content']}<|im_end|>\n" for t in turns)


def _render_raw_distill(items: list[Item], rest: dict[str, Any]) -> dict[str, Any]:
    users = [i for i in items if i.role == "user"]
    if len(users) != 1:
        raise ConversionError(f"raw-distill holds one query; this conversation has {len(users)} user turns")
    entries: list[dict[str, Any]] = []
    answer: str | None = None
    system: str | None = None
    for item in items:
        if item.role == "system":
            system = item.text
        elif item.role == "assistant" and item.calls:
            if item.prose():
                raise ConversionError("raw-distill has no place for text beside a tool call")
            entries.extend({"name": c.name, "arguments": c.arguments} for c in item.calls)
        elif item.role == "results":
            waiting = [e for e in entries if "result" not in e]
            if len(waiting) < len(item.results):
                raise ConversionError("a tool result follows no call")
            for entry, (_, content) in zip(waiting, item.results):
                entry["result"] = content
        elif item.role == "assistant":
            if answer is not None:
                raise ConversionError("raw-distill holds one answer; this conversation has several")
            answer = item.prose()
    data: dict[str, Any] = {"query": users[0].text, "tool_calls": entries}
    if answer is not None:
        data["answer"] = answer
    if system is not None:
        data["system"] = system
    return {**data, **rest}


def render_record(items: list[Item], target: str, source: dict[str, Any], shape: str) -> dict[str, Any]:
    """A new record in the target format; keys of the source that carry no turns are kept."""
    if target not in FORMATS:
        raise ConversionError(f"unknown format {target!r} (one of {', '.join(FORMATS)})")
    if target == "raw-distill":
        rest = {k: v for k, v in source.items() if k not in ("messages", "text", "prompt", "completion", *_RAW_DISTILL_KEYS)}
        return _render_raw_distill(items, rest)
    turns = render_turns(items, target)
    if shape == "raw-distill":
        rest = {k: v for k, v in source.items() if k not in _RAW_DISTILL_KEYS}
        return {"messages": turns, **rest}
    if shape == "text" and target in TEXT_FORMATS:
        return {**source, "text": _chatml(turns)}
    if shape == "prompt-completion" and target in TEXT_FORMATS and [t["role"] for t in turns] == ["user", "assistant"]:
        return {**source, "prompt": turns[0]["content"], "completion": turns[1]["content"]}
    rest = {k: v for k, v in source.items() if k not in ("text", "prompt", "completion")}
    return {**rest, "messages": turns}


def _signature(record: Record, schemas: ToolSchemas | None) -> tuple[list[tuple[Any, Any]], list[str]]:
    items = conversation(record, schemas)
    calls = [(c.name, c.arguments) for i in items for c in i.calls]
    prose = [i.prose() if i.role != "results" else "\x00".join(r for _, r in i.results) for i in items]
    return calls, prose


def convert_record(record: Record, target: str, schemas: ToolSchemas | None = None) -> dict[str, Any] | None:
    """The record's data converted to `target`, or None when it is already exactly that.

    Raises ConversionError when the record cannot be read or the result would not give back the
    same calls, arguments, prose and tool results.
    """
    if record.data is None:
        raise ConversionError(f"line {record.line} is not a JSON object")
    if record.shape != "raw-distill" and not record_calls(record, schemas) and target != "raw-distill":
        return None
    items = conversation(record, schemas)
    data = render_record(items, target, record.data, record.shape)
    if data == record.data:
        return None
    before = _signature(record, schemas)
    after = _signature(placeholder_record(data), schemas)
    if before[0] != after[0]:
        was, back = next((a, b) for a, b in zip_longest(before[0], after[0]) if a != b)
        raise ConversionError(f"{target} would not keep the call {was!r} (it reads back as {back!r}); "
                              "give the tool's parameter types in tools.json or keep this format")
    if before[1] != after[1]:
        raise ConversionError(f"{target} would change the text around the calls or the tool results")
    return data


def placeholder_record(data: dict[str, Any]) -> Record:
    """A Record for data that comes from no file (conversion checks, tests, the editor)."""
    return Record(Path("<memory>"), 0, b"", data, None, detect_shape(data))
