"""One training run per machine: an advisory file lock held for the run's whole life.

Two runs at once took a machine down; the lock is released by the kernel when its holder dies,
so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from punie_tui.locations import user_data_dir


class RunLockedError(RuntimeError):
    """Another run holds the lock; the message says which process and run folder."""


def default_lock_path() -> Path:
    return user_data_dir() / "train.lock"


class RunLock:
    """`with RunLock(run_dir):` holds the machine's training lock or raises RunLockedError."""

    def __init__(self, run_dir: Path, path: Path | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.path = path or default_lock_path()
        self._fd = -1

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode("utf-8", errors="replace")
            os.close(fd)
            raise RunLockedError(f"another training run is active ({_describe(holder)}); lock file {self.path}") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "run_dir": str(self.run_dir)}).encode("utf-8"))
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _describe(holder: str) -> str:
    try:
        info = json.loads(holder)
        return f"pid {info['pid']}, run folder {info['run_dir']}"
    except (json.JSONDecodeError, KeyError, TypeError):
        return "holder unknown"
