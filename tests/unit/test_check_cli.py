"""`punie-tui check`, `fix` and `convert` as a user runs them: real subprocesses, exit codes, output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from punie_tui.core.diagnostics import CODES

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SYSTEM = {"role": "system", "content": "Be brief."}
CALL = '<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}\n</tool_call>'
WRONG = '<tool_call>\n{"tool": "read_file", "args": {"path": "a.py"}}\n</tool_call>'
TOOLS = [{"type": "function", "function": {"name": "read_file", "parameters": {
    "type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}}]


def punie(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "punie_tui", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120)


def chat(content: str, user: str = "Show a.py") -> dict:
    return {"messages": [SYSTEM, {"role": "user", "content": user}, {"role": "assistant", "content": content}]}


def write(path: Path, records: list[dict | str]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def test_check_exits_0_on_clean_data_and_1_with_errors(tmp_path: Path) -> None:
    clean = write(tmp_path / "clean.jsonl", [chat(CALL)])
    broken = write(tmp_path / "broken.jsonl", [chat(CALL), chat(WRONG, user="b")])
    assert punie("check", clean).returncode == 0
    result = punie("check", broken)
    assert result.returncode == 1
    assert f"{broken}:2: error tool-call-wrong-key:" in result.stdout
    assert "1 files: 1 errors, 0 warnings; target qwen25-json" in result.stdout


def test_check_exits_2_for_a_missing_file_or_a_binary_one(tmp_path: Path) -> None:
    missing = punie("check", tmp_path / "nope.jsonl")
    assert missing.returncode == 2 and "nope.jsonl: no such file" in missing.stderr
    binary = tmp_path / "model.jsonl"
    binary.write_bytes(b"\x00\x01\x02")
    result = punie("check", binary)
    assert result.returncode == 2 and "not a text file" in result.stderr


def test_check_json_has_the_documented_shape(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [chat(CALL), chat(WRONG, user="b"), chat(CALL)])
    result = punie("check", path, "--json")
    assert result.returncode == 1
    out = json.loads(result.stdout)
    assert out["files"] == [{"path": str(path), "records": 3, "errors": 1, "warnings": 1, "formats": {"qwen25-json": 3}}]
    assert [(d["line"], d["code"], d["severity"], d["fixable"]) for d in out["diagnostics"]] == [
        (2, "tool-call-wrong-key", "error", True), (3, "duplicate-example", "warning", True)]
    assert set(out["diagnostics"][0]) == {"path", "line", "code", "severity", "message", "fixable"}


def test_list_codes_documents_every_code_with_defect_and_fix() -> None:
    result = punie("check", "--list-codes")
    assert result.returncode == 0
    for code in CODES:
        assert f"\n{code}  [" in "\n" + result.stdout
    as_json = json.loads(punie("check", "--list-codes", "--json").stdout)
    assert [c["code"] for c in as_json] == list(CODES)
    assert all(c["defect"] and c["fixed"] for c in as_json)


def test_folders_expand_to_their_jsonl_files_and_train_valid_leaks_are_found(tmp_path: Path) -> None:
    write(tmp_path / "train.jsonl", [chat(CALL), chat("Hello.", user="hi")])
    write(tmp_path / "valid.jsonl", [chat("Hello.", user="HI")])
    (tmp_path / "notes.txt").write_text("not a dataset")
    out = json.loads(punie("check", tmp_path, "--json").stdout)
    assert sorted(Path(f["path"]).name for f in out["files"]) == ["train.jsonl", "valid.jsonl"]
    assert [(Path(d["path"]).name, d["line"], d["code"]) for d in out["diagnostics"]] == [("valid.jsonl", 1, "train-valid-leak")]


def test_target_and_tools_options_change_what_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [chat(CALL), chat(CALL.replace("read_file", "delete_all"), user="b")])
    tools = tmp_path / "my_tools.json"
    tools.write_text(json.dumps(TOOLS))
    codes = [d["code"] for d in json.loads(punie("check", path, "--json", "--tools", tools).stdout)["diagnostics"]]
    assert codes == ["tool-call-unknown-tool"]
    codes = [d["code"] for d in json.loads(punie("check", path, "--json", "--target", "qwen3-xml").stdout)["diagnostics"]]
    assert codes == ["format-mismatch", "format-mismatch"]


def test_the_workspace_punie_toml_and_tools_json_are_used(tmp_path: Path) -> None:
    (tmp_path / "punie.toml").write_text('target_format = "json-fence"\nsystem_prompt = "Be brief."\n')
    (tmp_path / "tools.json").write_text(json.dumps(TOOLS))
    write(tmp_path / "data.jsonl", [chat("```json\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"a.py\", \"x\": 1}}\n```")])
    out = json.loads(punie("check", tmp_path / "data.jsonl", "--json").stdout)
    assert [d["code"] for d in out["diagnostics"]] == ["tool-call-bad-arguments"]
    assert "unexpected argument 'x'" in out["diagnostics"][0]["message"]


def test_check_reports_the_real_excerpts_of_the_small_workspace(tmp_path: Path) -> None:
    workspace = shutil.copytree(FIXTURES / "small_workspace", tmp_path / "ws")
    out = json.loads(punie("check", workspace, "--json").stdout)
    found = {(Path(d["path"]).name, d["line"], d["code"]) for d in out["diagnostics"]}
    assert {("hand_authored.jsonl", 3, "tool-call-invalid-json"), ("hand_authored.jsonl", 4, "tool-call-invalid-json"),
            ("poc.jsonl", 1, "tool-call-wrong-key"), ("poc.jsonl", 4, "invalid-jsonl-line")} <= found


def test_fix_prints_a_unified_diff_and_changes_nothing_without_write(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [chat(CALL), chat(WRONG, user="b")])
    before = path.read_bytes()
    result = punie("fix", path)
    assert result.returncode == 1
    assert result.stdout.startswith(f"--- {path}\n+++ {path}\n@@ ")
    assert '-{"messages"' in result.stdout and '\\"tool\\": \\"read_file\\"' in result.stdout
    assert "--write" in result.stderr
    assert path.read_bytes() == before


def test_fix_write_applies_atomically_keeping_a_backup_and_then_check_is_clean(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [chat(CALL), chat(WRONG, user="b"), chat(CALL)])
    before = path.read_bytes()
    result = punie("fix", path, "--write")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d.jsonl.bak").read_bytes() == before
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) == 2 and lines[0] == before.splitlines(keepends=True)[0]
    assert punie("check", path).returncode == 0
    assert punie("fix", path).returncode == 0  # nothing left to do


def test_fix_code_limits_the_fixes(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [chat(WRONG), chat(WRONG)])
    punie("fix", path, "--code", "duplicate-example", "--write")
    assert [json.loads(line)["messages"][2]["content"] for line in path.read_text().splitlines()] == [WRONG]


def test_json_repairs_are_suggested_and_only_written_when_accepted(tmp_path: Path) -> None:
    bad = chat("<tool_call>\n{'name': 'read_file', 'arguments': {'path': 'a.py'}}\n</tool_call>")
    path = write(tmp_path / "d.jsonl", [bad])
    result = punie("fix", path, "--write")
    assert "1 json-repair suggestions" in result.stdout and "--accept-repairs" in result.stdout
    assert json.loads(path.read_text()) == bad
    assert punie("fix", path, "--write", "--accept-repairs").returncode == 0
    assert json.loads(path.read_text()) == chat(CALL)


def test_convert_writes_the_target_format_to_a_file_or_stdout(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [chat(CALL), chat("Just an answer.", user="hi")])
    out = tmp_path / "out.jsonl"
    result = punie("convert", path, "--to", "qwen3-xml", "-o", out)
    assert result.returncode == 0, result.stderr
    assert "1 records converted to qwen3-xml" in result.stderr
    first, second = out.read_text().splitlines()
    assert "<function=read_file>" in json.loads(first)["messages"][2]["content"]
    assert second == path.read_text().splitlines()[1]
    stdout = punie("convert", out, "--to", "qwen25-json").stdout
    assert json.loads(stdout.splitlines()[0]) == chat(CALL)


def test_convert_keeps_records_it_cannot_convert_and_says_why(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [chat("<tool_call>\n{'name': 1}\n</tool_call>")])
    result = punie("convert", path, "--to", "openai")
    assert result.returncode == 1
    assert f"{path}:1: kept as it was" in result.stderr
    assert result.stdout == path.read_text()


def test_real_synthetic_folder_check_counts(punie_data: Path) -> None:
    out = json.loads(punie("check", punie_data / "synthetic", "--json", "--target", "tool-call-prefix").stdout)
    assert [(Path(f["path"]).name, f["records"], f["errors"]) for f in out["files"]] == [("test.jsonl", 11, 11), ("train.jsonl", 85, 85), ("valid.jsonl", 11, 11)]
    assert {d["code"] for d in out["diagnostics"]} == {"tool-call-arguments-string"}


def test_check_without_a_path_checks_the_demo_workspace_and_finds_its_planted_defects(tmp_path: Path) -> None:
    result = punie("check", "--json")
    assert result.returncode == 1
    out = json.loads(result.stdout)
    assert [(Path(f["path"]).name, f["records"]) for f in out["files"]] == [("examples.jsonl", 244), ("incoming.jsonl", 20)]
    assert sorted({d["line"] for d in out["diagnostics"]}) == [2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
