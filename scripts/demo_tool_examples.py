"""Tool examples for the demo data: a question about this repository, one real tool call against the
pinned snapshot, its real result, and an answer that states what the result shows.

Each builder returns `(category, question, tool, arguments, answer_fn)` plans; `answer_fn` turns the
real tool result into the final answer, so every answer is derived from what the tool returned.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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


# -- answers from results ---------------------------------------------------------------------


def _grep_lines(result: str) -> list[tuple[str, int, str]]:
    """(path, line, text) from `grep -rn` output; path is "" for single-file `grep -n`."""
    rows = []
    for line in result.splitlines():
        m = re.match(r"(?:([^:\s]+):)?(\d+):(.*)$", line)
        if m:
            rows.append((m.group(1) or "", int(m.group(2)), m.group(3)))
    return rows


def _docstring(text: str) -> str:
    m = re.match(r'\s*(?:#![^\n]*\n)?\s*"""(.*?)(?:"""|\Z)', text, re.S)
    if not m:
        return ""
    return " ".join(m.group(1).split())


def _truncated(result: str) -> bool:
    return "[... truncated:" in result


def _names(result: str) -> tuple[list[str], list[str]]:
    functions = re.findall(r"^def (\w+)", result, re.M)
    classes = re.findall(r"^class (\w+)", result, re.M)
    return functions, classes


def _join(items: list[str]) -> str:
    quoted = [f"`{item}`" for item in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def answer_definition(defn: Definition) -> Callable[[str], str]:
    def answer(result: str) -> str:
        rows = [r for r in _grep_lines(result) if re.search(rf"\b{defn.kind} {defn.name}\(", r[2])]
        if not rows:
            return f"The search found no definition of `{defn.name}` under punie_tui/."
        path, line, text = rows[0]
        if defn.kind == "class":
            kind = "a class"
        elif text.startswith((" ", "\t")):
            kind = "a method (the line is indented, so it belongs to a class)"
        else:
            kind = "a function"
        return f"`{defn.name}` is {kind} defined in `{path}`, line {line}:\n\n    {text.strip()}"

    return answer


def answer_usage(word: str, path: str) -> Callable[[str], str]:
    def answer(result: str) -> str:
        rows = _grep_lines(result)
        if not rows:
            return f"`{word}` does not occur in `{path}`."
        if len(rows) == 1:
            return f"`{word}` appears once in `{path}`, on line {rows[0][1]}: `{rows[0][2].strip()}`."
        lines = ", ".join(str(r[1]) for r in rows[:12])
        more = f" (and {len(rows) - 12} more)" if len(rows) > 12 else ""
        first = rows[0]
        return (
            f"`{word}` appears on {len(rows)} lines of `{path}`: lines {lines}{more}. "
            f"The first is line {first[1]}: `{first[2].strip()}`."
        )

    return answer


def answer_constant(name: str) -> Callable[[str], str]:
    def answer(result: str) -> str:
        rows = _grep_lines(result)
        if not rows:
            return f"There is no module-level `{name}` under punie_tui/."
        path, line, text = rows[0]
        value = text.split("=", 1)[1].strip()
        return f"`{name}` is set in `{path}` on line {line}: `{name} = {value}`."

    return answer


def answer_setting(cls: str, field: str) -> Callable[[str], str]:
    def answer(result: str) -> str:
        for _, line, text in _grep_lines(result):
            m = re.match(rf"\s+{field}: ([^=]+)= (?:Field\()?([^,)]+)", text)
            if m:
                limits = re.findall(r"(ge|gt|le|lt)=([^,)]+)", text)
                bound = ""
                if limits:
                    words = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
                    bound = " It must be " + " and ".join(f"{words[k]} {v}" for k, v in limits) + "."
                return (
                    f"`{field}` defaults to `{m.group(2).strip()}` (type `{m.group(1).strip()}`), "
                    f"set on line {line} of `punie_tui/config.py` in `{cls}`.{bound}"
                )
        return f"The search did not find a `{field}` field in `punie_tui/config.py`."

    return answer


def answer_module(path: str) -> Callable[[str], str]:
    def answer(result: str) -> str:
        if result.startswith("Error:"):
            return f"The file could not be read: {result}"
        doc = _docstring(result)
        functions, classes = _names(result)
        parts = [f"`{path}`: {doc}" if doc else f"`{path}` has no module docstring."]
        if classes:
            parts.append(f"Classes: {_join(classes)}.")
        if functions:
            parts.append(f"Functions: {_join(functions)}.")
        if not classes and not functions:
            parts.append("It defines no top-level functions or classes in what was shown.")
        if _truncated(result):
            parts.append("The tool cut the file short, so there is more below what I saw.")
        return " ".join(parts)

    return answer


def answer_document(path: str) -> Callable[[str], str]:
    def answer(result: str) -> str:
        headings = re.findall(r"^#+ (.+)$", result, re.M)
        sections = re.findall(r"^\[([^\]]+)\]$", result, re.M)
        targets = [t for t in re.findall(r"^([\w-]+):", result, re.M) if not t.startswith(".")]
        bullets = re.findall(r"^- \*\*(.+?)\*\*", result, re.M)
        if path.endswith(".md") and headings:
            body = f"`{path}` is organised under these headings: " + "; ".join(headings) + "."
            if bullets:
                body += " Its list covers " + ", ".join(b.strip(" :") for b in bullets) + "."
        elif path.endswith(".toml") and sections:
            body = f"`{path}` has the sections " + ", ".join(f"[{s}]" for s in sections) + "."
        elif path == "Makefile" and targets:
            body = f"The Makefile defines the targets {_join(targets)}."
        else:
            first = next((line for line in result.splitlines() if line.strip()), "")
            body = f"`{path}` starts with: {first.strip()}"
        if _truncated(result):
            body += " The tool showed only the first part of the file."
        return body

    return answer


def answer_head(path: str, count: int) -> Callable[[str], str]:
    def answer(result: str) -> str:
        shown = result.splitlines()
        if not path.endswith(".py"):
            content = [line.strip() for line in shown if line.strip() and not line.startswith("#!")]
            listed = "; ".join(f"`{line}`" for line in content[:4])
            return f"The tool showed {len(shown)} lines of `{path}`. The first ones are {listed}."
        doc = _docstring(result)
        imports = re.findall(r"^(?:from (\S+) import|import (\S+))", result, re.M)
        modules = [a or b for a, b in imports]
        text = f"The first {count} lines of `{path}` " + (f'open with the docstring "{doc}"' if doc else "have no docstring")
        return text + (f" and import from {_join(modules)}." if modules else " and no imports yet.")

    return answer


def answer_wc(paths: list[str]) -> Callable[[str], str]:
    def answer(result: str) -> str:
        rows = [line.split() for line in result.splitlines() if line.strip()]
        counts = {row[1]: int(row[0]) for row in rows if len(row) == 2 and row[0].isdigit()}
        if len(paths) == 1:
            return f"`{paths[0]}` has {_lines(counts[paths[0]])}."
        files = {p: n for p, n in counts.items() if p != "total"}
        longest = max(files, key=lambda p: (files[p], p))
        shortest = min(files, key=lambda p: (files[p], p))
        return (
            f"Together the {len(files)} files have {counts['total']} lines. The longest is `{longest}` "
            f"({_lines(files[longest])}), the shortest `{shortest}` ({_lines(files[shortest])})."
        )

    return answer


def _lines(number: int) -> str:
    return f"{number} line{'s' if number != 1 else ''}"


def answer_count(sentence: str, path: str) -> Callable[[str], str]:
    def answer(result: str) -> str:
        number = int(result.splitlines()[0].strip())
        return sentence.format(path=f"`{path}`", n=number, lines=_lines(number))

    return answer


def answer_ls(folder: str) -> Callable[[str], str]:
    def answer(result: str) -> str:
        entries = [e for e in result.splitlines() if e.strip()]
        modules = [e for e in entries if e.endswith(".py")]
        others = [e for e in entries if not e.endswith(".py")]
        text = f"`{folder}` holds {len(entries)} entries"
        if modules:
            text += f": {len(modules)} Python module{'s' if len(modules) != 1 else ''} ({_join(modules)})"
        if others:
            text += f"{' and' if modules else ':'} {len(others)} other entr{'ies' if len(others) != 1 else 'y'} ({_join(others)})"
        return text + "."

    return answer


def answer_find(name: str) -> Callable[[str], str]:
    def answer(result: str) -> str:
        hits = [h for h in result.splitlines() if h.startswith("./")]
        if not hits:
            return f"There is no file named `{name}` in the repository."
        where = hits[0][2:]
        if "/" not in where:
            return f"`{name}` is at the top level of the repository (`{where}`)."
        return f"`{name}` is at `{where}`."

    return answer


def answer_absent(word: str, folder: str) -> Callable[[str], str]:
    def answer(result: str) -> str:
        rows = _grep_lines(result)
        if not rows:
            return f"No: nothing under `{folder}` contains `{word}` (grep found no match)."
        times = "once" if len(rows) == 1 else f"{len(rows)} times"
        return f"Yes: `{word}` occurs {times} under `{folder}`, first in `{rows[0][0]}` line {rows[0][1]}: `{rows[0][2].strip()}`."

    return answer


def answer_write(path: str, what: str) -> Callable[[str], str]:
    def answer(result: str) -> str:
        m = re.match(r"Wrote (\d+) bytes \((\d+) lines\) to (.+)$", result)
        if not m:
            return f"Writing `{path}` failed: {result}"
        return f"Done: `{m.group(3)}` now exists ({_lines(int(m.group(2)))}, {m.group(1)} bytes) with {what}."

    return answer


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


def _sample(rng: random.Random, items: list, count: int) -> list:
    return rng.sample(items, min(count, len(items)))


def code_search_plans(root: Path, words: Phrasing, count: int) -> list[Plan]:
    rng = words.rng
    definitions = scan_definitions(root)
    plans = []
    fields = settings_fields(root)
    for cls, field in _sample(rng, fields, 12):
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
    for name in _sample(rng, sorted(set(constants)), 6):
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
    for defn in _sample(rng, definitions, count - len(plans)):
        pattern = f"{defn.kind} {defn.name}("
        plans.append(
            Plan(
                "code-search",
                words.pick(DEFINITION_QUESTIONS, name=defn.name, kind="class" if defn.kind == "class" else "function"),
                "run_command",
                {"command": f'grep -rn "{pattern}" punie_tui'},
                answer_definition(defn),
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
    for path in _sample(rng, modules + documents, count - len(plans)):
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
    for path in _sample(rng, everything, count - len(plans)):
        plans.append(
            Plan("count", words.pick(WC_ONE_QUESTIONS, path=path), "run_command", {"command": f"wc -l {path}"}, answer_wc([path]))
        )
    return plans[:count]


def list_plans(root: Path, words: Phrasing, count: int) -> list[Plan]:
    rng = words.rng
    plans = []
    folders = ["punie_tui", "punie_tui/core", "punie_tui/commands", "punie_tui/screens", "punie_tui/widgets", "tests", "."]
    for folder in folders + _sample(rng, folders, 4):
        question = words.pick(LS_QUESTIONS, folder=folder if folder != "." else "top-level")
        plans.append(Plan("list", question, "run_command", {"command": f"ls {folder}"}, answer_ls(folder)))
    names = sorted({p.name for p in root.rglob("*") if p.is_file()})
    unique = [n for n in names if sum(1 for _ in root.rglob(n)) == 1]
    for name in _sample(rng, unique, count - len(plans) - 1):
        plans.append(
            Plan("list", words.pick(FIND_QUESTIONS, name=name), "run_command", {"command": f"find . -name {name}"}, answer_find(name))
        )
    plans.append(
        Plan("list", "Is there a `setup.py` in this repo?", "run_command", {"command": "find . -name setup.py"}, answer_find("setup.py"))
    )
    return plans[:count]


def write_plans(root: Path, words: Phrasing, count: int) -> list[Plan]:
    """Write tasks whose content is built from the snapshot where it describes the code."""
    rng = words.rng
    config = (root / "punie_tui/config.py").read_text(encoding="utf-8")
    formats = re.search(r"FORMAT_NAMES[^=]*= \(([^)]*)\)", config).group(1)
    format_names = re.findall(r'"([^"]+)"', formats)
    core = [Path(p).stem for p in python_files(root, "punie_tui/core") if not p.endswith("__init__.py")]
    defaults = re.findall(r"^    (iters|batch_size|learning_rate|lora_rank): \w+ = Field\(([^,]+),", config, re.M)
    common = (root / "punie_tui/commands/common.py").read_text(encoding="utf-8")
    exit_codes = re.findall(r"^(EXIT_\w+) = (\d+)", common, re.M)
    cli = (root / "punie_tui/cli.py").read_text(encoding="utf-8")
    commands = re.findall(r'"([\w-]+)"', re.search(r"COMMANDS[^=]*= \(([^)]*)\)", cli).group(1))
    top = [p.name for p in sorted((root / "punie_tui").iterdir())]
    tasks: list[tuple[str, str, str, str]] = [
        (
            "Write docs/formats.md listing the tool-call format names punie knows.",
            "docs/formats.md",
            "# Tool-call formats\n\n" + "".join(f"- `{n}`\n" for n in format_names),
            f"the {len(format_names)} format names from config.py as a list",
        ),
        (
            "Create a CHANGELOG.md with a first entry for version 0.1.0.",
            "CHANGELOG.md",
            "# Changelog\n\n## 0.1.0\n\n- First release: workspaces, dataset inspection, the home screen.\n",
            "a heading and the 0.1.0 entry",
        ),
        (
            "Add a .editorconfig that uses 4 spaces for Python and 2 for TOML.",
            ".editorconfig",
            "root = true\n\n[*.py]\nindent_style = space\nindent_size = 4\n\n[*.toml]\nindent_style = space\nindent_size = 2\n",
            "4-space indents for Python and 2-space indents for TOML",
        ),
        (
            "Make a .gitattributes that treats *.jsonl files as text with LF endings.",
            ".gitattributes",
            "*.jsonl text eol=lf\n",
            "one rule: JSONL files are text with LF line endings",
        ),
        (
            "Save a notes/ideas.md with two ideas: a dark theme toggle and a label undo.",
            "notes/ideas.md",
            "# Ideas\n\n- A dark theme toggle on every screen.\n- Undo for the last label decision.\n",
            "the two ideas as a list",
        ),
        (
            "Create requirements-dev.txt with pytest and hypothesis.",
            "requirements-dev.txt",
            "pytest>=8\nhypothesis>=6.100\n",
            "pytest and hypothesis, one per line",
        ),
        (
            "Write a minimal punie.toml for a workspace that trains Qwen2.5-Coder-1.5B.",
            "workspaces/qwen15/punie.toml",
            'model = "mlx-community/Qwen2.5-Coder-1.5B-Instruct-4bit"\ntarget_format = "qwen25-json"\n\n[training]\niters = 200\nbatch_size = 2\n',
            "the model, the qwen25-json target format and a short [training] section",
        ),
        (
            "Create a tools.json that only offers read_file.",
            "workspaces/readonly/tools.json",
            json.dumps(
                [{"type": "function", "function": {"name": "read_file", "description": "Read a text file.", "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}}],
                indent=2,
            )
            + "\n",
            "a single read_file definition",
        ),
        (
            "Write two eval queries to workspaces/readonly/queries.jsonl, one tool and one direct.",
            "workspaces/readonly/queries.jsonl",
            '{"prompt": "What is in README.md?", "expected": "tool", "tool": "read_file"}\n'
            '{"prompt": "What is a LoRA adapter?", "expected": "direct"}\n',
            "one tool query and one direct query",
        ),
        (
            "Add a scripts/lint.sh that runs lint-imports.",
            "scripts/lint.sh",
            "#!/bin/sh\nset -e\nlint-imports\n",
            "a shell script that stops on the first error and runs lint-imports",
        ),
        (
            "Put a short docs/keys.md together: ctrl+p palette, f1 home, ctrl+q quit.",
            "docs/keys.md",
            "# Keys\n\n| key | action |\n| --- | --- |\n| ctrl+p | command palette |\n| f1 | home |\n| ctrl+q | quit |\n",
            "a table of the three keys",
        ),
        (
            "Create docs/core.md listing the modules in punie_tui/core.",
            "docs/core.md",
            "# Core modules\n\n" + "".join(f"- `punie_tui/core/{m}.py`\n" for m in core),
            f"the {len(core)} core modules as a list",
        ),
        (
            "Write a .python-version file pinning Python 3.11.",
            ".python-version",
            "3.11\n",
            "the single line 3.11",
        ),
        (
            "Write docs/training-defaults.md with the default iters, batch_size, learning_rate and lora_rank.",
            "docs/training-defaults.md",
            "# Training defaults\n\n| option | default |\n| --- | --- |\n" + "".join(f"| {k} | {v} |\n" for k, v in defaults),
            f"a table of the {len(defaults)} defaults as config.py sets them",
        ),
        (
            "Create docs/exit-codes.md documenting the command exit codes.",
            "docs/exit-codes.md",
            "# Exit codes\n\n" + "".join(f"- `{v}`: `{k}`\n" for k, v in exit_codes),
            f"the {len(exit_codes)} exit codes from commands/common.py",
        ),
        (
            "Write docs/commands.md listing the CLI's commands.",
            "docs/commands.md",
            "# Commands\n\n" + "".join(f"- `punie-tui {c}`\n" for c in commands),
            f"{len(commands)} command{'s' if len(commands) != 1 else ''} from cli.py's COMMANDS",
        ),
        (
            "Save the names of everything in punie_tui/ to notes/layout.txt, one per line.",
            "notes/layout.txt",
            "".join(f"{name}\n" for name in top),
            f"the {len(top)} names, one per line",
        ),
        (
            "Add a .dockerignore that keeps .venv, runs and .punie out of images.",
            ".dockerignore",
            ".venv/\nruns/\n.punie/\n",
            "the three folders, one per line",
        ),
        (
            "Create scripts/demo.sh that opens the app on the demo workspace.",
            "scripts/demo.sh",
            "#!/bin/sh\nexec punie-tui \"$@\"\n",
            "a two-line script that runs punie-tui with any arguments you pass",
        ),
        (
            "Create an empty-looking notes/todo.md with just a heading 'Todo'.",
            "notes/todo.md",
            "# Todo\n",
            "the heading only",
        ),
    ]
    for module in rng.sample(core, 3):
        tasks.append(
            (
                f"Add a test file tests/unit/test_{module}_imports.py that checks punie_tui.core.{module} imports without textual.",
                f"tests/unit/test_{module}_imports.py",
                f'"""punie_tui.core.{module} must not pull in the UI."""\n\nimport subprocess\nimport sys\n\n\n'
                f"def test_{module}_imports_without_textual():\n"
                f'    code = "import sys, punie_tui.core.{module}; print(\'textual\' in sys.modules)"\n'
                "    out = subprocess.run([sys.executable, \"-c\", code], capture_output=True, text=True, check=True)\n"
                '    assert out.stdout.strip() == "False"\n',
                f"a test that imports punie_tui.core.{module} in a fresh interpreter and checks textual stays unloaded",
            )
        )
    for module in rng.sample(core, 3):
        tasks.append(
            (
                f"Save a one-line note in notes/{module}.md saying {module}.py needs more tests.",
                f"notes/{module}.md",
                f"`punie_tui/core/{module}.py` needs more tests.\n",
                "that one line",
            )
        )
    openers = ["", "Please ", "Could you ", "Go ahead and "]
    plans = []
    for question, path, content, what in _sample(rng, tasks, count):
        opener = rng.choice(openers)
        text = opener + (question[0].lower() + question[1:] if opener else question)
        if opener == "Could you ":
            text = text.rstrip(".") + "?"
        plans.append(Plan("write", text, "write_file", {"path": path, "content": content}, answer_write(path, what)))
    return plans
