"""The planted-defect file for the demo workspace: new data with one real kind of defect per line
(wrong keys, broken JSON, mixed formats, bad turn order, drift...), tool results still real."""

from __future__ import annotations

import json
import random

from demo_sandbox import Sandbox
from demo_tool_examples import record_line, tool_call_text

DRIFTED_SYSTEM_PROMPT = "You are a helpful assistant with access to tools. Use them wisely."


def dispatch(sandbox: Sandbox, tools: list[dict], name: str, arguments: dict) -> str:
    """Run a call the way an agent's tool dispatcher does, including its error replies."""
    required = {t["function"]["name"]: t["function"]["parameters"]["required"] for t in tools}
    if name not in required:
        return f"Error: unknown tool '{name}'; available: {', '.join(required)}"
    missing = [key for key in required[name] if key not in arguments]
    if missing:
        return f"Error: {name} is missing required argument(s): {', '.join(missing)}"
    return getattr(sandbox, name)(**arguments)


def incoming_lines(
    sandbox: Sandbox, examples: list[str], rng: random.Random, *, system_prompt: str, tools: list[dict]
) -> list[tuple[str, str]]:
    """(defect, line) pairs for incoming.jsonl; each defect is one of the kinds real data has."""

    def convo(question: str, call: str, result: str, answer: str, system: str = system_prompt) -> list[dict]:
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": question},
            {"role": "assistant", "content": call},
            {"role": "tool", "content": result},
            {"role": "assistant", "content": answer},
        ]

    def good(question: str, name: str, arguments: dict, answer: str) -> list[dict]:
        return convo(question, tool_call_text(name, arguments), dispatch(sandbox, tools, name, arguments), answer)

    def call_json(payload: dict) -> str:
        return "<tool_call>\n" + json.dumps(payload, ensure_ascii=False) + "\n</tool_call>"

    ls_core = dispatch(sandbox, tools, "run_command", {"command": "ls punie_tui/core"})
    wc_cli = dispatch(sandbox, tools, "run_command", {"command": "wc -l punie_tui/cli.py"})
    makefile = dispatch(sandbox, tools, "read_file", {"path": "Makefile"})
    grep_labels = dispatch(sandbox, tools, "run_command", {"command": 'grep -n "def " punie_tui/core/labels.py'})
    head_atomic = dispatch(sandbox, tools, "run_command", {"command": "head -n 3 punie_tui/core/atomic.py"})
    readme_head = dispatch(sandbox, tools, "run_command", {"command": "head -n 1 README.md"})
    gitignore = dispatch(sandbox, tools, "read_file", {"path": ".gitignore"})
    lines_cli = wc_cli.split()[0]
    duplicate = rng.choice([line for line in examples if '"role": "tool"' in line])
    rows: list[tuple[str, object]] = [
        ("clean: a well-formed tool example", good(
            "What modules are in punie_tui/core?", "run_command", {"command": "ls punie_tui/core"},
            "punie_tui/core holds " + ", ".join(ls_core.split()) + ".")),
        ('wrong key: "tool" instead of "name" in the tool call', convo(
            "How many lines does punie_tui/cli.py have?",
            call_json({"tool": "run_command", "arguments": {"command": "wc -l punie_tui/cli.py"}}),
            wc_cli, f"punie_tui/cli.py has {lines_cli} lines.")),
        ('wrong key: "args" instead of "arguments"', convo(
            "Read the Makefile.",
            call_json({"name": "read_file", "args": {"path": "Makefile"}}),
            makefile, "The Makefile has the targets run, test, bench and clean-venv.")),
        ("arguments given as a JSON string instead of an object", convo(
            "Which functions does punie_tui/core/labels.py define?",
            call_json({"name": "run_command", "arguments": json.dumps({"command": 'grep -n "def " punie_tui/core/labels.py'})}),
            grep_labels, "It defines human_label and suggested_label.")),
        ("single-quoted (Python-style) JSON in the tool call", convo(
            "What does .gitignore ignore?",
            "<tool_call>\n{'name': 'read_file', 'arguments': {'path': '.gitignore'}}\n</tool_call>",
            gitignore, "It ignores the venv, caches, build output, runs, .punie and model weights.")),
        ("unbalanced brace: the tool call JSON is missing its closing `}`", convo(
            "Show the first three lines of punie_tui/core/atomic.py.",
            '<tool_call>\n{"name": "run_command", "arguments": {"command": "head -n 3 punie_tui/core/atomic.py"}\n</tool_call>',
            head_atomic, "It starts with the module docstring about atomic file writes.")),
        ("json-fence call (a fenced `json` block) where qwen25-json is expected", convo(
            "What is the README's title?",
            '```json\n{"name": "run_command", "arguments": {"command": "head -n 1 README.md"}}\n```',
            readme_head, f"The README's title is {readme_head.lstrip('# ')}.")),
        ("mixed formats: a Qwen3-Coder XML call in a qwen25-json file", convo(
            "Read the Makefile and list its targets.",
            "<tool_call><function=read_file>\n<parameter=path>\nMakefile\n</parameter>\n</function></tool_call>",
            makefile, "The targets are run, test, bench and clean-venv.")),
        ("double-wrapped tool result: `<tool_response><tool_response>...</tool_response></tool_response>`", convo(
            "List the core modules.",
            tool_call_text("run_command", {"command": "ls punie_tui/core"}),
            f"<tool_response><tool_response>\n{ls_core}\n</tool_response></tool_response>",
            "The core modules are " + ", ".join(ls_core.split()) + ".")),
        ("clean: a well-formed direct answer", [
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": "What is a docstring?"},
            {"role": "assistant", "content": "A docstring is the string literal at the top of a module, class or function; Python stores it in `__doc__` and tools like `help()` show it."},
        ]),
        ("unknown tool: `search_code` is not in tools.json", convo(
            "Search the code for Workspace.",
            tool_call_text("search_code", {"query": "Workspace"}),
            dispatch(sandbox, tools, "search_code", {"query": "Workspace"}),
            "The search tool is not available.")),
        ("missing required argument: write_file without `content`", convo(
            "Create an empty notes.md.",
            tool_call_text("write_file", {"path": "notes.md"}),
            dispatch(sandbox, tools, "write_file", {"path": "notes.md"}),
            "I could not create the file.")),
        ("exact duplicate of an example in examples.jsonl", duplicate),
        ("conversation ends on a user turn (no answer to learn)", [
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": "Where is the command list of the CLI?"},
        ]),
        ("two consecutive user turns", [
            {"role": "system", "content": system_prompt},
            {"role": "user", "content": "What is a virtual environment?"},
            {"role": "user", "content": "And why should I use one?"},
            {"role": "assistant", "content": "A virtual environment is a folder with its own Python and packages, so each project gets the versions it needs without touching the system Python."},
        ]),
        ("empty final assistant turn", good(
            "How many lines is punie_tui/cli.py?", "run_command", {"command": "wc -l punie_tui/cli.py"}, "")),
        ("system prompt drift: differs from punie.toml's system_prompt", convo(
            "Count the lines of punie_tui/cli.py.",
            tool_call_text("run_command", {"command": "wc -l punie_tui/cli.py"}),
            wc_cli, f"punie_tui/cli.py is {lines_cli} lines long.", system=DRIFTED_SYSTEM_PROMPT)),
        ("not JSON at all", 'messages: [user: "what is in the Makefile?", assistant: read_file(Makefile)]'),
        ('wrong key: "tool" instead of "name" (second case, a read_file call)', convo(
            "Open .gitignore.",
            call_json({"tool": "read_file", "arguments": {"path": ".gitignore"}}),
            gitignore, "The .gitignore lists the venv, caches, runs, .punie and weight files.")),
        ('wrong key: "args" instead of "arguments" (second case, a run_command call)', convo(
            "What is in punie_tui/core?",
            call_json({"name": "run_command", "args": {"command": "ls punie_tui/core"}}),
            ls_core, "It holds " + ", ".join(ls_core.split()) + ".")),
    ]
    return [(defect, row if isinstance(row, str) else record_line(row)) for defect, row in rows]
