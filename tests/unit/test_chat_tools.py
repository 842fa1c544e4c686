"""The sandboxed workspace tools: real files, real subprocesses, and the escapes they refuse."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from punie_tui.core.chat.tools import ApprovalRequest, SandboxPolicy, WorkspaceTools


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("TOP SECRET\n")
    return folder


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello\nworld\n")
    (folder / "src").mkdir()
    (folder / "src" / "app.py").write_text("print('hi')\n")
    return folder


@pytest.fixture()
def tools(root: Path) -> WorkspaceTools:
    return WorkspaceTools(root)


def assert_refused(outcome, *words: str) -> None:
    assert outcome.status == "refused", outcome
    for word in words:
        assert word in outcome.reason


# What works.

def test_read_file_returns_the_file_text(tools):
    outcome = tools.read_file("src/app.py")
    assert outcome.status == "ok"
    assert outcome.output == "print('hi')\n"
    assert outcome.for_model() == "print('hi')\n"


def test_read_file_of_a_missing_file_is_an_error_the_model_sees(tools):
    outcome = tools.read_file("missing.txt")
    assert outcome.status == "error"
    assert outcome.for_model() == "Error: no such file: missing.txt"


def test_run_command_runs_an_allowlisted_program_in_the_workspace(tools):
    outcome = tools.run_command("grep -n world notes.txt")
    assert outcome.status == "ok"
    assert outcome.output == "2:world"
    assert tools.run_command("pwd").output.strip() == str(tools.root)


def test_run_command_reports_a_failing_exit_code(tools):
    outcome = tools.run_command("grep nothing-like-this notes.txt")
    assert outcome.status == "ok"
    assert outcome.output == "[exit code 1]"


def test_write_file_with_approval_writes_atomically(root):
    asked: list[ApprovalRequest] = []
    tools = WorkspaceTools(root, approver=lambda request: asked.append(request) or True)
    outcome = tools.write_file("out/result.txt", "done\n")
    assert outcome.status == "ok" and outcome.approved is True
    assert outcome.output == "Wrote 5 bytes (1 lines) to out/result.txt"
    assert (root / "out" / "result.txt").read_text() == "done\n"
    assert asked[0].tool == "write_file" and "out/result.txt" in asked[0].reason


def test_every_call_is_logged_in_order(tools):
    tools.read_file("notes.txt")
    tools.run_command("ls")
    assert [o.tool for o in tools.log] == ["read_file", "run_command"]


# Approvals.

def test_headless_write_is_refused_and_recorded(root, tools):
    outcome = tools.write_file("new.txt", "x")
    assert_refused(outcome, "headless")
    assert outcome.approval is not None and outcome.approved is False
    assert outcome.to_json()["approval_needed"].startswith("write 1 bytes")
    assert not (root / "new.txt").exists()


def test_declined_write_is_refused(root):
    tools = WorkspaceTools(root, approver=lambda request: False)
    assert_refused(tools.write_file("new.txt", "x"), "declined")
    assert not (root / "new.txt").exists()


def test_writes_allowed_by_policy_need_no_approver(root):
    tools = WorkspaceTools(root, policy=SandboxPolicy(writes="allow"))
    assert tools.write_file("new.txt", "x").status == "ok"


def test_unlisted_program_asks_and_runs_when_approved(root):
    asked = []
    tools = WorkspaceTools(root, approver=lambda request: asked.append(request.reason) or True)
    outcome = tools.run_command("basename a/b.txt")
    assert outcome.status == "ok" and outcome.output == "b.txt"
    assert "not on the allowlist" in asked[0]


# Escapes: at least fifteen kinds, each refused.

def test_escape_dotdot_path_is_refused(tools):
    assert_refused(tools.read_file("../outside/secret.txt"), "'..'")


def test_escape_dotdot_in_the_middle_is_refused(tools):
    assert_refused(tools.read_file("src/../../outside/secret.txt"), "'..'")


def test_escape_absolute_path_is_refused(tools, outside):
    assert_refused(tools.read_file(str(outside / "secret.txt")), "absolute")


def test_escape_home_tilde_is_refused(tools):
    assert_refused(tools.read_file("~/.bashrc"), "absolute")


def test_escape_symlink_to_a_file_outside_is_refused(root, tools, outside):
    (root / "link.txt").symlink_to(outside / "secret.txt")
    outcome = tools.read_file("link.txt")
    assert_refused(outcome, "outside the workspace")
    assert "TOP SECRET" not in outcome.output


def test_escape_through_a_symlinked_folder_is_refused(root, tools, outside):
    (root / "linked").symlink_to(outside, target_is_directory=True)
    assert_refused(tools.read_file("linked/secret.txt"), "outside the workspace")


def test_escape_symlink_inside_the_workspace_is_allowed(root, tools):
    (root / "alias.txt").symlink_to(root / "notes.txt")
    assert tools.read_file("alias.txt").output == "hello\nworld\n"


def test_escape_nul_byte_in_path_is_refused(tools):
    assert_refused(tools.read_file("notes.txt\x00.png"), "NUL")


def test_escape_device_path_is_refused(root, tools):
    assert_refused(tools.read_file("/dev/zero"), "absolute")
    (root / "zero").symlink_to("/dev/zero")
    assert_refused(tools.read_file("zero"), "outside the workspace")


def test_escape_fifo_in_the_workspace_is_not_read(root, tools):
    os.mkfifo(root / "pipe")
    assert_refused(tools.read_file("pipe"), "not a regular file")


def test_escape_very_long_path_is_refused(tools):
    assert_refused(tools.read_file("a/" * 600 + "x"), "too long")
    assert_refused(tools.read_file("x" * 300), "too long")


def test_escape_writing_outside_is_refused_even_when_approved(root, outside):
    tools = WorkspaceTools(root, approver=lambda request: True)
    assert_refused(tools.write_file("../outside/pwned.txt", "x"), "'..'")
    assert_refused(tools.write_file(str(outside / "pwned.txt"), "x"), "absolute")
    assert not (outside / "pwned.txt").exists()


def test_escape_writing_through_a_symlink_is_refused(root, outside):
    (root / "trap.txt").symlink_to(outside / "secret.txt")
    tools = WorkspaceTools(root, approver=lambda request: True)
    assert_refused(tools.write_file("trap.txt", "overwritten"), "outside the workspace")
    assert (outside / "secret.txt").read_text() == "TOP SECRET\n"


def test_escape_writing_git_hooks_is_refused(root):
    (root / ".git" / "hooks").mkdir(parents=True)
    tools = WorkspaceTools(root, approver=lambda request: True)
    assert_refused(tools.write_file(".git/hooks/pre-commit", "#!/bin/sh\n"), ".git/")


def test_escape_huge_write_is_refused(root):
    tools = WorkspaceTools(root, policy=SandboxPolicy(writes="allow", max_write_bytes=100))
    assert_refused(tools.write_file("big.txt", "x" * 101), "more than the 100")


@pytest.mark.parametrize(
    "command",
    ["cat notes.txt | head", "ls; rm -rf x", "ls && echo hi", "echo $HOME", "ls > out.txt", "cat < notes.txt",
     "ls &", "ls\nrm notes.txt"],
)
def test_escape_shell_metacharacters_are_refused(tools, command):
    assert_refused(tools.run_command(command), "without a shell")


def test_escape_command_substitution_is_refused(tools):
    assert_refused(tools.run_command("echo `id`"), "without a shell")
    assert_refused(tools.run_command("echo $(id)"), "without a shell")


def test_escape_command_argument_outside_is_refused(tools, outside):
    assert_refused(tools.run_command(f"cat {outside / 'secret.txt'}"), "absolute")
    assert_refused(tools.run_command("cat ../outside/secret.txt"), "'..'")
    assert_refused(tools.run_command(f"grep --file={outside / 'secret.txt'} notes.txt"), "absolute")


def test_escape_command_on_a_symlink_out_is_refused(root, tools, outside):
    (root / "link.txt").symlink_to(outside / "secret.txt")
    assert_refused(tools.run_command("cat link.txt"), "outside the workspace")


def test_escape_symlink_following_options_are_refused(tools):
    assert_refused(tools.run_command("grep -rR secret ."), "follows symlinks")
    assert_refused(tools.run_command("ls --dereference"), "follows symlinks")


@pytest.mark.parametrize("command", ["find . -exec cat {} +", "find . -delete", "find . -fprint out.txt", "sort -o out.txt notes.txt"])
def test_escape_options_that_run_programs_or_write_files_are_refused(tools, command):
    assert_refused(tools.run_command(command), "runs programs or writes files")


def test_escape_find_following_symlinks_is_refused(tools):
    assert_refused(tools.run_command("find -L . -name x"), "follows symlinks")


def test_escape_program_given_as_a_path_is_refused(tools):
    assert_refused(tools.run_command("/bin/cat notes.txt"), "not a path")
    assert_refused(tools.run_command("./evil.sh"), "not a path")


def test_escape_non_allowlisted_program_is_refused_headless(tools):
    outcome = tools.run_command("rm notes.txt")
    assert_refused(outcome, "not on the allowlist", "headless")
    assert (tools.root / "notes.txt").exists()


def test_escape_non_allowlisted_program_is_refused_by_policy(root):
    tools = WorkspaceTools(root, policy=SandboxPolicy(unlisted_programs="refuse"), approver=lambda request: True)
    assert_refused(tools.run_command("rm notes.txt"), "policy refuses")


def test_escape_environment_assignment_is_refused(tools):
    assert_refused(tools.run_command("LD_PRELOAD=/tmp/x.so ls"), "environment assignments")


def test_escape_parent_environment_does_not_leak(root, monkeypatch):
    monkeypatch.setenv("PUNIE_TEST_SECRET", "s3cret")
    tools = WorkspaceTools(root, policy=SandboxPolicy(allowlist=("printenv",)))
    outcome = tools.run_command("printenv")
    assert outcome.status == "ok"
    assert "s3cret" not in outcome.output and "LD_PRELOAD" not in outcome.output
    assert f"HOME={root.resolve()}" in outcome.output


def test_escape_huge_output_is_capped(root):
    (root / "big.txt").write_text("y" * 100_000)
    tools = WorkspaceTools(root, policy=SandboxPolicy(max_output_bytes=1000))
    outcome = tools.run_command("cat big.txt")
    assert "[stopped: output over 1000 bytes]" in outcome.output
    assert len(outcome.output) < 1100
    assert "[truncated" in tools.read_file("big.txt").output


def test_escape_hanging_command_is_killed_at_the_timeout(root):
    tools = WorkspaceTools(root, policy=SandboxPolicy(timeout_seconds=0.5, unlisted_programs="allow"))
    outcome = tools.run_command("sleep 30")
    assert "[stopped: timed out after 0.5 s]" in outcome.output
    assert outcome.seconds < 5


def test_escape_unbalanced_quotes_are_refused(tools):
    assert_refused(tools.run_command("echo 'unterminated"), "cannot split")


def test_unknown_tool_is_refused(tools):
    assert_refused(tools.call("delete_everything", {}), "unknown tool")
