"""The bundled demo workspace `data/`: what its files hold, and that the generator rebuilds them."""

from __future__ import annotations

import fnmatch
import importlib
import json
import re
import subprocess
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from punie_tui.config import DEFAULT_CATEGORIES, open_workspace
from punie_tui.core.dataset import load_dataset
from punie_tui.core.formats import record_formats

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
SCRIPTS = REPO / "scripts"
TOOL_CALL = re.compile(r"\A<tool_call>\n(\{.*\})\n</tool_call>\Z", re.S)
ONE_LINE_TOOLS = "Tools: read_file(path), run_command(command), write_file(path, content)."


def _generator(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    return importlib.import_module("make_demo_data")


def _examples() -> list[dict]:
    return [record.data for record in load_dataset(DATA / "examples.jsonl").records]


def _tools() -> dict[str, list[str]]:
    tools = json.loads((DATA / "tools.json").read_text(encoding="utf-8"))
    return {t["function"]["name"]: t["function"]["parameters"]["required"] for t in tools}


def _system_prompt() -> str:
    return tomllib.loads((DATA / "punie.toml").read_text(encoding="utf-8"))["system_prompt"]


@pytest.mark.slow
def test_generator_rebuilds_the_committed_data_byte_for_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the generator needs the pinned commit")
    _generator(monkeypatch).generate(tmp_path)
    generated = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(
        p.relative_to(DATA).as_posix()
        for p in DATA.rglob("*")
        if p.is_file() and p.name != "__init__.py" and "__pycache__" not in p.parts
    )
    assert generated == committed
    for name in generated:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), f"data/{name} differs from a fresh run"


@pytest.mark.slow
def test_generator_fails_clearly_when_the_pinned_commit_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    generator = _generator(monkeypatch)
    empty = tmp_path / "repo"
    empty.mkdir()
    subprocess.run(["git", "init", "-q", str(empty)], check=True)
    code = generator.main(["--out", str(tmp_path / "out"), "--repo", str(empty)])
    assert code == 2
    message = capsys.readouterr().err
    assert generator.PINNED_COMMIT in message and "not in the repository" in message
    assert not (tmp_path / "out" / "examples.jsonl").exists()


def test_examples_are_244_chat_records_two_thirds_tool() -> None:
    records = load_dataset(DATA / "examples.jsonl").records
    assert len(records) >= 240
    assert all(record.shape == "messages" for record in records)
    tool = sum(1 for record in records if record_formats(record) == ["qwen25-json"])
    direct = sum(1 for record in records if record_formats(record) == [])
    assert tool + direct == len(records)
    assert 0.64 <= tool / len(records) <= 0.70


def test_direct_examples_spread_evenly_over_the_five_categories() -> None:
    counts = Counter(e["punie"]["category"] for e in _examples() if len(e["messages"]) == 3)
    assert set(counts) == set(DEFAULT_CATEGORIES)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_tool_examples_record_a_tool_category() -> None:
    counts = Counter(e["punie"]["category"] for e in _examples() if len(e["messages"]) == 5)
    assert set(counts) == {"code-search", "read", "count", "list", "write"}


def test_tool_examples_call_a_known_tool_in_qwen25_json_then_answer_from_the_result() -> None:
    tools = _tools()
    used = Counter()
    for example in _examples():
        messages = example["messages"]
        if len(messages) == 3:
            assert [m["role"] for m in messages] == ["system", "user", "assistant"]
            assert "<tool_call>" not in messages[2]["content"]
            continue
        assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "assistant"]
        match = TOOL_CALL.match(messages[2]["content"])
        assert match, messages[2]["content"]
        call = json.loads(match.group(1))
        assert list(call) == ["name", "arguments"]
        assert sorted(call["arguments"]) == sorted(tools[call["name"]])
        assert messages[3]["content"].strip()
        assert messages[4]["content"].strip() and "<tool_call>" not in messages[4]["content"]
        used[call["name"]] += 1
    assert set(used) == {"read_file", "run_command", "write_file"}


def test_every_example_uses_the_workspace_system_prompt_with_a_one_line_tool_list() -> None:
    prompt = _system_prompt()
    assert prompt.splitlines()[-1] == ONE_LINE_TOOLS
    assert all(e["messages"][0] == {"role": "system", "content": prompt} for e in _examples())


