"""Write tasks for the demo tool examples: files a user asks the assistant to create, with content
taken from the snapshot wherever it describes the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

from demo_answers import answer_write
from demo_tool_examples import Phrasing, Plan, python_files, sample


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
    for question, path, content, what in sample(rng, tasks, count):
        opener = rng.choice(openers)
        text = opener + (question[0].lower() + question[1:] if opener else question)
        if opener == "Could you ":
            text = text.rstrip(".") + "?"
        plans.append(Plan("write", text, "write_file", {"path": path, "content": content}, answer_write(path, what)))
    return plans
