"""The verdict on one spot-check, computed from its transcript: did the model finish, loop, run into
the request limit, never stop, or write a tool call nobody could parse; and, for an eval query,
did it call a tool when it should (or answer directly when it should)?
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from punie_tui.core.chat.transcript import ToolCall, Transcript, Turn
from punie_tui.core.formats import content_formats

# User-visible identifiers (CLI `--json`, the screen's banner): changing one is a breaking change.
VERDICTS: tuple[str, ...] = ("completed", "loop", "request-limit", "no-stop", "unparsed-call")
MISMATCHES: tuple[str, ...] = ("expected-tool", "expected-direct")
DEFAULT_LOOP_THRESHOLD = 3
DEFAULT_REQUEST_LIMIT = 8

VerdictKind = Literal["completed", "loop", "request-limit", "no-stop", "unparsed-call"]
Expected = Literal["tool", "direct"]

# A bare opening marker counts even when what follows is too broken for the format detectors.
_MARKERS = re.compile(r"<tool_call>|<function=|\[TOOL_CALLS\]|<\|tool_call")


@dataclass(frozen=True)
class Verdict:
    """The verdict kind, the number of assistant turns, a one-line explanation and any mismatch."""

    kind: VerdictKind
    turns: int
    detail: str
    mismatch: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.kind, "verdict_detail": self.detail, "turn_count": self.turns, "mismatch": self.mismatch}


def normalise_arguments(arguments: dict[str, Any] | str) -> str:
    """A canonical form of a call's arguments, so `{"path": " ./a.txt"}` and `{"path":"a.txt"}` match."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            return " ".join(arguments.split())
    return json.dumps(_normalise_value(arguments), sort_keys=True, ensure_ascii=False)


def _normalise_value(value: Any) -> Any:
    if isinstance(value, str):
        text = " ".join(value.split())
        return text[2:] if text.startswith("./") else text
    if isinstance(value, dict):
        return {key: _normalise_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise_value(item) for item in value]
    return value


def call_key(call: ToolCall) -> tuple[str, str]:
    return call.name, normalise_arguments(call.arguments)


def find_loop(turns: list[Turn], threshold: int = DEFAULT_LOOP_THRESHOLD) -> tuple[ToolCall, int] | None:
    """The first call made `threshold` times or more with the same normalised arguments, and its count."""
    counts: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], ToolCall] = {}
    for turn in turns:
        for call in turn.tool_calls:
            key = call_key(call)
            counts[key] += 1
            first.setdefault(key, call)
            if counts[key] >= threshold:
                return first[key], counts[key]
    return None


def has_call_markers(text: str) -> bool:
    """Whether text shows tool-call markup of any known format."""
    return bool(_MARKERS.search(text) or content_formats(text))


def judge(
    transcript: Transcript,
    *,
    request_limit_hit: bool = False,
    loop_threshold: int = DEFAULT_LOOP_THRESHOLD,
    expected: Expected | None = None,
) -> Verdict:
    """The verdict for a finished (or stopped) run; the most specific failure wins."""
    turns = transcript.turns
    count = len(turns)
    mismatch = _mismatch(transcript, expected)
    loop = find_loop(turns, loop_threshold)
    if loop is not None:
        call, times = loop
        detail = f"{call.name} called {times} times with the same arguments {normalise_arguments(call.arguments)}"
        return Verdict("loop", count, detail, mismatch)
    if request_limit_hit:
        return Verdict("request-limit", count, f"stopped at the request limit after {transcript.requests} requests", mismatch)
    for index, turn in enumerate(turns, 1):
        if turn.finish_reason == "length":
            return Verdict("no-stop", count, f"turn {index} hit the token limit: the end-of-turn token never came", mismatch)
    for index, turn in enumerate(turns, 1):
        if not turn.tool_calls and has_call_markers(turn.text):
            return Verdict("unparsed-call", count, f"turn {index} has tool-call markers but no call could be parsed", mismatch)
    calls = transcript.tool_call_count
    return Verdict("completed", count, f"completed in {count} turn{'s' if count != 1 else ''} with {calls} tool call{'s' if calls != 1 else ''}", mismatch)


def _mismatch(transcript: Transcript, expected: Expected | None) -> str | None:
    called = transcript.tool_call_count > 0
    if expected == "tool" and not called:
        return "expected-tool"
    if expected == "direct" and called:
        return "expected-direct"
    return None
