"""Why a training run died: classify crash output (stderr or a log) into a failure cause.

Shared by the runner (the worker's stderr) and the log parser (old runs' logs), so a run that
failed here and one that failed on someone's Mac last month get the same cause.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterable

from punie_tui.core.training.events import FailureCause

# Ordered: the first pattern that matches any line decides. Memory beats data errors because an
# out-of-memory abort can trail a harmless warning about data.
_PATTERNS: tuple[tuple[FailureCause, re.Pattern[str]], ...] = (
    ("out-of-memory", re.compile(r"\[METAL\] Command buffer execution failed: Insufficient Memory", re.I)),
    ("out-of-memory", re.compile(r"kIOGPUCommandBufferCallbackErrorOutOfMemory|std::bad_alloc|\bMemoryError\b")),
    ("out-of-memory", re.compile(r"\[malloc(?:_or_wait)?\] Unable to allocate|Out of memory", re.I)),
    ("disk-full", re.compile(r"No space left on device|\[Errno 28\]|ENOSPC")),
    (
        "data-error",
        re.compile(
            r"(?:Test|Training|Validation) set not found"
            r"|Unsupported data format"
            r"|Dataset must have at least batch_size"
            r"|Prompt masking not supported"
            r"|JSONDecodeError"
            r"|Not found Hugging Face dataset"
        ),
    ),
    ("killed", re.compile(r"^\s*(?:Killed|Terminated)(?::\s*9)?\s*$|^KeyboardInterrupt\s*$")),
)

_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)\b.*")


def classify_line(line: str) -> FailureCause | None:
    """The failure cause one output line proves, or None."""
    for cause, pattern in _PATTERNS:
        if pattern.search(line):
            return cause
    return None


def classify_output(lines: Iterable[str]) -> tuple[FailureCause, str]:
    """The cause and the most telling line of a crashed run's output ('unknown' if nothing matches)."""
    lines = [line.rstrip() for line in lines]
    for cause, pattern in _PATTERNS:
        for line in lines:
            if pattern.search(line):
                return cause, line.strip()
    exceptions = [line for line in lines if _EXCEPTION_LINE.match(line)]
    if exceptions:
        return "unknown", exceptions[-1].strip()
    tail = [line for line in lines if line.strip()]
    return "unknown", tail[-1].strip() if tail else ""


def classify_exit(exit_code: int, lines: Iterable[str]) -> tuple[FailureCause, str]:
    """The cause of a worker's non-zero exit: its output first, then the signal that ended it."""
    cause, message = classify_output(lines)
    if cause != "unknown":
        return cause, message
    if exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        return "killed", f"the training process was ended by {name}"
    return cause, message or f"the training process exited with code {exit_code}"