def test_questions_are_all_different() -> None:
    questions = [e["messages"][1]["content"] for e in _examples()]
    assert len(set(questions)) == len(questions)


def test_command_output_is_capped_with_a_visible_marker() -> None:
    results = [
        e["messages"][3]["content"]
        for e in _examples()
        if len(e["messages"]) == 5 and '"run_command"' in e["messages"][2]["content"]
    ]
    cut = [r for r in results if "[... truncated:" in r]
    assert cut, "no example shows a truncated command output"
    assert all(len(r.split("\n[... truncated:")[0]) <= 1200 for r in results)


def test_write_examples_confirm_what_was_written() -> None:
    for example in _examples():
        messages = example["messages"]
        if len(messages) == 5 and '"write_file"' in messages[2]["content"]:
            call = json.loads(TOOL_CALL.match(messages[2]["content"]).group(1))
            size = len(call["arguments"]["content"].encode("utf-8"))
            assert messages[3]["content"].startswith(f"Wrote {size} bytes (")
            assert call["arguments"]["path"] in messages[4]["content"]


def test_queries_are_two_thirds_tool_and_none_is_a_training_question() -> None:
    queries = [json.loads(line) for line in (DATA / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    trained = {e["messages"][1]["content"] for e in _examples()}
    assert len(queries) >= 40
    assert not [q["prompt"] for q in queries if q["prompt"] in trained]
    tool = [q for q in queries if q["expected"] == "tool"]
    assert {q["expected"] for q in queries} == {"tool", "direct"}
    assert 0.6 <= len(tool) / len(queries) <= 0.72
    assert all(q["tool"] in _tools() for q in tool)
    assert all("tool" not in q for q in queries if q["expected"] == "direct")


def test_tools_json_defines_the_three_tools_with_every_parameter_required() -> None:
    tools = json.loads((DATA / "tools.json").read_text(encoding="utf-8"))
    assert all(t["type"] == "function" and t["function"]["description"] for t in tools)
    for tool in tools:
        parameters = tool["function"]["parameters"]
        assert parameters["type"] == "object"
        assert sorted(parameters["required"]) == sorted(parameters["properties"])
    assert _tools() == {"read_file": ["path"], "run_command": ["command"], "write_file": ["path", "content"]}


def test_punie_toml_opens_as_a_workspace_with_the_demo_settings() -> None:
    workspace = open_workspace(DATA)
    settings = workspace.settings
    assert workspace.has_settings_file
    assert settings.model is None
    assert settings.target_format == "qwen25-json"
    assert settings.label_target == 0.67
    assert settings.system_prompt == _system_prompt()
    assert settings.training.num_layers == 4
    assert [t["function"]["name"] for t in workspace.tools()] == ["read_file", "run_command", "write_file"]
    assert workspace.queries_path.is_file()


def test_the_demo_copy_has_both_datasets_tools_and_queries(demo_workspace: Path) -> None:
    workspace = open_workspace(demo_workspace)
    assert [p.name for p in workspace.dataset_paths()] == ["examples.jsonl", "incoming.jsonl"]
    assert len(workspace.tools()) == 3
    assert workspace.queries_path.is_file()


def test_every_shipped_file_matches_the_package_data_globs() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["punie_tui.data"]
    for path in DATA.rglob("*"):
        rel = path.relative_to(DATA).as_posix()
        if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts:
            assert any(fnmatch.fnmatch(rel, glob) for glob in globs), f"data/{rel} would not ship in the wheel"


def _documented_defects() -> dict[int, str]:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Planted defects in `incoming.jsonl`", 1)[1]
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d+) \| (.+) \|$", section, re.M)}


def test_readme_documents_every_line_of_incoming() -> None:
    records = load_dataset(DATA / "incoming.jsonl").records
    defects = _documented_defects()
    assert sorted(defects) == [record.line for record in records]
    assert 15 <= sum(1 for text in defects.values() if not text.startswith("clean")) <= 20


def test_each_planted_defect_is_really_in_its_documented_line() -> None:
    records = {r.line: r for r in load_dataset(DATA / "incoming.jsonl").records}
    examples = set((DATA / "examples.jsonl").read_text(encoding="utf-8").splitlines())
    prompt = _system_prompt()

    def assistant(record, index=0) -> str:
        return [t["content"] for t in record.turns() if t["role"] == "assistant"][index]

    checks = {
        'wrong key: "tool"': lambda r: '"tool": "' in assistant(r) and '"name"' not in assistant(r),
        'wrong key: "args"': lambda r: '"args": {' in assistant(r),
        "arguments given as a JSON string": lambda r: isinstance(
            json.loads(TOOL_CALL.match(assistant(r)).group(1))["arguments"], str
        ),
        "single-quoted": lambda r: "{'name': " in assistant(r),
        "unbalanced brace": lambda r: assistant(r).count("{") == assistant(r).count("}") + 1,
        "json-fence call": lambda r: record_formats(r) == ["json-fence"],
        "mixed formats": lambda r: record_formats(r) == ["qwen3-xml"],
        "double-wrapped": lambda r: r.turns()[3]["content"].startswith("<tool_response><tool_response>"),
        "unknown tool": lambda r: json.loads(TOOL_CALL.match(assistant(r)).group(1))["name"] not in _tools(),
        "missing required argument": lambda r: "content" not in json.loads(TOOL_CALL.match(assistant(r)).group(1))["arguments"],
        "exact duplicate": lambda r: r.text in examples,
        "conversation ends on a user turn": lambda r: r.turns()[-1]["role"] == "user",
        "two consecutive user turns": lambda r: [t["role"] for t in r.turns()][1:3] == ["user", "user"],
        "empty final assistant turn": lambda r: r.turns()[-1] == {"role": "assistant", "content": ""},
        "system prompt drift": lambda r: r.turns()[0]["content"] != prompt,
        "not JSON at all": lambda r: r.broken,
        "clean": lambda r: r.turns()[0]["content"] == prompt and r.turns()[-1]["content"],
    }
    found = set()
    for line, text in _documented_defects().items():
        key = next(k for k in checks if text.startswith(k))
        assert checks[key](records[line]), f"incoming.jsonl:{line} does not show: {text}"
        found.add(key)
    assert found == set(checks)


@pytest.fixture()
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    from demo_sandbox import Sandbox

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.py").write_text("def f():\n    return 1\n")
    (tmp_path / "a" / "two.py").write_text("def g():\n    return 2\n")
    (tmp_path / "big.txt").write_text("x" * 5000)
    return Sandbox(tmp_path)


@pytest.mark.slow
def test_sandbox_runs_commands_without_a_shell_and_reports_exit_codes(sandbox) -> None:
    assert sandbox.run_command('grep -n "def f" a/one.py') == "1:def f():"
    assert sandbox.run_command('grep -n "nothing" a/one.py') == "[exit code 1]"
    assert sandbox.run_command("ls a/*.py").endswith("[exit code 2]")  # no shell, so no glob


@pytest.mark.slow
def test_sandbox_cuts_long_output_with_a_marker(sandbox) -> None:
    out = sandbox.run_command("cat big.txt")
    assert out == "x" * 1200 + "\n[... truncated: 3800 more characters]"


@pytest.mark.slow
def test_sandbox_refuses_programs_outside_the_read_only_list(sandbox) -> None:
    from demo_sandbox import SandboxError

    with pytest.raises(SandboxError, match="only cat, find, grep, head, ls, wc may run"):
        sandbox.run_command('python -c "print(1)"')


@pytest.mark.slow
def test_sandbox_refuses_recursive_output_whose_order_depends_on_the_file_system(sandbox) -> None:
    from demo_sandbox import SandboxError

    assert sandbox.run_command('grep -rn "def f" a') == "a/one.py:1:def f():"
    with pytest.raises(SandboxError, match="lists 2 files"):
        sandbox.run_command('grep -rn "return" a')


def test_sandbox_write_file_confirms_bytes_and_lines_and_stays_inside(sandbox) -> None:
    from demo_sandbox import SandboxError

    assert sandbox.write_file("notes/x.md", "é\nb\n") == "Wrote 5 bytes (2 lines) to notes/x.md"
    assert (sandbox.root / "notes" / "x.md").read_text(encoding="utf-8") == "é\nb\n"
    with pytest.raises(SandboxError, match="outside the workspace"):
        sandbox.write_file("../escape.txt", "no")
