"""Parse mlx-lm training output into events: the old `Iter N: ...` lines and the 0.32 rich table.

Feed text as it arrives (`LogParser.feed`); tqdm bars rewrite their line with `\\r`, so only what
follows the last `\\r` of a line counts. ANSI colour codes are stripped first, so piped and
uncoloured captures parse the same. Crash traces become a `failed` event.
"""

from __future__ import annotations

import re
from pathlib import Path

from punie_tui.core.training.events import (
    CheckpointEvent,
    Event,
    FailedEvent,
    FinishedEvent,
    StartedEvent,
    TestEvent,
    TrainEvent,
    ValEvent,
)
from punie_tui.core.training.failures import classify_line, classify_output

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_NUM = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|nan|inf)"

_OLD_TRAIN = re.compile(
    rf"Iter (\d+): Train loss ({_NUM}), Learning Rate ({_NUM}), It/sec ({_NUM}), "
    rf"Tokens/sec ({_NUM}), Trained Tokens (\d+), Peak mem ({_NUM}) GB"
)
_OLD_VAL = re.compile(rf"Iter (\d+): Val loss ({_NUM}), Val took ({_NUM})s")
_OLD_SAVE = re.compile(r"Iter (\d+): Saved adapter weights to (\S+) and (\S+?)\.?$")
_OLD_FINAL = re.compile(r"Saved final weights to (\S+?)\.?$")
_TEST = re.compile(rf"Test loss ({_NUM}), Test ppl ({_NUM})")
_TRAINABLE = re.compile(r"Trainable parameters: [\d.]+% \(([\d.]+)M/([\d.]+)M\)")
_OLD_START = re.compile(r"Starting training\.\.\., iters: (\d+)")

# 0.32 table rows (cli_ui.TrainUI): `   5    4.999 ▼     16      0.1k`, `  10    val 2.394    0.38s`,
# `save  0000010_adapters.safetensors`, and the final bar `train ███ 100% · 20/20`.
_NEW_TRAIN = re.compile(rf"^\s*(\d+)\s+({_NUM})\s+[▼▲]\s+([\d,]+)\s+({_NUM})k\s*$")
_NEW_VAL = re.compile(rf"^\s*(\d+)\s+val\s+({_NUM})\s+({_NUM})s\s*$")
_NEW_SAVE = re.compile(r"^\s*save\s+(\S*?(\d+)_adapters\.safetensors)\s*$")
_NEW_BAR = re.compile(r"^\s*train\s+\S*\s+(\d+)%\s+·\s+([\d,]+)/([\d,]+)\s*$")
_PANEL_ROW = re.compile(r"^│\s+(\S.*?\S)\s{2,}(\S.*?)\s+│$")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _int(text: str) -> int:
    return int(text.replace(",", ""))


class LogParser:
    """Incremental parser: `feed` chunks of a log, get the events completed so far."""

    def __init__(self) -> None:
        self._partial = ""
        self._panel: dict[str, str] = {}
        self._trainable: tuple[int, int] | None = None
        self._traceback: list[str] | None = None
        self.finished = False

    def feed(self, text: str) -> list[Event]:
        data = self._partial + text
        *lines, self._partial = data.split("\n")
        events: list[Event] = []
        for line in lines:
            events.extend(self._line(line))
        return events

    def finish(self) -> list[Event]:
        """Events of a last line without a newline, and of a traceback cut off by the end of the log."""
        events = self._line(self._partial) if self._partial else []
        self._partial = ""
        if self._traceback:
            events.append(self._failed_from_traceback())
        return events

    def _failed_from_traceback(self) -> FailedEvent:
        cause, message = classify_output(self._traceback or [])
        self._traceback = None
        return FailedEvent(cause=cause, message=message)

    def _line(self, raw: str) -> list[Event]:
        line = strip_ansi(raw.split("\r")[-1]).rstrip()
        events: list[Event] = []
        if self._traceback is not None:
            self._traceback.append(line)
            # The exception line is the first unindented line after the frames.
            if line and not line[0].isspace() and not line.startswith(("Traceback", "During handling", "The above")):
                events.append(self._failed_from_traceback())
            return events
        if line.startswith("Traceback (most recent call last)"):
            self._traceback = [line]
            return events
        event = self._match(line)
        if event is not None:
            events.append(event)
        elif (cause := classify_line(line)) is not None:
            events.append(FailedEvent(cause=cause, message=line.strip()))
        return events

    def _started(self, iters: int | None) -> StartedEvent:
        trainable, total = self._trainable or (None, None)
        return StartedEvent(config=dict(self._panel), trainable_parameters=trainable, total_parameters=total, iters=iters)

    def _match(self, line: str) -> Event | None:
        if m := _OLD_TRAIN.search(line):
            return TrainEvent(
                iteration=int(m[1]),
                train_loss=float(m[2]),
                learning_rate=float(m[3]),
                iterations_per_second=float(m[4]),
                tokens_per_second=float(m[5]),
                trained_tokens=int(m[6]),
                peak_memory_gb=float(m[7]),
            )
        if m := _OLD_VAL.search(line):
            return ValEvent(iteration=int(m[1]), val_loss=float(m[2]), val_time=float(m[3]))
        if m := _OLD_SAVE.search(line):
            return CheckpointEvent(iteration=int(m[1]), path=m[3])
        if _OLD_FINAL.search(line):
            self.finished = True
            return FinishedEvent()
        if m := _TEST.search(line):
            return TestEvent(test_loss=float(m[1]), test_ppl=float(m[2]))
        if m := _OLD_START.search(line):
            return self._started(iters=int(m[1]))
        if m := _TRAINABLE.search(line):
            self._trainable = (round(float(m[1]) * 1e6), round(float(m[2]) * 1e6))
            # Old mlx-lm announces the iteration count on the next line; 0.32 printed it in its panel.
            return self._started(iters=_panel_iters(self._panel)) if self._panel else None
        if m := _NEW_TRAIN.match(line):
            return TrainEvent(
                iteration=int(m[1]),
                train_loss=float(m[2]),
                tokens_per_second=float(_int(m[3])),
                trained_tokens=round(float(m[4]) * 1000),
            )
        if m := _NEW_VAL.match(line):
            return ValEvent(iteration=int(m[1]), val_loss=float(m[2]), val_time=float(m[3]))
        if m := _NEW_SAVE.match(line):
            return CheckpointEvent(iteration=int(m[2]), path=m[1])
        if m := _NEW_BAR.match(line):
            if _int(m[2]) >= _int(m[3]):
                self.finished = True
                return FinishedEvent()
            return None
        if m := _PANEL_ROW.match(line):
            self._panel[m[1]] = m[2]
        return None


def _panel_iters(panel: dict[str, str]) -> int | None:
    value = panel.get("batch · iters", "")
    parts = value.split("·")
    if len(parts) == 2 and parts[1].strip().replace(",", "").isdigit():
        return _int(parts[1].strip())
    return None


def parse_log_text(text: str) -> list[Event]:
    parser = LogParser()
    return parser.feed(text) + parser.finish()


def parse_log(path: Path) -> list[Event]:
    """All events of a log file (undecodable bytes replaced, never dropped silently)."""
    return parse_log_text(Path(path).read_text(encoding="utf-8", errors="replace"))
