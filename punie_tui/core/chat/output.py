"""Turning a model's streamed text into what a chat shows: visible text as it arrives, held back
at tool-call markers and at possible stop sequences, cut at a stop sequence, and the tool calls
parsed at the end (the tokenizer's mlx-lm parser first, punie's format parser where it finds none).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from punie_tui.core.formats import parse_content_calls, tool_schemas

# mlx-lm's parsers take a call's inner text and the tools, and return {"name", "arguments"}.
ToolParser = Callable[[str, Any], Any]
# A fallback over the whole call region: [(name, arguments)] or [] when it finds nothing.
FallbackParser = Callable[[str], list[tuple[str, dict[str, Any] | str]]]


@dataclass
class ParsedCall:
    name: str
    arguments: dict[str, Any] | str


@dataclass
class StreamSplitter:
    """Follows generated text: what may be shown now, where calls start, and where a stop sequence cut it."""

    call_start: str | None
    stop_sequences: Sequence[str] = ()
    raw: str = ""
    stopped: bool = False
    call_region_at: int | None = None
    _shown: int = 0
    _markers: tuple[str, ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        self._markers = tuple(m for m in (self.call_start, *self.stop_sequences) if m)

    def feed(self, segment: str) -> str:
        """Add a generated segment; return the text that can be shown now ('' while held back)."""
        if self.stopped or not segment:
            return ""
        before = len(self.raw)
        self.raw += segment
        self._cut_at_stop(before)
        if self.call_region_at is None and self.call_start:
            found = self.raw.find(self.call_start, max(0, before - len(self.call_start) + 1))
            if found >= 0:
                self.call_region_at = found
        if self.call_region_at is not None:
            visible_end = self.call_region_at
        elif self.stopped:
            visible_end = len(self.raw)
        else:
            visible_end = len(self.raw) - self._held_tail()
        shown = self.raw[self._shown : max(visible_end, self._shown)]
        self._shown = max(visible_end, self._shown)
        return shown

    def flush(self) -> str:
        """At the end of generation: the text held back for a marker that never completed."""
        end = self.call_region_at if self.call_region_at is not None else len(self.raw)
        rest = self.raw[self._shown : end]
        self._shown = max(end, self._shown)
        return rest

    @property
    def call_region(self) -> str:
        return "" if self.call_region_at is None else self.raw[self.call_region_at :]

    def _cut_at_stop(self, before: int) -> None:
        cuts = []
        for stop in self.stop_sequences:
            if stop:
                found = self.raw.find(stop, max(0, before - len(stop) + 1))
                if found >= 0:
                    cuts.append(found)
        if cuts:
            # Like the OpenAI API: the stop sequence itself is not part of the answer.
            self.raw = self.raw[: min(cuts)]
            self.stopped = True

    def _held_tail(self) -> int:
        # Hold back a tail that may be the beginning of a marker split across tokens.
        longest = 0
        for marker in self._markers:
            for size in range(min(len(marker) - 1, len(self.raw)), longest, -1):
                if self.raw.endswith(marker[:size]):
                    longest = size
                    break
        return longest


def parse_call_region(
    region: str,
    call_start: str,
    call_end: str,
    parser: ToolParser | None,
    tools: Any,
    fallback: FallbackParser | None = None,
) -> tuple[list[ParsedCall], str]:
    """The calls in a region that begins at the first call marker, and the text left outside them.

    A final call whose end marker never came (a stop sequence or the token limit) is still tried.
    """
    calls: list[ParsedCall] = []
    outside: list[str] = []
    position = 0
    while True:
        start = region.find(call_start, position)
        if start < 0:
            outside.append(region[position:])
            break
        outside.append(region[position:start])
        end = region.find(call_end, start + len(call_start))
        inner = region[start + len(call_start) : end if end >= 0 else len(region)]
        call = _parse_one(inner, parser, tools)
        if call is None:
            calls = []
            break
        calls.append(call)
        if end < 0:
            break
        position = end + len(call_end)
    if not calls and fallback is not None:
        found = fallback(region)
        if found:
            return [ParsedCall(name, arguments) for name, arguments in found], ""
    if not calls:
        return [], region
    return calls, "".join(outside).strip()


def _parse_one(inner: str, parser: ToolParser | None, tools: Any) -> ParsedCall | None:
    if parser is None:
        return None
    try:
        parsed = parser(inner, tools)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        # mlx-lm's parsers raise whatever their decoding raises on malformed calls.
        return None
    if isinstance(parsed, list) and len(parsed) == 1:
        parsed = parsed[0]
    if not isinstance(parsed, dict) or not isinstance(parsed.get("name"), str):
        return None
    arguments = parsed.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            return ParsedCall(parsed["name"], arguments)
    if not isinstance(arguments, dict):
        return None
    return ParsedCall(parsed["name"], arguments)


def punie_parser(definitions: list[dict[str, Any]]) -> FallbackParser:
    """punie's own format parser (every format it knows, qwen3-xml parameters typed by the tools'
    schemas) as a fallback: the calls it understood well enough to know name and arguments."""
    schemas = tool_schemas(definitions)

    def parse(text: str) -> list[tuple[str, dict[str, Any] | str]]:
        return [(call.name, call.arguments) for call in parse_content_calls(text, schemas) if call.name and call.arguments is not None]

    return parse
