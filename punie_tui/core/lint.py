"""Lint one dataset: the rules for each record and for the file as a whole, as Diagnostics."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from punie_tui.core.dataset import Dataset, Record, gc_paused
from punie_tui.core.diagnostics import CODES, ERROR, WARNING, Diagnostic, Fix
from punie_tui.core.formats import (
    FORMATS,
    ToolCall,
    ToolSchemas,
    parse_content_calls,
    parse_openai_calls,
    parse_raw_distill_calls,
    render_call,
    result_contents,
)

@dataclass
class LintContext:
    """What a check compares against: the target format, tool schemas and workspace settings."""

    target: str = "qwen25-json"
    schemas: ToolSchemas | None = None  # None: the tools are unknown, so their calls are not checked
    system_prompt: str = ""
    max_tokens: int = 2048


@dataclass
class FileReport:
    """The outcome for one file: counts and its diagnostics."""

    path: Path
    records: int = 0
    formats: Counter[str] = field(default_factory=Counter)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    conversations: dict[str, int] | None = None  # normalised conversation -> first line, for leaks
    lines_seen: dict[bytes, int] = field(default_factory=dict, repr=False)  # line text -> first line number

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == WARNING)

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "records": self.records, "errors": self.errors,
                "warnings": self.warnings, "formats": dict(self.formats)}


def _diag(record: Record, code: str, message: str, fix: Fix | None = None) -> Diagnostic:
    return Diagnostic(code, CODES[code].severity, record.path, record.line, message, fix)


_FIX_TITLES = {
    "tool-call-wrong-key": "rename the keys to name/arguments",
    "tool-call-arguments-string": "decode the arguments string into an object",
    "tool-call-unclosed": "add the missing closing tag",
    "tool-response-double-wrapped": "remove the extra <tool_response> wrapper",
    "duplicate-example": "remove this repeated line",
}


# --- argument checks against a JSON schema ------------------------------------------------

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "array": (list,), "object": (dict,), "null": (type(None),),
}


def _type_ok(value: Any, expected: Any) -> bool:
    kinds = expected if isinstance(expected, list) else [expected]
    for kind in kinds:
        types = _TYPES.get(kind)
        if types is None:
            return True
        if isinstance(value, bool) and kind in ("integer", "number"):
            continue
        if isinstance(value, types):
            return True
    return False


def argument_problems(arguments: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """What is wrong with a call's arguments against its tool's parameter schema."""
    problems = []
    properties = schema.get("properties") or {}
    for name in schema.get("required") or []:
        if name not in arguments:
            problems.append(f"missing required argument {name!r}")
    if properties and not schema.get("additionalProperties"):
        for name in arguments:
            if name not in properties:
                problems.append(f"unexpected argument {name!r} (expected {', '.join(properties)})")
    for name, value in arguments.items():
        spec = properties.get(name)
        if not isinstance(spec, dict):
            continue
        if "type" in spec and not _type_ok(value, spec["type"]):
            problems.append(f"argument {name!r} should be {spec['type']}, got {type(value).__name__}")
        elif "enum" in spec and value not in spec["enum"]:
            problems.append(f"argument {name!r} is {value!r}, not one of {spec['enum']}")
    return problems


# --- one record ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """What file-level rules need to know about one record after its own checks."""

    formats: tuple[str, ...] = ()
    styles: tuple[tuple[str, str], ...] = ()
    system: str | None = None


_NO_FACTS = RecordFacts()
_FACTS: dict[tuple[Any, ...], RecordFacts] = {}


def _facts(formats: tuple[str, ...], styles: tuple[tuple[str, str], ...], system: str | None) -> RecordFacts:
    # Records of one file share a handful of combinations; sharing them keeps a 100k-line check lean.
    key = (formats, styles, system)
    fact = _FACTS.get(key)
    if fact is None:
        if len(_FACTS) > 4096:
            _FACTS.clear()
        fact = _FACTS[key] = RecordFacts(formats, styles, system)
    return fact


def _call_diagnostics(record: Record, call: ToolCall, ctx: LintContext, found: list[Diagnostic]) -> None:
    seen: set[str] = set()
    for problem in call.problems:
        if problem.code in seen and problem.code != "tool-call-bad-arguments":
            continue
        seen.add(problem.code)
        fix = None
        if problem.code == "tool-call-invalid-json":
            fix = Fix("suggest a json-repair of the call", repair=True)
        elif problem.code in _FIX_TITLES:
            fix = Fix(_FIX_TITLES[problem.code])
        where = f"{call.format} call" + (f" to {call.name}" if call.name else "")
        found.append(_diag(record, problem.code, f"{where}: {problem.message}", fix))
    if ctx.schemas is not None and call.name is not None:
        schema = ctx.schemas.get(call.name)
        if schema is None:
            known = ", ".join(sorted(ctx.schemas)) or "none"
            found.append(_diag(record, "tool-call-unknown-tool", f"call to unknown tool {call.name!r} (known: {known})"))
        elif call.arguments is not None:
            for message in argument_problems(call.arguments, schema):
                found.append(_diag(record, "tool-call-bad-arguments", f"call to {call.name}: {message}"))


def is_double_wrapped(turn: dict[str, Any]) -> bool:
    """A tool result that carries <tool_response> tags the chat template will add once more."""
    content = turn.get("content")
    if not isinstance(content, str) or "<tool_response>" not in content:
        return False
    if turn.get("role") == "tool":
        return content.lstrip().startswith("<tool_response>")
    return turn.get("role") == "user" and _DOUBLE.match(content) is not None


_DOUBLE = re.compile(r"\s*<tool_response>\s*<tool_response>")


def _results_of(turn: dict[str, Any], role: Any, content: Any) -> tuple[int, bool]:
    """How many tool results a user/tool turn carries (0: not a result turn), and if double-wrapped."""
    if role == "tool":
        return 1, type(content) is str and content.lstrip().startswith("<tool_response>")
    if type(content) is not str or not content or content[0] not in "<T":
        return 0, False
    if content.startswith("<tool_response>"):
        opened = content.count("<tool_response>")
        # The common case, one well-formed block, needs no regular expression.
        if opened == 1 and content.endswith("</tool_response>"):
            return 1, False
        if _DOUBLE.match(content):
            return 1, True
    results = result_contents(turn)
    return (len(results), False) if results is not None else (0, False)


def _turns_diagnostics(record: Record, turns: list[Any], ctx: LintContext, found: list[Diagnostic]) -> tuple[list[ToolCall], str | None] | None:
    """One pass over the turns: calls, results, roles, emptiness, length. None: not chat turns.

    This loop runs for every record of every check, so its common path stays flat and cheap.
    """
    calls: list[ToolCall] = []
    system: str | None = None
    previous: Any = None
    pending = 0  # calls of the latest assistant turn still waiting for their results
    pending_turn = 0
    length = 0
    index = -1
    for turn in turns:
        index += 1
        if type(turn) is not dict or "role" not in turn:
            return None
        role = turn["role"]
        content = turn.get("content")
        text = type(content) is str and content != "" and not content.isspace()
        if text:
            length += len(content)
        results = 0
        if role == "tool" or (role == "user" and text and content[0] in "<T"):
            results, double = _results_of(turn, role, content)
            if double:
                found.append(_diag(record, "tool-response-double-wrapped", f"turn {index + 1} ({role}): the tool result is wrapped in "
                                   "<tool_response> and the chat template wraps it again", Fix(_FIX_TITLES["tool-response-double-wrapped"])))
        if pending:
            if results:
                pending = max(0, pending - results)
            else:
                found.append(_diag(record, "tool-result-missing", f"turn {pending_turn + 1} makes a tool call with no result before "
                                   f"the {role} turn {index + 1}"))
                pending = 0
        if role == "assistant":
            made: list[ToolCall] = parse_openai_calls(turn) if "tool_calls" in turn and turn["tool_calls"] else []
            if text and ("<tool_call>" in content or "```" in content or "Tool call:" in content):
                made.extend(parse_content_calls(content, ctx.schemas))
            if made:
                calls.extend(made)
                pending, pending_turn = len(made), index
            elif not text:
                found.append(_diag(record, "empty-turn", f"turn {index + 1} (assistant) is empty"))
        elif not text and not results:
            found.append(_diag(record, "empty-turn", f"turn {index + 1} ({role}) is empty"))
        elif index == 0 and role == "system":
            system = content
        if role == previous and not results:
            found.append(_diag(record, "consecutive-role", f"turns {index} and {index + 1} are both {role}"))
        previous = "result" if results else role
    if previous != "assistant" and turns:
        found.append(_diag(record, "last-turn-not-assistant", f"the last turn is {turns[-1].get('role')}, so there is nothing to learn"))
    if length > ctx.max_tokens * 4:
        found.append(_diag(record, "too-long", f"about {length // 4} tokens ({length} characters / 4), more than max_seq_length {ctx.max_tokens}"))
    return calls, system


def _style_label(style: tuple[str, str]) -> str:
    fmt, layout = style
    return f"{fmt} {layout}" if layout else fmt


@cache
def canonical_style(fmt: str) -> tuple[str, str]:
    """The (format, layout) punie renders for a format: what fixes and conversions produce."""
    if fmt in ("openai", "raw-distill"):
        return fmt, ""
    sample = parse_content_calls(render_call("f", {"p": "v"}, fmt))[0]
    return fmt, sample.layout


def _raw_distill_diagnostics(record: Record, data: dict[str, Any], ctx: LintContext, found: list[Diagnostic]) -> list[ToolCall]:
    calls = parse_raw_distill_calls(data)
    if data.get("answer") is not None:
        for entry, call in zip(data.get("tool_calls") or [], calls):
            if isinstance(entry, dict) and "result" not in entry:
                found.append(_diag(record, "tool-result-missing", f"the call to {call.name} has no result"))
    return calls


def lint_record(record: Record, ctx: LintContext) -> tuple[list[Diagnostic], RecordFacts]:
    """The diagnostics of one record alone, and the facts file-level rules need."""
    data = record.data
    if data is None:
        blank = (record.error or "").startswith("blank")
        fix = Fix("remove the blank line") if blank else Fix("suggest a json-repair of the line", repair=True)
        return [_diag(record, "invalid-jsonl-line", record.error or "not a JSON object", fix)], _NO_FACTS
    shape = record.shape
    found: list[Diagnostic] = []
    system = None
    if shape == "raw-distill":
        calls = _raw_distill_diagnostics(record, data, ctx, found)
    elif shape in ("messages", "text", "prompt-completion"):
        turns = data["messages"] if shape == "messages" else record.turns()
        if shape == "text" and turns and turns[0].get("role") == "text":
            calls = []
        else:
            outcome = _turns_diagnostics(record, turns, ctx, found)
            if outcome is None:
                return [_diag(record, "unknown-record-shape", "a turn in messages is not an object with a role")], _NO_FACTS
            calls, system = outcome
    else:
        keys = ", ".join(sorted(data)[:6]) or "no keys"
        return [_diag(record, "unknown-record-shape", f"not a messages, text, prompt/completion or raw-distill record (keys: {keys})")], _NO_FACTS
    if not calls and shape != "raw-distill":
        return found, _facts((), (), system) if system is not None else _NO_FACTS
    formats = set()
    for call in calls:
        formats.add(call.format)
        if call.problems or ctx.schemas is not None:
            _call_diagnostics(record, call, ctx, found)
    if shape == "raw-distill":
        formats = {"raw-distill"}
    if ctx.target not in formats or len(formats) > 1:
        other = sorted(formats - {ctx.target}, key=FORMATS.index)
        # Conversion needs every call readable; an unreadable one is repaired first.
        readable = all(c.name is not None and c.arguments is not None for c in calls)
        found.append(_diag(record, "format-mismatch", f"tool calls in {', '.join(other)}, but the target format is {ctx.target}",
                           Fix(f"convert to {ctx.target}") if readable else None))
    # An unreadable call has no layout worth comparing; its own diagnostic says what is wrong.
    if shape == "raw-distill":
        styles: tuple[tuple[str, str], ...] = (("raw-distill", ""),)
    elif len(calls) == 1:
        styles = ((calls[0].format, calls[0].layout),) if calls[0].arguments is not None else ()
    else:
        styles = tuple(sorted({(c.format, c.layout) for c in calls if c.arguments is not None}))
    return found, _facts(tuple(formats), styles, system)


# --- one file -----------------------------------------------------------------------------


@dataclass
class RecordScan:
    """One pass over a run of a file's records: what the rules for single records found, and the
    per-line facts the rules for the whole file need (see `finish_report`)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    facts: list[tuple[int, RecordFacts]] = field(default_factory=list)
    formats: Counter[str] = field(default_factory=Counter)
    records: int = 0
    broken: list[int] = field(default_factory=list)  # lines that did not parse
    conversations: dict[str, int] | None = None
    # First line of each line text; None when the caller looks for repeats itself (`find_repeats`).
    lines_seen: dict[bytes, int] | None = None


