"""The workspace's tools (`read_file`, `write_file`, `run_command`) executed for real, confined to
the workspace folder: every path is resolved and checked, commands run without a shell under a
timeout, an output cap and an allowlist, and writes or unlisted programs need an approval.
"""

from __future__ import annotations

import os
import selectors
import shlex
import shutil
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from punie_tui.core.atomic import atomic_write_text

# Read-only programs whose arguments are confined like paths; anything else asks first.
DEFAULT_ALLOWLIST: tuple[str, ...] = (
    "cat", "head", "tail", "wc", "ls", "grep", "find", "pwd", "echo", "sort", "uniq", "stat", "true",
)
# Options that make an allowlisted program run other programs or write files.
DANGEROUS_OPTIONS: dict[str, frozenset[str]] = {
    "find": frozenset({"-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls"}),
    "sort": frozenset({"-o", "--output", "--compress-program"}),
}
# Characters that only mean something to a shell; a command containing one is refused rather than
# passed literally, because the model that wrote it expected a shell to act on it.
SHELL_METACHARACTERS = frozenset("|;&$><`\n\r")
# Options that make an allowlisted program follow symlinks it meets while walking folders (named
# paths are checked anyway): the short letter, also inside a cluster like `-rR`, and the long names.
SYMLINK_FOLLOWING_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "grep": ("R", ("--dereference-recursive",)),
    "ls": ("LH", ("--dereference", "--dereference-command-line")),
    "stat": ("L", ("--dereference",)),
    "find": ("LH", ("-follow",)),
}
# Folders a tool never writes into: git hooks run code, `.punie` is punie's own state.
PROTECTED_DIRS = frozenset({".git", ".punie"})
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
MAX_PATH_CHARS = 1024
MAX_NAME_CHARS = 255

Decision = Literal["ask", "allow", "refuse"]
Status = Literal["ok", "refused", "error"]


@dataclass(frozen=True)
class SandboxPolicy:
    """How far the tools may go; the defaults ask before every write and every unlisted program."""

    allowlist: tuple[str, ...] = DEFAULT_ALLOWLIST
    writes: Decision = "ask"
    unlisted_programs: Decision = "ask"
    timeout_seconds: float = 10.0
    max_output_bytes: int = 16_384
    max_write_bytes: int = 1_000_000


@dataclass(frozen=True)
class ApprovalRequest:
    """What a tool wants to do that the policy does not allow by itself."""

    tool: str
    arguments: dict[str, Any]
    reason: str


# Returns True to allow; None as the approver means headless: every request is refused.
Approver = Callable[[ApprovalRequest], bool]


@dataclass
class ToolOutcome:
    """One tool execution as the transcript records it."""

    tool: str
    arguments: dict[str, Any]
    status: Status
    output: str
    reason: str | None = None
    approval: ApprovalRequest | None = None
    approved: bool | None = None
    seconds: float = 0.0

    def for_model(self) -> str:
        """The text the model sees as the tool's result."""
        if self.status == "ok":
            return self.output
        return f"{self.status.capitalize()}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "arguments": self.arguments,
            "status": self.status,
            "output": self.output,
            "reason": self.reason,
            "approval_needed": self.approval.reason if self.approval else None,
            "approved": self.approved,
            "seconds": round(self.seconds, 3),
        }


class Refused(Exception):
    """A tool call the sandbox will not carry out; the message says why."""


class ToolError(Exception):
    """A tool call that ran into a problem the model should see (a missing file)."""


