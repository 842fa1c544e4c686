"""Fixes: one pure function per fixable diagnostic code, and a plan that applies them to a file.

Each fix takes a record and returns its new data, or None when there is nothing to change, so
applying a fix twice changes nothing the second time. A plan touches only the lines whose
diagnostics it fixes; everything else stays byte-identical through `Dataset.replace`. JSON repairs
(json-repair) can change meaning, so they are suggestions, applied only when accepted.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from punie_tui.core.convert import ConversionError, convert_record, placeholder_record
from punie_tui.core.dataset import Dataset, Record
from punie_tui.core.formats import (
    ToolCall,
    ToolSchemas,
    normalize_call_object,
    openai_call,
    parse_content_calls,
    parse_openai_calls,
    render_call,
)
from punie_tui.core.diagnostics import CODES, Diagnostic
from punie_tui.core.lint import LintContext, is_double_wrapped, lint_dataset, lint_record

# Applied in this order within one record: key and argument repairs first, conversion last.
FIX_ORDER: tuple[str, ...] = (
    "tool-call-wrong-key",
    "tool-call-arguments-string",
    "tool-call-invalid-json",
    "tool-call-unclosed",
    "tool-response-double-wrapped",
    "format-mismatch",
    "mixed-formats",
)
REPAIR_CODES: frozenset[str] = frozenset(code for code, info in CODES.items() if info.fix == "repair")
FIXABLE_CODES: frozenset[str] = frozenset(code for code, info in CODES.items() if info.fix)


# --- editing the text of turns, whatever the record's shape ---------------------------------


def _content_slots(data: dict[str, Any], shape: str) -> list[tuple[str, int, str]]:
    """(role, index, content) of the turns whose text a fix may rewrite."""
    if shape == "messages":
        return [(t.get("role", ""), i, t["content"]) for i, t in enumerate(data["messages"])
                if isinstance(t, dict) and isinstance(t.get("content"), str)]
    if shape == "prompt-completion":
        return [("user", 0, str(data["prompt"])), ("assistant", 1, str(data["completion"]))]
    if shape == "text":
        return [(t["role"], i, t["content"]) for i, t in enumerate(placeholder_record(data).turns())]
    return []


def _set_content(data: dict[str, Any], shape: str, index: int, old: str, new: str) -> None:
    if shape == "messages":
        data["messages"][index]["content"] = new
    elif shape == "prompt-completion":
        data["prompt" if index == 0 else "completion"] = new
    elif shape == "text":
        # ChatML keeps turns in one string: replace this turn's text where it stands.
        data["text"] = data["text"].replace(old, new, 1)


def _rewrite_content_calls(record: Record, wanted: Callable[[ToolCall], dict[str, Any] | None], schemas: ToolSchemas | None) -> dict[str, Any] | None:
    """Replace calls written in assistant text with `wanted(call)`'s call object, in their format."""
    data = copy.deepcopy(record.data)
    changed = False
    for role, index, content in _content_slots(data, record.shape):
        if role != "assistant":
            continue
        calls = parse_content_calls(content, schemas)
        new = content
        for call in reversed(calls):
            obj = wanted(call)
            if obj is None:
                continue
            new = new[:call.start] + render_call(obj["name"], obj["arguments"], call.format) + new[call.end:]
        if new != content:
            _set_content(data, record.shape, index, content, new)
            changed = True
    if record.shape == "messages":
        for turn in data["messages"]:
            if isinstance(turn, dict) and turn.get("role") == "assistant" and turn.get("tool_calls"):
                entries = []
                for call, entry in zip(parse_openai_calls(turn), turn["tool_calls"]):
                    obj = wanted(call)
                    entries.append(openai_call(obj["name"], obj["arguments"], call.id) if obj else entry)
                if entries != turn["tool_calls"]:
                    turn["tool_calls"] = entries
                    changed = True
    return data if changed else None


def _readable(call: ToolCall) -> dict[str, Any] | None:
    if call.name is None or call.arguments is None:
        return None
    return {"name": call.name, "arguments": call.arguments}


# --- one function per code ------------------------------------------------------------------


