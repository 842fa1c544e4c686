"""Tool examples for the demo data: a question about this repository, one real tool call against the
pinned snapshot, its real result, and an answer that states what the result shows.

Each builder returns Plans (category, question, tool, arguments, answer); `answer` (from
demo_answers) turns the real tool result into the final answer. Write tasks are in demo_write_tasks.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from demo_answers import (
    answer_absent,
    answer_constant,
    answer_count,
    answer_definition,
    answer_document,
    answer_find,
    answer_head,
    answer_ls,
    answer_module,
    answer_setting,
    answer_usage,
    answer_wc,
)
from demo_sandbox import Sandbox


@dataclass(frozen=True)
class Plan:
    """One tool example before its tool runs."""

    category: str
    question: str
    tool: str
    arguments: dict[str, str]
    answer: Callable[[str], str]


def tool_call_text(name: str, arguments: dict[str, str]) -> str:
    """An assistant turn's content in the qwen25-json format."""
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False) + "\n</tool_call>"


def record_line(messages: list[dict], category: str | None = None) -> str:
    data: dict[str, object] = {"messages": messages}
    if category is not None:
        data["punie"] = {"category": category}
    return json.dumps(data, ensure_ascii=False)


def run_plan(sandbox: Sandbox, plan: Plan) -> tuple[str, str]:
    """Run the plan's tool for real; return (result, final answer)."""
    result = getattr(sandbox, plan.tool)(**plan.arguments)
    return result, plan.answer(result)


# -- what the snapshot holds ------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str  # "def" or "class"
    path: str


def scan_definitions(root: Path) -> list[Definition]:
    """Functions and classes under punie_tui/ whose `def NAME(` / `class NAME` is in one file only."""
    seen: dict[tuple[str, str], set[str]] = {}
    texts = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted((root / "punie_tui").rglob("*.py"))}
    for path, text in texts.items():
        for kind, name in re.findall(r"^\s*(def|class) (\w+)", text, re.M):
            seen.setdefault((kind, name), set()).add(path)
    found = []
    for (kind, name), paths in sorted(seen.items()):
        pattern = f"{kind} {name}("
        holders = [p for p, t in texts.items() if pattern in t]
        if len(paths) == 1 and len(holders) == 1 and name != "__init__":
            found.append(Definition(name, kind, holders[0]))
    return found


def python_files(root: Path, under: str = "punie_tui") -> list[str]:
    return [p.relative_to(root).as_posix() for p in sorted((root / under).rglob("*.py"))]


def settings_fields(root: Path) -> list[tuple[str, str]]:
    """(class, field) pairs of the settings models in config.py with a literal default."""
    text = (root / "punie_tui/config.py").read_text(encoding="utf-8")
    found = []
    current = ""
    for line in text.splitlines():
        head = re.match(r"class (\w+)\(", line)
        if head:
            current = head.group(1)
        field = re.match(r"    (\w+): [^=]+= (?:Field\()?([^,)]+)", line)
        if field and current in ("TrainingDefaults", "WorkspaceSettings") and "default_factory" not in line:
            found.append((current, field.group(1)))
    return found


# -- question phrasings -----------------------------------------------------------------------

