"""Tool-call formats: detect, parse and render the calls in a record's assistant turns.

Format names are user-visible identifiers (DESIGN.md): `qwen25-json`
(`<tool_call>{"name":..,"arguments":..}</tool_call>`), `qwen3-xml`
(`<tool_call><function=..><parameter=..>`), `json-fence` (a fenced json block), `openai`
(`tool_calls` on the assistant message), `raw-distill` (`{"query","tool_calls":[{"name","arguments"}]}`)
and `tool-call-prefix` (the `Tool call: {...}` line found in real synthetic data).
Conversion between them lives in `core/convert.py`.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from punie_tui.core.dataset import Record

FORMATS: tuple[str, ...] = ("qwen25-json", "qwen3-xml", "json-fence", "openai", "raw-distill", "tool-call-prefix")
# Formats whose calls live inside the text of an assistant turn.
TEXT_FORMATS: tuple[str, ...] = ("qwen25-json", "qwen3-xml", "json-fence", "tool-call-prefix")

ToolSchemas = dict[str, dict[str, Any]]

_DECODER = json.JSONDecoder()
_TAG_OPEN = "<tool_call>"
_TAG_CLOSE = "</tool_call>"
_FENCE = re.compile(r"```(json)?[ \t]*\n")
# A fenced block is a call only with a name and arguments (or a function wrapper): a package.json
# snippet has a "name" too.
_FENCE_NAME_KEY = re.compile(r'["\'](?:name|tool|tool_name|function_name)["\']\s*:')
_FENCE_ARGS_KEY = re.compile(r'["\'](?:arguments|args|parameters|params|input|tool_input|kwargs)["\']\s*:|"function"\s*:\s*\{')
_PREFIX = re.compile(r"(?m)^Tool call:[ \t]*")
_FUNCTION = re.compile(r"<function=([^>\n]*)>")
_PARAMETER = re.compile(r"<parameter=([^>\n]*)>(.*?)(</parameter>|(?=<parameter=)|(?=</function>)|\Z)", re.S)
_RESPONSE_BLOCK = re.compile(r"<tool_response>\n?(.*?)\n?</tool_response>", re.S)
_RESULT_PREFIX = "Tool result:"

# Keys that stand where `name` and `arguments` belong (seen in real data and common generators).
WRONG_NAME_KEYS: tuple[str, ...] = ("tool", "tool_name", "function_name", "toolName")
WRONG_ARGUMENT_KEYS: tuple[str, ...] = ("args", "parameters", "params", "input", "tool_input", "kwargs")


class Problem(NamedTuple):
    """Something wrong with one parsed call, named by its diagnostic code."""

    code: str
    message: str


@dataclass(slots=True)
class ToolCall:
    """One tool call as found in a record.

    `raw` is the exact text of the call and `start`/`end` its span in the turn's content (for
    `openai` and `raw-distill` calls, the JSON of the call entry and its index in the list).
    `arguments` is None when the call could not be parsed far enough to know them.
    """

    name: str | None
    arguments: dict[str, Any] | None
    raw: str
    format: str
    problems: list[Problem] = field(default_factory=list)
    start: int = 0
    end: int = 0
    layout: str = ""
    id: str | None = None
    wrong_keys: list[str] = field(default_factory=list)
    arguments_string: bool = False


# --- tool schemas ---------------------------------------------------------------------------


def tool_schemas(tools: list[dict[str, Any]]) -> ToolSchemas:
    """Map tool name -> JSON schema of its parameters, from OpenAI-style or flat definitions."""
    schemas: ToolSchemas = {}
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        function = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        name = function.get("name")
        if isinstance(name, str):
            params = function.get("parameters")
            schemas[name] = params if isinstance(params, dict) else {}
    return schemas


# --- JSON call objects (qwen25-json, json-fence, tool-call-prefix, raw-distill, openai) --------


def normalize_call_object(obj: Any, *, wrapper_native: bool) -> tuple[str | None, dict | None, list[str], list[Problem], bool]:
    """Read name and arguments from a call object, whatever keys it uses.

    Returns (name, arguments, wrong_keys, problems, arguments_was_string). A `function` wrapper
    (`{"type":"function","function":{...}}`) is the native shape of OpenAI-style calls and a
    wrong key anywhere else.
    """
    problems: list[Problem] = []
    wrong: list[str] = []
    if not isinstance(obj, dict):
        return None, None, wrong, [Problem("tool-call-bad-arguments", f"the call is a JSON {type(obj).__name__}, not an object")], False
    inner = obj
    function = obj.get("function")
    if isinstance(function, dict):
        inner = function
        if not wrapper_native:
            wrong.append("function wrapper")
    name = inner.get("name")
    if name is None:
        if isinstance(function, str):
            name = function
            wrong.append("function -> name")
        else:
            for key in WRONG_NAME_KEYS:
                if key in inner:
                    name = inner[key]
                    wrong.append(f"{key} -> name")
                    break
    if "arguments" in inner:
        arguments = inner["arguments"]
    else:
        arguments = {}
        for key in WRONG_ARGUMENT_KEYS:
            if key in inner:
                arguments = inner[key]
                wrong.append(f"{key} -> arguments")
                break
    if wrong:
        problems.append(Problem("tool-call-wrong-key", "uses " + ", ".join(wrong) + " instead of name/arguments"))
    if not isinstance(name, str) or not name:
        problems.append(Problem("tool-call-wrong-key", "the call has no tool name"))
        name = name if isinstance(name, str) else None
    was_string = False
    if isinstance(arguments, str):
        was_string = True
        try:
            decoded = json.loads(arguments)
        except json.JSONDecodeError as exc:
            problems.append(Problem("tool-call-invalid-json", f"arguments is a string that is not JSON: {exc.msg} at column {exc.colno}"))
            return name, None, wrong, problems, True
        problems.append(Problem("tool-call-arguments-string", "arguments is a JSON string, not an object (the chat template encodes it twice)"))
        arguments = decoded
    if not isinstance(arguments, dict):
        problems.append(Problem("tool-call-bad-arguments", f"arguments is a JSON {type(arguments).__name__}, not an object"))
        return name, None, wrong, problems, was_string
    return name, arguments, wrong, problems, was_string


def _json_call(raw: str, body: str, fmt: str, start: int, end: int, layout: str) -> ToolCall:
    """A call whose body is a JSON object (qwen25-json, json-fence); a `function` wrapper is a wrong key."""
    try:
        # raw_decode skips json.loads' whitespace handling (the body is stripped) and is twice as fast.
        obj, used = _DECODER.raw_decode(body)
        if used != len(body):
            raise json.JSONDecodeError("Extra data", body, used)
    except json.JSONDecodeError as exc:
        hint = " (a literal backslash-n where a newline belongs)" if body.lstrip().startswith("\\n") else ""
        match = re.search(r'["\'](?:name|tool)["\']\s*:\s*["\']([^"\']+)["\']', body)
        return ToolCall(
            match.group(1) if match else None, None, raw, fmt,
            [Problem("tool-call-invalid-json", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}")],
            start, end, layout,
        )
    name, arguments, wrong, problems, was_string = normalize_call_object(obj, wrapper_native=False)
    return ToolCall(name, arguments, raw, fmt, problems, start, end, layout, None, wrong, was_string)


@lru_cache(maxsize=256)
def _json_layout(lead: str, trail: str) -> str:
    return f"<tool_call>{_nl(lead)}{{…}}{_nl(trail)}</tool_call>"


def _nl(gap: str) -> str:
    return gap.replace("\n", "⏎").replace(" ", "")


# --- qwen3-xml ------------------------------------------------------------------------------


def convert_param_value(value: str, name: str, properties: dict[str, Any]) -> Any:
    """Type an XML parameter value through the tool's schema, as mlx-lm's qwen3_coder parser does."""
    if value.lower() == "null":
        return None
    param = properties.get(name)
    if not isinstance(param, dict) or not param:
        return value
    if "type" not in param:
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            return value
        return decoded if isinstance(decoded, (dict, list)) else value
    kind = str(param["type"]).strip().lower()
    if kind in ("string", "str", "text", "varchar", "char", "enum"):
        return value
    if kind.startswith(("int", "uint", "long", "short", "unsigned")):
        number = float(value)
        if number != int(number):
            raise ValueError(f"invalid integer literal {value!r}")
        return int(number)
    if kind.startswith(("num", "float")):
        number = float(value)
        # mlx-lm turns "2.0" into 2 (an equal number); keeping the float keeps the text round trip exact.
        return number if number != int(number) or any(c in value for c in ".eE") else int(number)
    if kind in ("boolean", "bool", "binary"):
        return value.lower() == "true"
    if kind in ("object", "array", "arr") or kind.startswith(("dict", "list")):
        try:
            return json.loads(value, strict=False)
        except json.JSONDecodeError:
            pass
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return value


def _xml_call(raw: str, body: str, start: int, end: int, closed: bool, schemas: ToolSchemas | None) -> ToolCall:
    problems: list[Problem] = []
    if not closed:
        problems.append(Problem("tool-call-unclosed", "<tool_call> has no closing </tool_call>"))
    match = _FUNCTION.search(body)
    if match is None:
        return ToolCall(None, None, raw, "qwen3-xml", problems + [Problem("tool-call-invalid-json", "no <function=NAME> in the call")], start, end)
    name = match.group(1).strip()
    function_end = body.find("</function>", match.end())
    if function_end == -1:
        problems.append(Problem("tool-call-unclosed", f"<function={name}> has no closing </function>"))
        function_end = len(body)
    properties = (schemas or {}).get(name, {}).get("properties", {}) or {}
    arguments: dict[str, Any] = {}
    skeleton = [f"<tool_call>{_nl(body[:match.start()])}<function=…>"]
    params = list(_PARAMETER.finditer(body, match.end(), function_end))
    for index, param in enumerate(params):
        pname = param.group(1).strip()
        value = param.group(2)
        if not param.group(3):
            problems.append(Problem("tool-call-unclosed", f"<parameter={pname}> has no closing </parameter>"))
        lead = "⏎" if value.startswith("\n") else ""
        trail = "⏎" if value.endswith("\n") and len(value) > len(lead) else ""
        value = value[1:] if value.startswith("\n") else value
        value = value[:-1] if value.endswith("\n") else value
        try:
            arguments[pname] = convert_param_value(value, pname, properties)
        except ValueError as exc:
            problems.append(Problem("tool-call-bad-arguments", f"parameter {pname}: {exc}"))
            arguments[pname] = value
        if index == 0:
            gap = body[match.end():param.start()]
            skeleton.append(f"{_nl(gap)}<parameter=…>{lead}…{trail}</parameter>")
    last = params[-1].end() if params else match.end()
    skeleton.append(f"{_nl(body[last:function_end])}</function>{_nl(body[function_end + len('</function>'):])}</tool_call>")
    return ToolCall(name, arguments, raw, "qwen3-xml", problems, start, end, "".join(skeleton))


# --- text scanning --------------------------------------------------------------------------


def _tagged_calls(text: str, schemas: ToolSchemas | None) -> list[ToolCall]:
    calls = []
    pos = text.find(_TAG_OPEN)
    while pos != -1:
        body_start = pos + len(_TAG_OPEN)
        close = text.find(_TAG_CLOSE, body_start)
        following = text.find(_TAG_OPEN, body_start)
        closed = close != -1 and (following == -1 or close < following)
        body_end = close if closed else (following if following != -1 else len(text))
        end = body_end + len(_TAG_CLOSE) if closed else body_end
        body = text[body_start:body_end]
        raw = text[pos:end]
        if body.lstrip().startswith("<function="):
            calls.append(_xml_call(raw, body, pos, end, closed, schemas))
        else:
            stripped = body.strip()
            lead, trail = body[: len(body) - len(body.lstrip())], body[len(body.rstrip()):]
            layout = _json_layout(lead, trail)
            call = _json_call(raw, stripped, "qwen25-json", pos, end, layout)
            if not closed:
                call.problems.insert(0, Problem("tool-call-unclosed", "<tool_call> has no closing </tool_call>"))
            calls.append(call)
        pos = following
    return calls


def _fenced_calls(text: str) -> list[ToolCall]:
    calls = []
    for match in _FENCE.finditer(text):
        close = text.find("```", match.end())
        body = text[match.end(): close if close != -1 else len(text)]
        stripped = body.strip()
        if not stripped.startswith("{") or not _FENCE_ARGS_KEY.search(stripped):
            continue
        if not _FENCE_NAME_KEY.search(stripped) and '"function"' not in stripped:
            continue
        end = close + 3 if close != -1 else len(text)
        layout = "```json" if match.group(1) else "```"
        call = _json_call(text[match.start():end], stripped, "json-fence", match.start(), end, layout)
        if close == -1:
            call.problems.insert(0, Problem("tool-call-unclosed", "the ``` fence is never closed"))
        calls.append(call)
    return calls


def _prefixed_calls(text: str) -> list[ToolCall]:
    calls = []
    for match in _PREFIX.finditer(text):
        try:
            obj, end = _DECODER.raw_decode(text, match.end())
        except json.JSONDecodeError as exc:
            line_end = text.find("\n", match.end())
            end = line_end if line_end != -1 else len(text)
            calls.append(ToolCall(None, None, text[match.start():end], "tool-call-prefix",
                                  [Problem("tool-call-invalid-json", f"not valid JSON after 'Tool call:': {exc.msg}")],
                                  match.start(), end))
            continue
        name, arguments, wrong, problems, was_string = normalize_call_object(obj, wrapper_native=True)
        layout = "Tool call: {function}" if isinstance(obj, dict) and "function" in obj else "Tool call: {name}"
        calls.append(ToolCall(name, arguments, text[match.start():end], "tool-call-prefix", problems,
                              match.start(), end, layout, None, wrong, was_string))
    return calls


def parse_content_calls(text: str, schemas: ToolSchemas | None = None) -> list[ToolCall]:
    """Every tool call written inside one assistant message's text, in order of position."""
    calls: list[ToolCall] = []
    if _TAG_OPEN in text:
        calls.extend(_tagged_calls(text, schemas))
    if "```" in text:
        calls.extend(_fenced_calls(text))
    if "Tool call:" in text:
        calls.extend(_prefixed_calls(text))
    if len(calls) > 1:
        calls.sort(key=lambda call: call.start)
    return calls