def _fix_raw_distill_keys(data: dict[str, Any]) -> dict[str, Any] | None:
    entries = data.get("tool_calls") or []
    fixed = []
    for entry in entries:
        name, arguments, wrong, _, was_string = normalize_call_object(entry, wrapper_native=False)
        if (wrong or was_string) and name is not None and arguments is not None:
            rest = {k: v for k, v in entry.items() if k not in ("name", "arguments", "function", "tool", "args", "tool_name",
                                                                  "function_name", "parameters", "params", "input")}
            entry = {"name": name, "arguments": arguments, **rest}
        fixed.append(entry)
    return {**data, "tool_calls": fixed} if fixed != entries else None


def fix_wrong_key(record: Record, schemas: ToolSchemas | None = None) -> dict[str, Any] | None:
    """`tool-call-wrong-key`: rename `tool`/`args`/... to `name`/`arguments`, drop a foreign `function` wrapper."""
    if record.shape == "raw-distill":
        return _fix_raw_distill_keys(record.data)
    return _rewrite_content_calls(record, lambda c: _readable(c) if c.wrong_keys else None, schemas)


def fix_arguments_string(record: Record, schemas: ToolSchemas | None = None) -> dict[str, Any] | None:
    """`tool-call-arguments-string`: decode arguments given as a JSON string into an object."""
    if record.shape == "raw-distill":
        return _fix_raw_distill_keys(record.data)
    return _rewrite_content_calls(record, lambda c: _readable(c) if c.arguments_string else None, schemas)


def fix_unclosed(record: Record, schemas: ToolSchemas | None = None) -> dict[str, Any] | None:
    """`tool-call-unclosed`: write a readable call again with its closing tags."""
    def wanted(call: ToolCall) -> dict[str, Any] | None:
        return _readable(call) if any(p.code == "tool-call-unclosed" for p in call.problems) else None

    return _rewrite_content_calls(record, wanted, schemas)


_WRAPPED = re.compile(r"\A\s*<tool_response>\n?(.*?)\n?</tool_response>\s*\Z", re.S)


def _unwrap_once(text: str) -> str:
    match = _WRAPPED.match(text)
    return match.group(1) if match else text


def fix_double_wrapped(record: Record, schemas: ToolSchemas | None = None) -> dict[str, Any] | None:
    """`tool-response-double-wrapped`: remove the extra <tool_response> wrapper of a tool result."""
    data = copy.deepcopy(record.data)
    changed = False
    for role, index, content in _content_slots(data, record.shape):
        turn = {"role": role, "content": content}
        if not is_double_wrapped(turn):
            continue
        new = _unwrap_once(content)
        if role == "user":
            new = f"<tool_response>\n{_unwrap_once(new)}\n</tool_response>"
        if new != content:
            _set_content(data, record.shape, index, content, new)
            changed = True
    return data if changed else None


def fix_format(record: Record, target: str, schemas: ToolSchemas | None = None) -> dict[str, Any] | None:
    """`format-mismatch` and `mixed-formats`: convert every call and result to the target's layout."""
    try:
        return convert_record(record, target, schemas)
    except ConversionError:
        return None


_CALL_BODY = re.compile(r"\A(?:<tool_call>|```(?:json)?[ \t]*\n|Tool call:[ \t]*)(.*?)(?:</tool_call>|```)?\Z", re.S)


def call_body(call: ToolCall) -> str:
    """The JSON text of a call written in text, without its tags, fence or prefix."""
    match = _CALL_BODY.match(call.raw)
    body = (match.group(1) if match else call.raw).strip()
    # A literal backslash-n where a newline belongs (seen in real data) is layout, not content.
    while body.startswith("\\n"):
        body = body[2:].lstrip()
    while body.endswith("\\n"):
        body = body[:-2].rstrip()
    return body


def _json_repair(text: str) -> Any:
    import json_repair  # only needed when a repair is asked for

    try:
        return json_repair.loads(text)
    except (ValueError, RecursionError):
        return None


def repair_invalid_calls(record: Record, schemas: ToolSchemas | None = None) -> dict[str, Any] | None:
    """`tool-call-invalid-json` (a suggestion): json-repair each unreadable call and write it again."""
    def wanted(call: ToolCall) -> dict[str, Any] | None:
        if call.arguments is not None or call.format == "qwen3-xml":
            return None
        obj = _json_repair(call_body(call))
        name, arguments, *_ = normalize_call_object(obj, wrapper_native=True) if isinstance(obj, dict) else (None, None)
        return {"name": name, "arguments": arguments} if name and arguments is not None else None

    return _rewrite_content_calls(record, wanted, schemas)


