"""Diagnostics and their codes: what a problem is called, how bad it is and how it is fixed.

Codes are stable identifiers (users filter, suppress and script on them); `CODES` documents each
one with an example of the defect and of the fix (`punie-tui check --list-codes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What a diagnostic code means, how bad it is, and how it is repaired."""

    code: str
    severity: str
    summary: str
    defect: str
    fixed: str
    fix: str | None = None  # "fix" (mechanical), "repair" (a suggestion to accept) or None


@dataclass(frozen=True, slots=True)
class Fix:
    """How a diagnostic can be repaired; a `repair` can change meaning and needs acceptance."""

    title: str
    repair: bool = False


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem at one line of one file."""

    code: str
    severity: str
    path: Path
    line: int
    message: str
    fix: Fix | None = None

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "line": self.line, "code": self.code, "severity": self.severity,
                "message": self.message, "fixable": self.fixable}

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity} {self.code}: {self.message}"


_CALL = '<tool_call>\\n{"name": "read_file", "arguments": {"path": "a.py"}}\\n</tool_call>'

CODES: dict[str, CodeInfo] = {info.code: info for info in (
    CodeInfo("invalid-jsonl-line", ERROR, "a line that is not one JSON object (blank, broken JSON, not UTF-8, a list); fix removes blank lines and suggests a json-repair for the others",
             '{"messages": [{"role": "user", "content": "hi"}', '{"messages": [{"role": "user", "content": "hi"}]}', "repair"),
    CodeInfo("unknown-record-shape", ERROR, "a JSON object mlx-lm cannot train on: no messages, text, prompt/completion or raw-distill keys, or turns without a role",
             '{"question": "hi", "reply": "hello"}', '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}'),
    CodeInfo("tool-call-invalid-json", ERROR, "a tool call whose JSON does not parse (single quotes, a missing brace, a bad escape)",
             "<tool_call>\\n{\"name\": \"write_file\", \"arguments\": {\"content\": 'x'}}\\n</tool_call>",
             '<tool_call>\\n{"name": "write_file", "arguments": {"content": "x"}}\\n</tool_call>', "repair"),
    CodeInfo("tool-call-wrong-key", ERROR, "a call that names its parts `tool`, `args`, a `function` wrapper, ... instead of `name` and `arguments`",
             '{"tool": "run_command", "args": {"command": "ls"}}', '{"name": "run_command", "arguments": {"command": "ls"}}', "fix"),
    CodeInfo("tool-call-arguments-string", ERROR, "arguments given as a JSON string; chat templates encode it a second time",
             '{"name": "read_file", "arguments": "{\\"path\\": \\"a.py\\"}"}', '{"name": "read_file", "arguments": {"path": "a.py"}}', "fix"),
    CodeInfo("tool-call-unknown-tool", ERROR, "a call to a tool that is not in the workspace's tools.json (or --tools)",
             '{"name": "read_files", "arguments": {"path": "a.py"}}', '{"name": "read_file", "arguments": {"path": "a.py"}}'),
    CodeInfo("tool-call-bad-arguments", ERROR, "arguments that do not match the tool's JSON schema: a required one missing, an unexpected one, a wrong type",
             '{"name": "read_file", "arguments": {"file": "a.py"}}', '{"name": "read_file", "arguments": {"path": "a.py"}}'),
    CodeInfo("tool-call-unclosed", ERROR, "a call whose closing tag or fence is missing",
             '<tool_call>\\n{"name": "read_file", "arguments": {"path": "a.py"}}', _CALL, "fix"),
    CodeInfo("format-mismatch", ERROR, "calls not in the workspace's target format (punie.toml target_format or --target)",
             'target qwen25-json, but: ```json\\n{"name": "read_file", "arguments": {"path": "a.py"}}\\n```', _CALL, "fix"),
    CodeInfo("mixed-formats", WARNING, "one file with several formats, or several layouts of one format (XML tags with and without newlines between them)",
             "<tool_call><function=f>... in some records, <tool_call>\\n<function=f>... in others",
             "every call in the target format's canonical layout: <tool_call>\\n<function=f>\\n<parameter=p>\\nv\\n</parameter>\\n</function>\\n</tool_call>", "fix"),
    CodeInfo("tool-response-double-wrapped", ERROR, "a tool result wrapped in <tool_response> twice, or a role-tool message that already carries the tags the template adds",
             '{"role": "tool", "content": "<tool_response>\\nok\\n</tool_response>"}', '{"role": "tool", "content": "ok"}', "fix"),
    CodeInfo("tool-result-missing", ERROR, "a tool call followed by something other than its result",
             "assistant: <tool_call>...</tool_call>, then user: \"thanks\"", "assistant: <tool_call>...</tool_call>, user: <tool_response>\\n...\\n</tool_response>, then user: \"thanks\""),
    CodeInfo("consecutive-role", WARNING, "two turns in a row from the same role (tool results excepted)",
             "user: \"hi\", user: \"are you there?\"", "user: \"hi\", assistant: \"yes\", user: \"are you there?\""),
    CodeInfo("empty-turn", WARNING, "a turn with no content and no tool calls (an empty tool result is fine)",
             '{"role": "assistant", "content": ""}', '{"role": "assistant", "content": "Done."}'),
    CodeInfo("last-turn-not-assistant", ERROR, "an example that does not end with an assistant turn: nothing to learn",
             "system, user", "system, user, assistant"),
    CodeInfo("duplicate-example", WARNING, "the same line as an earlier one in the same file",
             "line 7 repeats line 3 byte for byte", "line 7 removed", "fix"),
    CodeInfo("train-valid-leak", ERROR, "a valid/test example whose conversation is also in the train file (same text up to case and spacing)",
             'valid.jsonl:4 == train.jsonl:19', "valid.jsonl:4 replaced by an example the model never trained on"),
    CodeInfo("system-prompt-drift", WARNING, "a system prompt that differs from the workspace's system_prompt, or from the file's usual one",
             'system: "You are Punie, an AI coding assistant integrated with PyCharm."',
             'system: "You are Punie, an AI coding assistant that helps with Python development via PyCharm."'),
    CodeInfo("too-long", WARNING, "an example longer than max_seq_length tokens (estimated as 4 characters per token); mlx-lm truncates it",
             "9,000 characters with max_seq_length 2048", "the example split in two, or max_seq_length raised"),
)}