@dataclass
class WorkspaceTools:
    """The sandboxed tools of one workspace folder, with a log of every call."""

    root: Path
    policy: SandboxPolicy = field(default_factory=SandboxPolicy)
    approver: Approver | None = None
    log: list[ToolOutcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve(strict=True)

    # Public entry points: each returns the outcome and appends it to `log`.

    def call(self, tool: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Run a tool by name with the model's arguments."""
        handlers = {"read_file": self._read_file, "write_file": self._write_file, "run_command": self._run_command}
        started = time.perf_counter()
        outcome = ToolOutcome(tool, dict(arguments), "ok", "")
        try:
            if tool not in handlers:
                raise Refused(f"unknown tool {tool!r}")
            outcome.output = handlers[tool](outcome, arguments)
        except Refused as exc:
            outcome.status, outcome.reason = "refused", str(exc)
        except ToolError as exc:
            outcome.status, outcome.reason = "error", str(exc)
        except OSError as exc:
            outcome.status, outcome.reason = "error", f"{type(exc).__name__}: {exc.strerror or exc}"
        outcome.seconds = time.perf_counter() - started
        self.log.append(outcome)
        return outcome

    def read_file(self, path: str) -> ToolOutcome:
        return self.call("read_file", {"path": path})

    def write_file(self, path: str, content: str) -> ToolOutcome:
        return self.call("write_file", {"path": path, "content": content})

    def run_command(self, command: str) -> ToolOutcome:
        return self.call("run_command", {"command": command})

    # Confinement.

    def confine(self, raw: Any) -> Path:
        """The absolute path inside the workspace that `raw` names, or Refused saying why not."""
        if not isinstance(raw, str) or not raw.strip():
            raise Refused("a path must be a non-empty string")
        if "\x00" in raw:
            raise Refused("a path must not contain NUL bytes")
        if len(raw) > MAX_PATH_CHARS or any(len(part) > MAX_NAME_CHARS for part in raw.split("/")):
            raise Refused(f"path too long (at most {MAX_PATH_CHARS} characters, {MAX_NAME_CHARS} per name)")
        if raw.startswith(("/", "~")):
            raise Refused(f"{raw!r}: absolute paths are outside the workspace; use a path relative to it")
        if ".." in Path(raw).parts:
            raise Refused(f"{raw!r}: '..' is not allowed in paths")
        # Resolving follows every symlink on the way, so a link (or linked folder) leading out shows.
        resolved = (self.root / raw).resolve(strict=False)
        if not resolved.is_relative_to(self.root):
            raise Refused(f"{raw!r} leads outside the workspace (to {resolved})")
        return resolved

    def _approve(self, outcome: ToolOutcome, decision: Decision, reason: str) -> None:
        if decision == "allow":
            return
        if decision == "refuse":
            raise Refused(f"{reason}; the policy refuses this")
        outcome.approval = ApprovalRequest(outcome.tool, outcome.arguments, reason)
        if self.approver is None:
            outcome.approved = False
            raise Refused(f"{reason}; needs approval and none can be given here (headless)")
        outcome.approved = bool(self.approver(outcome.approval))
        if not outcome.approved:
            raise Refused(f"{reason}; the user declined")

    # Tools.

    def _read_file(self, outcome: ToolOutcome, arguments: dict[str, Any]) -> str:
        raw = _argument(arguments, "path", ("file_path", "filename", "file"))
        path = self.confine(raw)
        if not path.exists():
            # Worded like the tool results in the demo training data, which the model learned to read.
            raise ToolError(f"no such file: {raw}")
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise Refused(f"{_rel(path, self.root)} is a folder; use run_command with ls")
        if not stat.S_ISREG(info.st_mode):
            # FIFOs and devices would hang or never end.
            raise Refused(f"{_rel(path, self.root)} is not a regular file")
        cap = self.policy.max_output_bytes
        with open(path, "rb") as handle:
            data = handle.read(cap + 1)
        text = data[:cap].decode("utf-8", errors="replace")
        if len(data) > cap:
            text += f"\n[truncated: file is {info.st_size} bytes, showing the first {cap}]"
        return text

    def _write_file(self, outcome: ToolOutcome, arguments: dict[str, Any]) -> str:
        path = self.confine(_argument(arguments, "path", ("file_path", "filename", "file")))
        content = _argument(arguments, "content", ("contents", "text", "data"))
        if not isinstance(content, str):
            raise Refused("content must be a string")
        rel = path.relative_to(self.root)
        if rel.parts and rel.parts[0] in PROTECTED_DIRS:
            raise Refused(f"{rel} is inside {rel.parts[0]}/, which tools never write")
        if path == self.root or path.is_dir():
            raise Refused(f"{rel} is a folder")
        if path.exists() and not path.is_file():
            raise Refused(f"{rel} is not a regular file")
        size = len(content.encode("utf-8"))
        if size > self.policy.max_write_bytes:
            raise Refused(f"content is {size} bytes, more than the {self.policy.max_write_bytes} allowed")
        self._approve(outcome, self.policy.writes, f"write {size} bytes to {rel}")
        path.parent.mkdir(parents=True, exist_ok=True)
        # Check again after approval: the folder may have changed while the user was deciding.
        self.confine(str(rel))
        atomic_write_text(path, content, backup=False)
        lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
        return f"Wrote {size} bytes ({lines} lines) to {rel}"

    def _run_command(self, outcome: ToolOutcome, arguments: dict[str, Any]) -> str:
        command = _argument(arguments, "command", ("cmd",))
        argv = self._parse_command(command)
        program = argv[0]
        if program not in self.policy.allowlist:
            self._approve(outcome, self.policy.unlisted_programs, f"run {program!r}, which is not on the allowlist")
        executable = shutil.which(program, path=SAFE_PATH)
        if executable is None:
            raise Refused(f"{program!r}: no such program")
        return self._execute([executable, *argv[1:]])

    def _parse_command(self, command: Any) -> list[str]:
        if not isinstance(command, str) or not command.strip():
            raise Refused("command must be a non-empty string")
        if "\x00" in command:
            raise Refused("command must not contain NUL bytes")
        found = sorted(SHELL_METACHARACTERS.intersection(command))
        if found:
            shown = " ".join(repr(char) for char in found)
            raise Refused(f"shell syntax ({shown}) is not supported: commands run without a shell")
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise Refused(f"cannot split the command: {exc}") from exc
        if not argv:
            raise Refused("command is empty")
        program = argv[0]
        if "=" in program:
            raise Refused("environment assignments are not supported")
        if "/" in program:
            raise Refused(f"{program!r}: name a program, not a path")
        for arg in argv[1:]:
            self._check_argument(program, arg)
        return argv

    def _check_argument(self, program: str, arg: str) -> None:
        if arg.split("=", 1)[0] in DANGEROUS_OPTIONS.get(program, ()):
            raise Refused(f"{program} {arg} runs programs or writes files")
        letters, long_names = SYMLINK_FOLLOWING_OPTIONS.get(program, ("", ()))
        short_cluster = arg.startswith("-") and not arg.startswith("--")
        if arg.split("=", 1)[0] in long_names or (short_cluster and set(letters) & set(arg[1:])):
            raise Refused(f"{program} {arg} follows symlinks, which may lead outside the workspace")
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if not value or (value.startswith("-") and value is arg):
            return
        # Anything that names a file (an existing one, or one with a slash, `~` or `..`) must stay inside.
        if "/" in value or value.startswith("~") or value == ".." or os.path.lexists(self.root / value):
            self.confine(value)

    def _execute(self, argv: list[str]) -> str:
        cap, timeout = self.policy.max_output_bytes, self.policy.timeout_seconds
        # A fixed small environment: nothing of the parent's (keys, LD_PRELOAD, PYTHONPATH) leaks in.
        env = {"PATH": SAFE_PATH, "HOME": str(self.root), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        proc = subprocess.Popen(
            argv, cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        chunks: list[bytes] = []
        total, problem = 0, None
        deadline = time.monotonic() + timeout
        assert proc.stdout is not None
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(proc.stdout, selectors.EVENT_READ)
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        problem = f"timed out after {timeout:g} s"
                        break
                    if not selector.select(remaining):
                        continue
                    data = os.read(proc.stdout.fileno(), 65536)
                    if not data:
                        break
                    chunks.append(data[: max(cap - total, 0)])
                    total += len(data)
                    if total > cap:
                        problem = f"output over {cap} bytes"
                        break
            try:
                code = proc.wait(timeout=max(deadline - time.monotonic(), 0.01)) if problem is None else None
            except subprocess.TimeoutExpired:
                problem, code = f"timed out after {timeout:g} s", None
        finally:
            if proc.poll() is None:
                _kill_group(proc)
            proc.stdout.close()
        text = b"".join(chunks).decode("utf-8", errors="replace").rstrip("\n")
        if problem is not None:
            return f"{text}\n[stopped: {problem}]"
        if code != 0:
            text += f"{chr(10) if text else ''}[exit code {code}]"
        return text or "(no output)"


def _kill_group(proc: subprocess.Popen) -> None:
    # The command runs in its own session, so its children go too.
    try:
        os.killpg(proc.pid, 9)
    except ProcessLookupError:
        pass
    proc.wait()


def _argument(arguments: dict[str, Any], name: str, aliases: tuple[str, ...]) -> Any:
    # Models trained on other datasets name the same argument differently (`file_path`, `cmd`).
    for key in (name, *aliases):
        if key in arguments:
            return arguments[key]
    raise Refused(f"missing argument {name!r}")


def _rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) or "."