def parse_openai_calls(turn: dict[str, Any]) -> list[ToolCall]:
    """The structured `tool_calls` of one assistant message."""
    entries = turn.get("tool_calls")
    if not isinstance(entries, list):
        return []
    calls = []
    for index, entry in enumerate(entries):
        raw = json.dumps(entry, ensure_ascii=False)
        name, arguments, wrong, problems, was_string = normalize_call_object(entry, wrapper_native=True)
        call_id = entry.get("id") if isinstance(entry, dict) and isinstance(entry.get("id"), str) else None
        calls.append(ToolCall(name, arguments, raw, "openai", problems, index, index, "", call_id, wrong, was_string))
    return calls


def parse_raw_distill_calls(data: dict[str, Any]) -> list[ToolCall]:
    """The `tool_calls` list of a raw-distill record; `tool`/`args` are reported as wrong keys."""
    calls = []
    for index, entry in enumerate(data.get("tool_calls") or []):
        raw = json.dumps(entry, ensure_ascii=False)
        name, arguments, wrong, problems, was_string = normalize_call_object(entry, wrapper_native=False)
        calls.append(ToolCall(name, arguments, raw, "raw-distill", problems, index, index, "", None, wrong, was_string))
    return calls


def turn_calls(turn: dict[str, Any], schemas: ToolSchemas | None = None) -> list[ToolCall]:
    """All calls of one assistant turn: structured `tool_calls` first, then those in its text."""
    calls = parse_openai_calls(turn) if turn.get("tool_calls") else []
    content = turn.get("content")
    if isinstance(content, str) and content:
        calls.extend(parse_content_calls(content, schemas))
    return calls