def _line_key(raw: bytes) -> bytes:
    # The line itself is the key (exact, and cheaper than any digest); only a line that does not
    # end in a bare newline (the last one, CRLF files) needs a normalised copy.
    return raw if raw.endswith(b"\n") and not raw.endswith((b"\r\n", b" \n", b"\t\n")) else raw.rstrip() + b"\n"


def _repeat(path: Path, line: int, earlier: int) -> Diagnostic:
    return diagnostic_at(path, line, "duplicate-example", f"repeats line {earlier}", Fix(_FIX_TITLES["duplicate-example"]))


def scan_records(path: Path, records: Iterable[Record], ctx: LintContext, *, keys: bool = False, repeats: bool = True,
                 on_chunk: Callable[[list[Diagnostic], int], None] | None = None, chunk: int = 2000) -> RecordScan:
    """Lint records one at a time, keeping none of them: only small per-line facts.

    With `keys`, conversation keys are kept for leak checks; without `repeats`, repeated lines are
    left to `find_repeats`. `on_chunk` receives the new diagnostics and the count of records done
    every `chunk` records (a screen shows them while the rest is linted).
    """
    scan = RecordScan(conversations={} if keys else None, lines_seen={} if repeats else None)
    found, facts, formats, broken = scan.diagnostics, scan.facts, scan.formats, scan.broken
    first_seen, conversations = scan.lines_seen, scan.conversations
    count = sent = 0
    for record in records:
        count += 1
        diagnostics, fact = lint_record(record, ctx)
        if fact is not _NO_FACTS or (ctx.system_prompt and record.shape in _CHAT_SHAPES):
            facts.append((record.line, fact))
        for fmt in fact.formats:
            formats[fmt] += 1
        if record.data is None:
            broken.append(record.line)
        else:
            if first_seen is not None:
                earlier = first_seen.setdefault(_line_key(record.raw), record.line)
                if earlier != record.line:
                    diagnostics.append(_repeat(path, record.line, earlier))
            if conversations is not None:
                key = conversation_key(record)
                if key:
                    conversations.setdefault(key, record.line)
        if diagnostics:
            found.extend(diagnostics)
        if on_chunk is not None and count % chunk == 0:
            on_chunk(found[sent:], count)
            sent = len(found)
    if on_chunk is not None:
        on_chunk(found[sent:], count)
    scan.records = count
    return scan


