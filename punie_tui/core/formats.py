"""Tool-call formats: which ones a record's assistant turns use."""

from __future__ import annotations

import re

from punie_tui.core.dataset import Record

# Format names are user-visible identifiers (DESIGN.md); `tool-call-prefix` is the
# `Tool call: {...}` style found in real synthetic data.
FORMATS: tuple[str, ...] = ("qwen25-json", "qwen3-xml", "json-fence", "openai", "raw-distill", "tool-call-prefix")

_QWEN3_XML = re.compile(r"<tool_call>\s*<function=")
_QWEN25_JSON = re.compile(r"<tool_call>\s*\{")
_JSON_FENCE = re.compile(r"```json\s*\n\s*\{.*?\"(?:name|tool|function)\"", re.S)
_PREFIX = re.compile(r"(?m)^Tool call:\s*\{")


def content_formats(text: str) -> list[str]:
    """The tool-call formats present in one assistant message's text, in FORMATS order."""
    found = []
    if _QWEN25_JSON.search(text):
        found.append("qwen25-json")
    if _QWEN3_XML.search(text):
        found.append("qwen3-xml")
    if _JSON_FENCE.search(text):
        found.append("json-fence")
    if _PREFIX.search(text):
        found.append("tool-call-prefix")
    return found


def record_formats(record: Record) -> list[str]:
    """The tool-call formats a record uses; [] for a record without tool calls."""
    if record.shape == "raw-distill":
        return ["raw-distill"]
    found: set[str] = set()
    for turn in record.turns():
        if turn.get("role") != "assistant":
            continue
        if turn.get("tool_calls"):
            found.add("openai")
        content = turn.get("content")
        if isinstance(content, str):
            found.update(content_formats(content))
    return [name for name in FORMATS if name in found]