def record_calls(record: Record, schemas: ToolSchemas | None = None) -> list[tuple[int, ToolCall]]:
    """(turn index, call) for every call in a record; raw-distill calls get turn index -1."""
    if record.data is None:
        return []
    if record.shape == "raw-distill":
        return [(-1, call) for call in parse_raw_distill_calls(record.data)]
    found = []
    for index, turn in enumerate(record.turns()):
        if turn.get("role") == "assistant":
            found.extend((index, call) for call in turn_calls(turn, schemas))
    return found


# --- tool results ---------------------------------------------------------------------------


def result_contents(turn: dict[str, Any]) -> list[str] | None:
    """The tool results a turn carries (`role: tool`, `<tool_response>` or `Tool result:` user
    turns), or None when it is not a tool-result turn."""
    role = turn.get("role")
    content = turn.get("content")
    if role == "tool":
        return [content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)]
    if role != "user" or not isinstance(content, str):
        return None
    if content.startswith("<tool_response>"):
        blocks = _RESPONSE_BLOCK.findall(content)
        rest = _RESPONSE_BLOCK.sub("", content).strip()
        return blocks if blocks and not rest else None
    if content.startswith(_RESULT_PREFIX):
        return [content[len(_RESULT_PREFIX):].removeprefix(" ")]
    return None


