"""Use every core: how many there are, and a function run in a forked copy of this process.

A fork shares the parent's memory (a big file's bytes are not copied or pickled to get there); only
the result travels back, pickled through a pipe. Forking is done only where it is safe: on a POSIX
system, from a process with no other thread running (a fork copies one thread of a process, and a
lock another thread held would stay held in the child forever).
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class ForkFailed(Exception):
    """The forked process raised, or ended without a result; the message says which."""


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


class Forked:
    """`fn(*args)` running in a forked child from construction; `result()` waits for its value."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        # Buffered output would otherwise be written twice, once by each process.
        sys.stdout.flush()
        sys.stderr.flush()
        self._failure: str | None = None
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError as exc:  # out of processes or memory: the caller does the work itself
            os.close(read_end)
            os.close(write_end)
            self._failure = f"could not fork: {exc}"
            return
        if pid == 0:
            os.close(read_end)
            status = 0
            try:
                payload = pickle.dumps((True, fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
                payload = pickle.dumps((False, f"{type(exc).__name__}: {exc}"))
                status = 1
            try:
                with os.fdopen(write_end, "wb") as out:
                    out.write(payload)
            finally:
                # No interpreter shutdown in the child: no atexit handlers, no flushing the parent's buffers.
                os._exit(status)
        os.close(write_end)
        self._pid, self._fd = pid, read_end

    def result(self) -> Any:
        if self._failure is not None:
            raise ForkFailed(self._failure)
        chunks = []
        while data := os.read(self._fd, 1 << 20):
            chunks.append(data)
        os.close(self._fd)
        _, status = os.waitpid(self._pid, 0)
        if not chunks:
            raise ForkFailed(f"the worker process ended without a result (wait status {status})")
        ok, value = pickle.loads(b"".join(chunks))
        if not ok:
            raise ForkFailed(value)
        return value


def shares(items: list[T], minimum: int) -> list[list[T]]:
    """`items` cut into one run per usable core, each run at least `minimum` long (always one run)."""
    size = max(minimum, -(-len(items) // usable_cores()))
    return [items[i : i + size] for i in range(0, len(items), size)] or [items]


def in_parts(fn: Callable[[T], R], parts: list[T]) -> list[R]:
    """`fn` over each part, in order: the first here and the others in forked processes at the same
    time when forking is safe (else here, one after another). A part whose process fails is done here."""
    children = [Forked(fn, part) for part in parts[1:]] if len(parts) > 1 and can_fork() else []
    results = [fn(parts[0])]
    for index, part in enumerate(parts[1:]):
        try:
            results.append(children[index].result() if children else fn(part))
        except ForkFailed:
            results.append(fn(part))
    return results