def repair_line(record: Record) -> dict[str, Any] | None:
    """`invalid-jsonl-line` (a suggestion): json-repair a broken line into an object."""
    if record.data is not None or not record.text.strip():
        return None
    obj = _json_repair(record.text)
    return obj if isinstance(obj, dict) and obj else None


# --- plans ----------------------------------------------------------------------------------


@dataclass
class Edit:
    """What a plan does to one line: new data, or removal (`data` None)."""

    index: int
    line: int
    codes: list[str]
    data: dict[str, Any] | None
    repair: bool = False


@dataclass
class FixPlan:
    """The edits for one file, and the diagnostics that had a fix but could not be fixed."""

    dataset: Dataset
    edits: list[Edit] = field(default_factory=list)
    unfixed: list[str] = field(default_factory=list)

    def new_lines(self) -> list[bytes]:
        """The file's lines after the plan, without changing the dataset."""
        by_index = {edit.index: edit for edit in self.edits}
        lines = []
        for index, record in enumerate(self.dataset.records):
            edit = by_index.get(index)
            if edit is None:
                lines.append(record.raw)
            elif edit.data is not None:
                lines.append(_dumps_line(edit.data, record.raw))
        return lines

    def diff(self, limit: int | None = None) -> str:
        """A unified diff without context lines (each line is a whole example, often a screenful).

        One hunk per edited line, built from the edits alone, so a plan over 100k lines costs no
        more than its edits; `limit` keeps the first hunks only and says how many were left out.
        """
        edits = sorted(self.edits, key=lambda e: e.index)
        shown = edits if limit is None else edits[:limit]
        if not shown:
            return ""
        name = str(self.dataset.path)
        out = [f"--- {name}\n", f"+++ {name}\n"]
        removed = 0  # lines removed before the current one, which shift the new line numbers
        for edit in shown:
            old = self.dataset.records[edit.index].raw
            line = edit.index + 1
            if edit.data is None:
                out.append(f"@@ -{line} +{line - removed - 1},0 @@\n")
                out.append(_diff_line("-", old))
                removed += 1
            else:
                out.append(f"@@ -{line} +{line - removed} @@\n")
                out.append(_diff_line("-", old))
                out.append(_diff_line("+", _dumps_line(edit.data, old)))
        if len(shown) < len(edits):
            out.append(f"# ... and {len(edits) - len(shown)} more changed lines\n")
        return "".join(out)