# --- detection (used by the home screen and labels) -----------------------------------------


def content_formats(text: str) -> list[str]:
    """The tool-call formats present in one assistant message's text, in FORMATS order."""
    found = {call.format for call in parse_content_calls(text)}
    return [name for name in FORMATS if name in found]


def record_formats(record: Record) -> list[str]:
    """The tool-call formats a record uses; [] for a record without tool calls."""
    if record.shape == "raw-distill":
        return ["raw-distill"]
    found = {call.format for _, call in record_calls(record)}
    return [name for name in FORMATS if name in found]


# --- rendering ------------------------------------------------------------------------------


def xml_value(value: Any) -> str:
    """An argument value as Qwen3-Coder's chat template writes it inside <parameter=..>."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def render_call(name: str, arguments: dict[str, Any], fmt: str) -> str:
    """One call as text in a text format, in that format's canonical layout."""
    if fmt == "qwen25-json":
        return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False) + "\n</tool_call>"
    if fmt == "qwen3-xml":
        params = "".join(f"<parameter={key}>\n{xml_value(value)}\n</parameter>\n" for key, value in arguments.items())
        return f"<tool_call>\n<function={name}>\n{params}</function>\n</tool_call>"
    if fmt == "json-fence":
        return "```json\n" + json.dumps({"name": name, "arguments": arguments}, indent=2, ensure_ascii=False) + "\n```"
    if fmt == "tool-call-prefix":
        return "Tool call: " + json.dumps({"type": "function", "function": {"name": name, "arguments": arguments}}, ensure_ascii=False)
    raise ValueError(f"{fmt} is not a text format (one of {', '.join(TEXT_FORMATS)})")


def openai_call(name: str, arguments: dict[str, Any], call_id: str | None = None) -> dict[str, Any]:
    """One call as an entry of an assistant message's `tool_calls`, arguments as an object."""
    entry: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if call_id:
        entry = {"id": call_id, **entry}
    return entry


def render_results(results: list[tuple[str | None, str]], fmt: str) -> list[dict[str, Any]]:
    """Tool results as the turns a format expects after its calls."""
    if fmt == "openai":
        return [{"role": "tool", "name": name, "content": content} for name, content in results]
    if fmt in ("qwen25-json", "qwen3-xml"):
        return [{"role": "user", "content": "\n".join(f"<tool_response>\n{content}\n</tool_response>" for _, content in results)}]
    return [{"role": "user", "content": f"{_RESULT_PREFIX} {content}"} for _, content in results]
