"""Final answers for the demo tool examples, each computed from the real tool result alone, so an
answer never states more than the tool showed."""

from __future__ import annotations

import re
from collections.abc import Callable


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


def answer_definition(name: str, def_kind: str) -> Callable[[str], str]:
    def answer(result: str) -> str:
        rows = [r for r in _grep_lines(result) if re.search(rf"\b{def_kind} {name}\(", r[2])]
        if not rows:
            return f"The search found no definition of `{name}` under punie_tui/."
        path, line, text = rows[0]
        if def_kind == "class":
            kind = "a class"
        elif text.startswith((" ", "\t")):
            kind = "a method (the line is indented, so it belongs to a class)"
        else:
            kind = "a function"
        return f"`{name}` is {kind} defined in `{path}`, line {line}:\n\n    {text.strip()}"

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