def find_repeats(path: Path, lines: Iterable[tuple[int, bytes]], broken: Iterable[int], first_seen: dict[bytes, int]) -> list[Diagnostic]:
    """`duplicate-example` for numbered lines (in order) already seen in `first_seen`, which learns them."""
    skip = set(broken)
    found = []
    for line, raw in lines:
        if line in skip:
            continue
        earlier = first_seen.setdefault(_line_key(raw), line)
        if earlier != line:
            found.append(_repeat(path, line, earlier))
    return found


def finish_report(path: Path, scans: list[RecordScan], ctx: LintContext) -> FileReport:
    """One file's report from the scans of its parts, in line order, with the rules for the whole file.

    The first scan must have looked for repeated lines over the whole file (its `lines_seen`).
    """
    report = FileReport(path)
    facts: list[tuple[int, RecordFacts]] = []
    for scan in scans:
        report.diagnostics.extend(scan.diagnostics)
        report.formats.update(scan.formats)
        report.records += scan.records
        facts.extend(scan.facts)
        if scan.conversations is not None:
            report.conversations = report.conversations if report.conversations is not None else {}
            for key, line in scan.conversations.items():
                report.conversations.setdefault(key, line)
    report.lines_seen = scans[0].lines_seen or {}
    file_level = list(_file_rules(path, facts, ctx))
    if file_level or len(scans) > 1:
        report.diagnostics.extend(file_level)
        report.diagnostics.sort(key=lambda d: d.line)
    return report


