"""The three demo tools, run for real against a pinned snapshot of this repository.

The demo examples' tool results come from here: `read_file`, `run_command` (a program run without a
shell, from a short list of read-only programs) and `write_file`, each answering the way a sandboxed
agent tool would, with long output cut at a visible marker.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tarfile
import tempfile
from pathlib import Path

OUTPUT_LIMIT = 1200
READ_LIMIT = 1600
# Read-only programs whose output depends only on the snapshot (no clocks, users or git).
ALLOWED_PROGRAMS = frozenset({"grep", "ls", "wc", "find", "head", "cat"})
# Recursive programs list files in the file system's directory order, which differs between
# machines; their output is only byte-stable when at most one file is involved.
ORDER_DEPENDENT = frozenset({"find"})


class SandboxError(Exception):
    """A tool call the generator should never make (a bug in a template, not a tool result)."""


def cap(text: str, limit: int) -> str:
    """Cut long text the way the agent's tools do, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[... truncated: {len(text) - limit} more characters]"


def extract_snapshot(repo: Path, commit: str, into: Path) -> Path:
    """`git archive COMMIT` of `repo` unpacked into `into/snapshot`; fails clearly without it."""
    check = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True, text=True
    )
    if check.returncode != 0:
        raise SandboxError(
            f"pinned commit {commit} is not in the repository at {repo} "
            "(a shallow clone? `git fetch --unshallow` fetches it)"
        )
    archive = into / "snapshot.tar"
    with open(archive, "wb") as handle:
        subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", commit], stdout=handle, check=True)
    root = into / "snapshot"
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    archive.unlink()
    return root


class Sandbox:
    """The tools, confined to one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _inside(self, path: str) -> Path:
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root):
            raise SandboxError(f"{path}: outside the workspace")
        return target

    def read_file(self, path: str) -> str:
        target = self._inside(path)
        if not target.is_file():
            return f"Error: no such file: {path}"
        return cap(target.read_text(encoding="utf-8"), READ_LIMIT)

    def run_command(self, command: str) -> str:
        argv = shlex.split(command)
        if not argv or argv[0] not in ALLOWED_PROGRAMS:
            raise SandboxError(f"{command}: only {', '.join(sorted(ALLOWED_PROGRAMS))} may run")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
        done = subprocess.run(argv, cwd=self.root, capture_output=True, text=True, env=env, timeout=20)
        output = done.stdout + done.stderr
        if argv[0] in ORDER_DEPENDENT or _recursive_grep(argv):
            _require_one_file(command, done.stdout)
        if done.returncode != 0:
            output += f"{'' if not output or output.endswith(chr(10)) else chr(10)}[exit code {done.returncode}]"
        return cap(output.rstrip("\n") or "(no output)", OUTPUT_LIMIT)

    def write_file(self, path: str, content: str) -> str:
        target = self._inside(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
        return f"Wrote {len(content.encode('utf-8'))} bytes ({lines} lines) to {path}"


def _recursive_grep(argv: list[str]) -> bool:
    flags = [a for a in argv[1:] if a.startswith("-")]
    short = "".join(a[1:] for a in flags if not a.startswith("--"))
    return argv[0] == "grep" and ("r" in short or "R" in short or "--recursive" in flags)


def _require_one_file(command: str, stdout: str) -> None:
    files = {line.split(":", 1)[0] for line in stdout.splitlines() if line}
    if command.startswith("find"):
        files = set(stdout.splitlines())
    if len(files) > 1:
        raise SandboxError(f"{command}: lists {len(files)} files, in an order that differs between machines")


def temporary_snapshot(repo: Path, commit: str) -> tuple[tempfile.TemporaryDirectory[str], Sandbox]:
    """A fresh snapshot in a temporary folder (kept alive by the returned handle)."""
    holder = tempfile.TemporaryDirectory(prefix="punie-demo-")
    root = extract_snapshot(repo, commit, Path(holder.name))
    return holder, Sandbox(root)