def _diff_line(sign: str, raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return sign + text if text.endswith("\n") else f"{sign}{text}\n\\ No newline at end of file\n"


def _dumps_line(data: dict[str, Any], old_raw: bytes) -> bytes:
    # The same serialisation as Dataset.replace, so the diff shows exactly what --write saves.
    return json.dumps(data, ensure_ascii=False).encode("utf-8") + old_raw[len(old_raw.rstrip(b"\r\n")):]


_RECORD_FIXES: dict[str, Callable[..., dict[str, Any] | None]] = {
    "tool-call-wrong-key": fix_wrong_key,
    "tool-call-arguments-string": fix_arguments_string,
    "tool-call-invalid-json": repair_invalid_calls,
    "tool-call-unclosed": fix_unclosed,
    "tool-response-double-wrapped": fix_double_wrapped,
}


def fix_record(record: Record, codes: Iterable[str], ctx: LintContext) -> dict[str, Any] | None:
    """Apply the fixes for `codes` to one record in FIX_ORDER; None when nothing changes."""
    wanted = set(codes)
    current = record
    changed = False
    for code in FIX_ORDER:
        if code not in wanted:
            continue
        if code in ("format-mismatch", "mixed-formats"):
            data = fix_format(current, ctx.target, ctx.schemas)
        else:
            data = _RECORD_FIXES[code](current, ctx.schemas)
        if data is not None and data != current.data:
            current = Record(record.path, record.line, b"", data, None, placeholder_record(data).shape)
            changed = True
    return current.data if changed else None


def plan_fixes(dataset: Dataset, ctx: LintContext, codes: Iterable[str] | None = None, *, repairs: bool = False) -> FixPlan:
    """The edits that fix `codes` (default: every fixable code) in one file.

    Repairs (json-repair of broken JSON) are included only with `repairs=True`.
    """
    return plan_from_diagnostics(dataset, ctx, lint_dataset(dataset, ctx).diagnostics, codes, repairs=repairs)


def plan_from_diagnostics(dataset: Dataset, ctx: LintContext, diagnostics: Iterable[Diagnostic],
                          codes: Iterable[str] | None = None, *, repairs: bool = False) -> FixPlan:
    """The edits that fix the given diagnostics of a file (e.g. those of one example on screen)."""
    selected = set(codes) if codes else set(FIXABLE_CODES)
    plan = FixPlan(dataset)
    by_line: dict[int, set[str]] = {}
    for diagnostic in diagnostics:
        # A blank line's fix is mechanical although other invalid lines only get repair suggestions.
        if diagnostic.fix is not None and diagnostic.code in selected and (repairs or not diagnostic.fix.repair):
            by_line.setdefault(diagnostic.line, set()).add(diagnostic.code)
        elif not repairs and diagnostic.fix is None and diagnostic.code in selected and diagnostic.code in FIXABLE_CODES:
            plan.unfixed.append(f"{diagnostic.path}:{diagnostic.line}: {diagnostic.code} waits for an unreadable call "
                                "to be repaired first (see the suggestions, --accept-repairs)")
    for index, record in enumerate(dataset.records):
        line_codes = by_line.get(record.line)
        if not line_codes:
            continue
        edit = _edit_for(index, record, line_codes, ctx, selected, repairs)
        if edit is None:
            plan.unfixed.append(f"{record.location}: {', '.join(sorted(line_codes))} could not be fixed automatically")
        else:
            plan.edits.append(edit)
    if "duplicate-example" in selected:
        _remove_new_duplicates(plan)
    return plan


def _remove_new_duplicates(plan: FixPlan) -> None:
    """Two lines fixed into the same text are duplicates too; without this a second run would differ."""
    by_index = {edit.index: edit for edit in plan.edits}
    seen: set[bytes] = set()
    for index, record in enumerate(plan.dataset.records):
        edit = by_index.get(index)
        if edit is not None and edit.data is None:
            continue
        line = (record.raw if edit is None else _dumps_line(edit.data, record.raw)).rstrip()
        if (edit is not None or record.data is not None) and line in seen:
            if edit is None:
                plan.edits.append(Edit(index, record.line, ["duplicate-example"], None))
            else:
                edit.codes.append("duplicate-example")
                edit.data = None
        seen.add(line)
    plan.edits.sort(key=lambda e: e.index)


def _edit_for(index: int, record: Record, codes: set[str], ctx: LintContext, selected: set[str], repairs: bool) -> Edit | None:
    ordered = sorted(codes, key=lambda c: (FIX_ORDER.index(c) if c in FIX_ORDER else -1, c))
    if "duplicate-example" in codes or (record.data is None and "invalid-jsonl-line" in codes and not record.text.strip()):
        return Edit(index, record.line, ordered, None)
    if record.data is None:
        data = repair_line(record) if "invalid-jsonl-line" in codes else None
        return Edit(index, record.line, ordered, data, repair=True) if data is not None else None
    data = None
    current = record
    # A fix can make another one possible (a repaired call can then be converted), so the record
    # is fixed until its own lint shows nothing more to do; this keeps a second run a no-op.
    for _ in range(len(FIX_ORDER)):
        fixed = fix_record(current, codes, ctx)
        if fixed is None:
            break
        data = fixed
        current = placeholder_record(data)
        diagnostics, _ = lint_record(current, ctx)
        codes = {d.code for d in diagnostics if d.fix is not None and d.code in selected and (repairs or not d.fix.repair)}
        ordered += sorted(codes - set(ordered))
    if data is None:
        return None
    return Edit(index, record.line, ordered, data, repair=bool(set(ordered) & REPAIR_CODES))


def apply_plan(plan: FixPlan) -> int:
    """Apply a plan to its dataset in memory (save with `Dataset.save`); returns lines changed."""
    dataset = plan.dataset
    removed = []
    for edit in plan.edits:
        if edit.data is None:
            removed.append(edit.index)
        else:
            dataset.replace(edit.index, edit.data)
    # Removals go last and backwards, so the other edits' indexes stay right.
    for index in sorted(removed, reverse=True):
        del dataset.records[index]
    return len(plan.edits)
