"""A chat's transcript: the assistant turns of one run, each with its raw text, parsed calls, tool
results, finish reason, tokens and seconds; saved as JSONL session files in the workspace.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from punie_tui.core.atomic import atomic_write_text


@dataclass
class ToolCall:
    """One call the model made, arguments as parsed (a dict) or as sent when not valid JSON (a str)."""

    name: str
    arguments: dict[str, Any] | str
    call_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments}


@dataclass
class ToolResult:
    """What a call returned to the model: `ok`, `refused` (sandbox or approval), `error` or `retry`."""

    name: str
    status: str
    output: str
    call_id: str | None = None
    reason: str | None = None
    approval_needed: str | None = None
    approved: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "call_id"}


@dataclass
class Turn:
    """One model response and the results of the calls it made."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_results: list[ToolResult] = field(default_factory=list)
    finish_reason: str | None = None
    tokens: int = 0
    seconds: float = 0.0
    role: str = "assistant"

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "text": self.text,
            "tool_calls": [call.to_json() for call in self.tool_calls],
            "tool_results": [result.to_json() for result in self.tool_results],
            "finish_reason": self.finish_reason,
            "tokens": self.tokens,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Transcript:
    """One spot-check: the prompt, the settings it ran with, its turns and, once done, its verdict."""

    prompt: str
    system_prompt: str = ""
    model: str = ""
    turns: list[Turn] = field(default_factory=list)
    requests: int = 0
    error: str | None = None

    @property
    def tool_call_count(self) -> int:
        return sum(len(turn.tool_calls) for turn in self.turns)

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "model": self.model,
            "turns": [turn.to_json() for turn in self.turns],
            "requests": self.requests,
            "tool_calls": self.tool_call_count,
            "error": self.error,
        }


def sessions_dir(workspace_root: Path) -> Path:
    """Where chat sessions of a workspace are saved."""
    return workspace_root / ".punie" / "chat"


def append_session(path: Path, record: dict[str, Any]) -> None:
    """Add one finished spot-check (a transcript's JSON with its verdict) to a session file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    atomic_write_text(path, existing + json.dumps(record, ensure_ascii=False) + "\n", backup=False)