DEFINITION_QUESTIONS = [
    "Where is `{name}` defined?",
    "Which file defines `{name}`?",
    "Find the definition of `{name}` for me.",
    "In which module does `{name}` live?",
    "I want to change `{name}`. Where is it?",
    "Locate `{name}` in the codebase.",
    "Where can I find the {kind} `{name}`?",
    "Show me where `{name}` is declared.",
    "Which line declares `{name}`?",
    "Where's `{name}` implemented?",
]
USAGE_QUESTIONS = [
    "Where does `{path}` use `{word}`?",
    "On which lines of `{path}` does `{word}` appear?",
    "Find every mention of `{word}` in `{path}`.",
    "Search `{path}` for `{word}`.",
    "How is `{word}` used in `{path}`? List the lines.",
]
CONSTANT_QUESTIONS = [
    "What is the value of `{name}`?",
    "What is `{name}` set to?",
    "Look up the constant `{name}`.",
    "Where is `{name}` assigned, and to what?",
]
SETTING_QUESTIONS = [
    "What is the default `{field}` in punie.toml?",
    "What does `{field}` default to?",
    "If I leave `{field}` out of punie.toml, what value is used?",
    "Check the default for the `{field}` setting.",
    "What's the built-in default of `{field}`?",
]
MODULE_QUESTIONS = [
    "What does `{path}` do?",
    "Summarise `{path}`.",
    "Open `{path}` and tell me what it defines.",
    "Give me an overview of `{path}`.",
    "What is `{path}` for?",
    "Read `{path}` and explain its purpose.",
]
DOCUMENT_QUESTIONS = [
    "What is in `{path}`?",
    "Read `{path}` and summarise how it is organised.",
    "Give me the outline of `{path}`.",
]
HEAD_QUESTIONS = [
    "Show me the top of `{path}`.",
    "What does `{path}` import?",
    "Print the first {count} lines of `{path}`.",
    "What's at the start of `{path}`?",
]
CAT_QUESTIONS = [
    "Print `{path}` for me.",
    "Show me all of `{path}`.",
    "Dump the contents of `{path}`.",
]
WC_ONE_QUESTIONS = [
    "How many lines is `{path}`?",
    "How long is `{path}`?",
    "Count the lines in `{path}`.",
    "What's the line count of `{path}`?",
]
WC_MANY_QUESTIONS = [
    "Which module in `{folder}` is the longest?",
    "How many lines of code are in `{folder}` altogether?",
    "Compare the sizes of the modules in `{folder}`.",
    "Which file in `{folder}` is the smallest?",
]
COUNT_QUESTIONS = [
    "How many {what_q} are in `{path}`?",
    "Count the {what_q} in `{path}`.",
    "How many {what_q} does `{path}` have?",
]
LS_QUESTIONS = [
    "What's in the `{folder}` folder?",
    "List the files in `{folder}`.",
    "Which modules does `{folder}` contain?",
    "Show me the contents of `{folder}`.",
    "How many files are in `{folder}`?",
]
FIND_QUESTIONS = [
    "Where is the file `{name}`?",
    "Find the file called `{name}`.",
    "Is there a `{name}` somewhere in the repo? Where?",
]
ABSENT_QUESTIONS = [
    "Is there any `{word}` left in `{folder}`?",
    "Does anything in `{folder}` mention `{word}`?",
    "Search `{folder}` for `{word}`.",
]