def lint_records(path: Path, records: Iterable[Record], ctx: LintContext, *, keys: bool = False,
                 on_chunk: Callable[[list[Diagnostic], int], None] | None = None, chunk: int = 2000) -> FileReport:
    """All diagnostics of one file's records, in line order: each record's own, then file-level rules.

    Records may be streamed: none is kept (see `scan_records`), so checking a big file costs little
    more than parsing it.
    """
    return finish_report(path, [scan_records(path, records, ctx, keys=keys, on_chunk=on_chunk, chunk=chunk)], ctx)


def lint_dataset(dataset: Dataset, ctx: LintContext, *, keys: bool = False) -> FileReport:
    """All diagnostics of one loaded file (see lint_records)."""
    with gc_paused():
        return lint_records(dataset.path, dataset.records, ctx, keys=keys)


_CHAT_SHAPES = ("messages", "text", "prompt-completion")


def diagnostic_at(path: Path, line: int, code: str, message: str, fix: Fix | None = None) -> Diagnostic:
    return Diagnostic(code, CODES[code].severity, path, line, message, fix)


def _file_rules(path: Path, facts: list[tuple[int, RecordFacts]], ctx: LintContext) -> Iterable[Diagnostic]:
    styles: Counter[tuple[str, str]] = Counter(style for _, fact in facts for style in fact.styles)
    if len(styles) > 1:
        preferred = canonical_style(ctx.target)
        summary = "; ".join(f"{_style_label(s)} x{n}" for s, n in styles.most_common())
        for line, fact in facts:
            odd = [s for s in fact.styles if s != preferred]
            if odd:
                yield diagnostic_at(path, line, "mixed-formats", f"this file mixes {len(styles)} tool-call styles ({summary}); "
                          f"this record uses {', '.join(_style_label(s) for s in odd)}", Fix(f"rewrite in {_style_label(preferred)}"))
    prompts = Counter(fact.system for _, fact in facts if fact.system is not None)
    expected = ctx.system_prompt or (prompts.most_common(1)[0][0] if len(prompts) > 1 else None)
    if expected is None:
        return
    source = "the workspace's system_prompt" if ctx.system_prompt else f"the file's usual one ({prompts[expected]} records)"
    for line, fact in facts:
        if fact.system == expected or (fact.system is None and not ctx.system_prompt):
            continue
        shown = "no system prompt" if fact.system is None else f"system prompt {_clip(fact.system)!r}"
        yield diagnostic_at(path, line, "system-prompt-drift", f"{shown} differs from {source}: {_clip(expected)!r}")


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --- conversation keys, for train/valid leaks -----------------------------------------------

_SPACES = re.compile(r"\s+")


def conversation_key(record: Record) -> str | None:
    """The record's user and assistant text, lower-cased with spacing collapsed; None if unusable."""
    if record.data is None or record.shape == "unknown":
        return None
    parts = [f"{t.get('role')}:{t.get('content')}" for t in record.turns() if t.get("role") != "system"]
    if record.shape == "raw-distill":
        parts.append(repr(record.data.get("tool_calls")))
    return _SPACES.sub(" ", "\n".join(parts).lower()).strip()
