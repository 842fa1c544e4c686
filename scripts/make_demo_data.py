"""Rebuild the bundled demo workspace `data/` (examples, planted-defect file, eval queries, tools,
settings, README and tokenizer) deterministically: two runs give byte-identical files.

Tool results come from really running the tools against `git archive PINNED_COMMIT` of this
repository, so the snapshot never changes under the examples.

    python scripts/make_demo_data.py [--out DIR] [--repo DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

from demo_knowledge import DIRECT, DIRECT_QUERIES
from demo_incoming import incoming_lines
from demo_sandbox import Sandbox, SandboxError, temporary_snapshot
from demo_tokenizer import chatml, tokenizer_config, train_tokenizer
from demo_tool_examples import (
    Phrasing,
    Plan,
    code_search_plans,
    count_plans,
    list_plans,
    read_plans,
    run_plan,
    record_line,
    tool_call_text,
)
from demo_write_tasks import write_plans

from punie_tui.core.atomic import atomic_write_bytes

REPO = Path(__file__).resolve().parents[1]
# The newest main commit when the generator was written; the examples describe this snapshot.
PINNED_COMMIT = "40762de899fe88d572f946f1bc418545cbf57706"
SEED = 244
TARGET_FORMAT = "qwen25-json"
SYSTEM_PROMPT = (
    "You are Punie, a coding assistant for the punie_tui repository. Call one tool when the question "
    "needs the repository's files; answer directly when it does not. After a tool result, answer and stop.\n"
    "Tools: read_file(path), run_command(command), write_file(path, content)."
)
# Tool examples per category (164 tool + 80 direct = 244, the size of punie's own first dataset).
TOOL_COUNTS = {"code-search": 50, "read": 40, "count": 30, "list": 20, "write": 24}
BUILDERS = {
    "code-search": code_search_plans,
    "read": read_plans,
    "count": count_plans,
    "list": list_plans,
    "write": write_plans,
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a text file of the workspace and return its content (long files are cut).",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string", "description": "Path relative to the workspace root."}},
                "required": ["path"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "run_command",
            "description": "Run one read-only program (grep, ls, wc, find, head, cat) without a shell in the "
            "workspace and return its output, cut after 1200 characters.",
            "parameters": {
                "type": "object",
                "properties": {"command": {"type": "string", "description": "The command line, e.g. `grep -rn name src`."}},
                "required": ["command"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "write_file",
            "description": "Create or replace a text file in the workspace with the given content.",
            "parameters": {
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "Path relative to the workspace root."},
                    "content": {"type": "string", "description": "The complete new content of the file."},
                },
                "required": ["path", "content"],
            },
        },
    },
]
TOOL_QUERIES: list[tuple[str, str]] = [
    ("Which file contains the `Dataset` class?", "run_command"),
    ("Grep for `atomic_write_bytes` in punie_tui/core/dataset.py.", "run_command"),
    ("What is the default `lora_rank` in the training settings?", "run_command"),
    ("How many lines does punie_tui/app.py have?", "run_command"),
    ("List everything in punie_tui/screens.", "run_command"),
    ("Where is the function that splits ChatML text?", "run_command"),
    ("Count the `def` lines in punie_tui/core/labels.py.", "run_command"),
    ("Is there a file named `balance.py`? Where?", "run_command"),
    ("Which exit codes does punie_tui/commands/common.py define?", "run_command"),
    ("Search punie_tui/core/formats.py for `qwen3-xml`.", "run_command"),
    ("Show me the first 8 lines of punie_tui/cli.py.", "run_command"),
    ("How many lines are in the tests folder's conftest.py?", "run_command"),
    ("What does `ensure_demo_workspace` do? Find it first.", "run_command"),
    ("Does the core package ever import textual?", "run_command"),
    ("Which modules are in the widgets folder?", "run_command"),
    ("Open punie_tui/core/labels.py and explain the labels.", "read_file"),
    ("Explain what punie_tui/core/summary.py computes.", "read_file"),
    ("What does the .ci/run script do?", "read_file"),
    ("Read punie_tui/widgets/confirm.py and describe the widget.", "read_file"),
    ("Tell me what the home screen shows, from punie_tui/screens/home.py.", "read_file"),
    ("What are the project's dependencies in pyproject.toml?", "read_file"),
    ("Read the .gitignore and tell me what is ignored.", "read_file"),
    ("Summarise the README's quick start.", "read_file"),
    ("What do the Makefile's targets do?", "read_file"),
    ("Create docs/workspace.md explaining the files of a workspace.", "write_file"),
    ("Write a notes/release.md checklist for the first release.", "write_file"),
    ("Save a tools.json for a workspace that only has run_command.", "write_file"),
    ("Add a CODE_OF_CONDUCT.md with a short pledge.", "write_file"),
]


def tool_example(sandbox: Sandbox, plan: Plan) -> tuple[list[dict], str]:
    result, answer = run_plan(sandbox, plan)
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": plan.question},
        {"role": "assistant", "content": tool_call_text(plan.tool, plan.arguments)},
        {"role": "tool", "content": result},
        {"role": "assistant", "content": answer},
    ]
    return messages, plan.category


def build_examples(sandbox: Sandbox, rng: random.Random) -> list[tuple[list[dict], str]]:
    """Tool examples (writes last, so no read sees a written file) and direct ones, shuffled."""
    words = Phrasing(rng)
    examples = []
    for category, count in TOOL_COUNTS.items():
        plans = BUILDERS[category](sandbox.root, words, count)
        if len(plans) != count:
            raise SystemExit(f"make_demo_data: only {len(plans)} {category} examples, wanted {count}")
        examples += [tool_example(sandbox, plan) for plan in plans]
    for category, pairs in DIRECT.items():
        for question, answer in pairs:
            messages = [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer},
            ]
            examples.append((messages, category))
    rng.shuffle(examples)
    questions = Counter(messages[1]["content"] for messages, _ in examples)
    repeated = [q for q, n in questions.items() if n > 1]
    if repeated:
        raise SystemExit(f"make_demo_data: questions used twice: {repeated}")
    return examples


def query_lines(examples: list[tuple[list[dict], str]]) -> list[str]:
    """Eval queries, about two-thirds tool, none of them a training question."""
    trained = {messages[1]["content"] for messages, _ in examples}
    rows = [{"prompt": p, "expected": "tool", "tool": t} for p, t in TOOL_QUERIES]
    rows += [{"prompt": p, "expected": "direct"} for p in DIRECT_QUERIES]
    leaked = [row["prompt"] for row in rows if row["prompt"] in trained]
    if leaked:
        raise SystemExit(f"make_demo_data: eval queries also in the training data: {leaked}")
    return [json.dumps(row, ensure_ascii=False) for row in rows]


def settings_toml() -> str:
    text = (
        "# The demo workspace. Generated by scripts/make_demo_data.py; `model` is unset, so the\n"
        "# untrained demo model (hidden 128, 4 layers) is used.\n"
        f"system_prompt = {json.dumps(SYSTEM_PROMPT, ensure_ascii=False)}\n"
        f'target_format = "{TARGET_FORMAT}"\n'
        'tools_file = "tools.json"\n'
        'queries_file = "queries.jsonl"\n'
        "label_target = 0.67\n"
        "max_seq_length = 1024\n"
        "\n"
        "# A 4-layer model: adapt every layer; small steps so a CPU run reports often.\n"
        "[training]\n"
        'fine_tune_type = "lora"\n'
        "num_layers = 4\n"
        "batch_size = 4\n"
        "iters = 100\n"
        "learning_rate = 5e-4\n"
        "lora_rank = 8\n"
        "lora_scale = 20.0\n"
        "steps_per_report = 5\n"
        "steps_per_eval = 25\n"
        "save_every = 50\n"
        "val_batches = 5\n"
        "seed = 0\n"
    )
    if tomllib.loads(text)["system_prompt"] != SYSTEM_PROMPT:
        raise SystemExit("make_demo_data: punie.toml does not round-trip the system prompt")
    return text


def readme(counts: Counter[str], defects: list[tuple[str, str]], queries: list[str]) -> str:
    tool_total = sum(TOOL_COUNTS.values())
    direct_total = sum(counts.values()) - tool_total
    category_rows = "".join(
        f"| {name} | {'tool' if name in TOOL_COUNTS else 'direct'} | {counts[name]} |\n"
        for name in list(TOOL_COUNTS) + list(DIRECT)
    )
    defect_rows = "".join(f"| {number} | {defect} |\n" for number, (defect, _) in enumerate(defects, start=1))
    tool_queries = sum(1 for q in queries if '"expected": "tool"' in q)
    return (
        "# The demo workspace\n\n"
        "Generated by `python scripts/make_demo_data.py` (deterministic: a second run gives the same bytes;\n"
        "`tests/unit/test_demo_data.py` checks that). Do not edit these files by hand.\n\n"
        "| file | what |\n| --- | --- |\n"
        f"| `examples.jsonl` | {sum(counts.values())} mlx-lm chat examples about this repository: {tool_total} tool, {direct_total} direct |\n"
        f"| `incoming.jsonl` | {len(defects)} lines of new data with planted defects (table below) |\n"
        f"| `queries.jsonl` | {len(queries)} eval queries ({tool_queries} tool, {len(queries) - tool_queries} direct), none in the examples |\n"
        "| `tools.json` | `read_file(path)`, `run_command(command)`, `write_file(path, content)` as OpenAI function definitions |\n"
        "| `punie.toml` | the workspace settings: training system prompt, target format `qwen25-json`, training defaults |\n"
        "| `tokenizer/` | byte-level BPE trained on these examples, Qwen2.5 special tokens and chat template |\n\n"
        "## How the tool examples are made\n\n"
        f"Each tool example's result comes from really running the tool against `git archive {PINNED_COMMIT}`\n"
        "of this repository, unpacked in a temporary folder: `run_command` runs grep, ls, wc, find, head or\n"
        "cat without a shell (output cut after 1200 characters with a marker), `read_file` returns the file\n"
        "(cut after 1600 characters), `write_file` writes into the snapshot and confirms. The final answer is\n"
        "computed from that result. Recursive commands are used only where they list one file, because\n"
        "directory order differs between machines. Questions are worded with a seeded `random.Random`.\n\n"
        "| category | kind | examples |\n| --- | --- | --- |\n"
        f"{category_rows}\n"
        "Every example carries its category in `\"punie\": {\"category\": ...}`.\n\n"
        "## Planted defects in `incoming.jsonl`\n\n"
        "| line | defect |\n| --- | --- |\n"
        f"{defect_rows}"
    )


def write(out: Path, name: str, text: str) -> None:
    path = out / name
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, text.encode("utf-8"), backup=False)


def generate(out: Path, repo: Path = REPO) -> dict[str, object]:
    """Write the demo workspace into `out`; return numbers for the report."""
    rng = random.Random(SEED)
    holder, sandbox = temporary_snapshot(repo, PINNED_COMMIT)
    with holder:
        examples = build_examples(sandbox, rng)
        example_lines = [record_line(messages, category) for messages, category in examples]
        defects = incoming_lines(sandbox, example_lines, rng, system_prompt=SYSTEM_PROMPT, tools=TOOLS)
    queries = query_lines(examples)
    counts = Counter(category for _, category in examples)
    texts = [chatml(messages) for messages, _ in examples]
    texts += [json.dumps(tool, ensure_ascii=False) for tool in TOOLS] + [json.loads(q)["prompt"] for q in queries]
    tokenizer_json = train_tokenizer(texts)
    write(out, "examples.jsonl", "\n".join(example_lines) + "\n")
    write(out, "incoming.jsonl", "\n".join(line for _, line in defects) + "\n")
    write(out, "queries.jsonl", "\n".join(queries) + "\n")
    write(out, "tools.json", json.dumps(TOOLS, ensure_ascii=False, indent=2) + "\n")
    write(out, "punie.toml", settings_toml())
    write(out, "README.md", readme(counts, defects, queries))
    write(out, "tokenizer/tokenizer.json", tokenizer_json)
    write(out, "tokenizer/tokenizer_config.json", tokenizer_config(tokenizer_json))
    return {"examples": len(examples), "categories": dict(counts), "incoming": len(defects), "queries": len(queries)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "data", help="folder to write (default: data/)")
    parser.add_argument("--repo", type=Path, default=REPO, help="git repository holding the pinned commit")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        numbers = generate(args.out, args.repo)
    except SandboxError as exc:
        print(f"make_demo_data: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(numbers), f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