class Phrasing:
    """Seeded choice of question wording that never hands out the same question twice."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def pick(self, templates: list[str], **values: object) -> str:
        for template in self.rng.sample(templates, len(templates)):
            question = template.format(**values)
            if question not in self.used:
                self.used.add(question)
                return question
        raise ValueError(f"every wording of {templates[0]!r} is used for {values}")


def sample(rng: random.Random, items: list, count: int) -> list:
    return rng.sample(items, min(count, len(items)))


def code_search_plans(root: Path, words: Phrasing, count: int) -> list[Plan]:
    rng = words.rng
    definitions = scan_definitions(root)
    plans = []
    fields = settings_fields(root)
    for cls, field in sample(rng, fields, 12):
        plans.append(
            Plan(
                "code-search",
                words.pick(SETTING_QUESTIONS, field=field),
                "run_command",
                {"command": f'grep -n "    {field}:" punie_tui/config.py'},
                answer_setting(cls, field),
            )
        )
    constants = []
    for path in python_files(root):
        text = (root / path).read_text(encoding="utf-8")
        constants += re.findall(r"^([A-Z][A-Z_]{2,})(?::[^=\n]*)? = [^\n(\[]+$", text, re.M)
    for name in sample(rng, sorted(set(constants)), 6):
        plans.append(
            Plan(
                "code-search",
                words.pick(CONSTANT_QUESTIONS, name=name),
                "run_command",
                {"command": f'grep -rn "^{name}" punie_tui'},
                answer_constant(name),
            )
        )
    for word in ["TODO", "FIXME", "print(", "breakpoint("]:
        folder = rng.choice(["punie_tui", "punie_tui/core"])
        plans.append(
            Plan(
                "code-search",
                words.pick(ABSENT_QUESTIONS, word=word, folder=folder),
                "run_command",
                {"command": f'grep -rn "{word}" {folder}'},
                answer_absent(word, folder),
            )
        )
    usage_words = ["path", "record", "raise", "return", "import", "self", "Path", "json", "line", "workspace"]
    files = [p for p in python_files(root) if (root / p).stat().st_size > 1000]
    for _ in range(8):
        path = rng.choice(files)
        text = (root / path).read_text(encoding="utf-8")
        word = rng.choice([w for w in usage_words if w in text])
        plans.append(
            Plan(
                "code-search",
                words.pick(USAGE_QUESTIONS, path=path, word=word),
                "run_command",
                {"command": f'grep -n "{word}" {path}'},
                answer_usage(word, path),
            )
        )
    for defn in sample(rng, definitions, count - len(plans)):
        pattern = f"{defn.kind} {defn.name}("
        plans.append(
            Plan(
                "code-search",
                words.pick(DEFINITION_QUESTIONS, name=defn.name, kind="class" if defn.kind == "class" else "function"),
                "run_command",
                {"command": f'grep -rn "{pattern}" punie_tui'},
                answer_definition(defn.name, defn.kind),
            )
        )
    return plans[:count]


def read_plans(root: Path, words: Phrasing, count: int) -> list[Plan]:
    rng = words.rng
    plans = []
    modules = [p for p in python_files(root) if (root / p).stat().st_size > 200] + python_files(root, "tests")
    for path in modules:
        plans.append(Plan("read", words.pick(MODULE_QUESTIONS, path=path), "read_file", {"path": path}, answer_module(path)))
    for path in ["README.md", "CONTRIBUTING.md", "pyproject.toml", "Makefile"]:
        plans.append(Plan("read", words.pick(DOCUMENT_QUESTIONS, path=path), "read_file", {"path": path}, answer_document(path)))
    small = [p for p in python_files(root) if (root / p).stat().st_size < 1000]
    for path in small:
        plans.append(Plan("read", words.pick(CAT_QUESTIONS, path=path), "run_command", {"command": f"cat {path}"}, answer_module(path)))
    # Two long files printed whole show the model what a cut-off result looks like.
    for path in sorted(modules, key=lambda p: -(root / p).stat().st_size)[:2]:
        plans.append(Plan("read", words.pick(CAT_QUESTIONS, path=path), "run_command", {"command": f"cat {path}"}, answer_module(path)))
    documents = ["README.md", "CONTRIBUTING.md", "pyproject.toml", "Makefile", ".gitignore", ".ci/run"]
    for path in sample(rng, modules + documents, count - len(plans)):
        lines = rng.choice([10, 12, 15, 20])
        plans.append(
            Plan(
                "read",
                words.pick(HEAD_QUESTIONS, path=path, count=lines),
                "run_command",
                {"command": f"head -n {lines} {path}"},
                answer_head(path, lines),
            )
        )
    return plans[:count]


def count_plans(root: Path, words: Phrasing, count: int) -> list[Plan]:
    rng = words.rng
    plans = []
    for folder in ["punie_tui/core", "punie_tui/commands", "punie_tui/widgets", "punie_tui"]:
        paths = [p for p in python_files(root, folder) if p.count("/") == folder.count("/") + 1]
        plans.append(
            Plan(
                "count",
                words.pick(WC_MANY_QUESTIONS, folder=folder),
                "run_command",
                {"command": "wc -l " + " ".join(paths)},
                answer_wc(paths),
            )
        )
    kinds = [
        ("grep counts {lines} containing `def ` in {path}: its functions and methods.", "functions", "def "),
        ("grep counts {lines} containing `class ` in {path}: its class statements.", "classes", "class "),
        ("grep counts {lines} containing `import ` in {path}: its import statements.", "imports", "import "),
        ("grep counts {lines} containing `return ` in {path}: its return statements.", "return statements", "return "),
    ]
    files = [p for p in python_files(root) if (root / p).stat().st_size > 400]
    for _ in range(12):
        sentence, what_q, pattern = rng.choice(kinds)
        path = rng.choice(files)
        plans.append(
            Plan(
                "count",
                words.pick(COUNT_QUESTIONS, what_q=what_q, path=path),
                "run_command",
                {"command": f'grep -c "{pattern}" {path}'},
                answer_count(sentence, path),
            )
        )
    everything = python_files(root) + python_files(root, "tests") + ["README.md", "Makefile", "pyproject.toml"]
    for path in sample(rng, everything, count - len(plans)):
        plans.append(
            Plan("count", words.pick(WC_ONE_QUESTIONS, path=path), "run_command", {"command": f"wc -l {path}"}, answer_wc([path]))
        )
    return plans[:count]


def list_plans(root: Path, words: Phrasing, count: int) -> list[Plan]:
    rng = words.rng
    plans = []
    folders = ["punie_tui", "punie_tui/core", "punie_tui/commands", "punie_tui/screens", "punie_tui/widgets", "tests", "."]
    for folder in folders + sample(rng, folders, 4):
        question = words.pick(LS_QUESTIONS, folder=folder if folder != "." else "top-level")
        plans.append(Plan("list", question, "run_command", {"command": f"ls {folder}"}, answer_ls(folder)))
    names = sorted({p.name for p in root.rglob("*") if p.is_file()})
    unique = [n for n in names if sum(1 for _ in root.rglob(n)) == 1]
    for name in sample(rng, unique, count - len(plans) - 1):
        plans.append(
            Plan("list", words.pick(FIND_QUESTIONS, name=name), "run_command", {"command": f"find . -name {name}"}, answer_find(name))
        )
    plans.append(
        Plan("list", "Is there a `setup.py` in this repo?", "run_command", {"command": "find . -name setup.py"}, answer_find("setup.py"))
    )
    return plans[:count]
