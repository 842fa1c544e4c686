"""The eval suite runner: every query through the chat core against every target, at temperature 0
with a fixed seed, scored for tool-vs-direct discrimination, tool precision and recall, loops,
turns and time; held-out and training ("seen") prompts scored apart, so memorisation shows.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Literal

from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from punie_tui.config import Workspace
from punie_tui.core.chat.agent import ChatOptions, ChatResult, run_chat
from punie_tui.core.chat.setup import ChatSetup, chat_setup, open_chat_model
from punie_tui.core.chat.tools import WorkspaceTools
from punie_tui.core.eval_suite import METRIC_NAMES, Reference, SuiteQuery
from punie_tui.core.eval_targets import Target

# A model is memorising when it scores this much better on training prompts than on held-out ones.
MEMORISATION_GAP = 0.2
# Verdicts of a model that did not stop on its own after calling tools.
LOOP_VERDICTS = ("loop", "request-limit")

Answer = Literal["tool", "direct"]


@dataclass(frozen=True)
class EvalOptions(ChatOptions):
    """Chat options plus the sampling seed; every target gets the same, so two runs agree."""

    seed: int = 0

    def model_settings(self) -> ModelSettings:
        settings = super().model_settings()
        settings["seed"] = self.seed
        return settings


@dataclass
class QueryResult:
    """One query on one target: what the model did and the chat transcript behind it."""

    query: SuiteQuery
    got: Answer
    tools: list[str]
    verdict: str
    turns: int
    seconds: float
    tokens: int
    # Whether a call matched the query's tool name and argument checks; None when not checked.
    tool_ok: bool | None
    transcript: dict[str, Any]

    @property
    def correct(self) -> bool:
        return self.got == self.query.expected

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.query.prompt,
            "set": self.query.set,
            "expected": self.query.expected,
            "got": self.got,
            "tools": self.tools,
            "verdict": self.verdict,
            "turns": self.turns,
            "seconds": round(self.seconds, 3),
            "tokens": self.tokens,
            "correct": self.correct,
            "tool_ok": self.tool_ok,
        }


def query_result(query: SuiteQuery, chat: ChatResult, seconds: float) -> QueryResult:
    """Score one finished chat against its query."""
    transcript = chat.transcript
    calls = [call for turn in transcript.turns for call in turn.tool_calls]
    got: Answer = "tool" if calls else "direct"
    tool_ok = None
    if query.checks_call and query.expected == "tool":
        tool_ok = any(query.call_matches(call) for call in calls)
    return QueryResult(
        query=query,
        got=got,
        tools=[call.name for call in calls],
        verdict=chat.verdict.kind if chat.verdict else "cancelled",
        turns=len(transcript.turns),
        seconds=seconds,
        tokens=sum(turn.tokens for turn in transcript.turns),
        tool_ok=tool_ok,
        transcript=chat.to_json(),
    )


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def metrics(results: list[QueryResult]) -> dict[str, float | None]:
    """The per-target numbers. Everything but `seen_accuracy` is over the held-out queries:
    `accuracy` is the held-out tool-vs-direct accuracy; tool precision is the share of tool calls
    that were wanted, recall the share of wanted tool calls made; the loop rate counts runs that
    repeated a call or hit the request limit. None where there was nothing to count."""
    heldout = [r for r in results if r.query.set == "heldout"]
    seen = [r for r in results if r.query.set == "seen"]
    called = [r for r in heldout if r.got == "tool"]
    wanted = [r for r in heldout if r.query.expected == "tool"]
    accuracy = _share(sum(r.correct for r in heldout), len(heldout))
    return {
        "accuracy": accuracy,
        "tool_precision": _share(sum(r.query.expected == "tool" for r in called), len(called)),
        "tool_recall": _share(sum(r.got == "tool" for r in wanted), len(wanted)),
        "loop_rate": _share(sum(r.verdict in LOOP_VERDICTS for r in heldout), len(heldout)),
        "mean_turns": _mean([r.turns for r in heldout]),
        "mean_seconds": _mean([r.seconds for r in heldout]),
        "seen_accuracy": _share(sum(r.correct for r in seen), len(seen)),
        "heldout_accuracy": accuracy,
    }


def memorisation_note(values: dict[str, float | None]) -> str:
    """The gap between training-prompt and held-out accuracy, said in words."""
    seen, heldout = values.get("seen_accuracy"), values.get("heldout_accuracy")
    if seen is None or heldout is None:
        return "Memorisation not measured: it needs both held-out queries and prompts from the training data."
    if seen - heldout >= MEMORISATION_GAP:
        return (
            f"Memorisation: {seen:.0%} right on prompts from the training data but {heldout:.0%} on held-out queries; "
            "the model learnt its training answers, not when to call a tool."
        )
    if heldout - seen >= MEMORISATION_GAP:
        return f"No memorisation: better on held-out queries ({heldout:.0%}) than on training prompts ({seen:.0%})."
    return f"No memorisation gap: {seen:.0%} on training prompts, {heldout:.0%} on held-out queries."


@dataclass
class TargetReport:
    """One target's results (as far as they got) and its numbers; `error` when it could not run."""

    target: Target
    results: list[QueryResult] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.target.name

    def metrics(self) -> dict[str, float | None]:
        return metrics(self.results)

    def to_json(self) -> dict[str, Any]:
        values = self.metrics()
        return {
            "name": self.name,
            **{key: _round(values[key]) for key in METRIC_NAMES},
            "results": [result.to_json() for result in self.results],
            "reference": False,
            "memorisation": memorisation_note(values),
            "error": self.error,
            "warnings": self.warnings,
            **self.target.to_json(),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class EvalReport:
    """A whole eval: the measured targets, the reference rows, and the queries it ran."""

    targets: list[TargetReport]
    references: list[Reference] = field(default_factory=list)
    queries: list[SuiteQuery] = field(default_factory=list)
    options: EvalOptions = field(default_factory=EvalOptions)
    cancelled: bool = False

    def best_by_behaviour(self) -> TargetReport | None:
        """The checkpoint or adapter that discriminates best (fewer loops, then earlier, on a tie)."""
        runs = [t for t in self.targets if t.target.iteration is not None and t.error is None and t.metrics()["accuracy"] is not None]
        if not runs:
            return None
        return max(runs, key=lambda t: (t.metrics()["accuracy"], -(t.metrics()["loop_rate"] or 0.0), -(t.target.iteration or 0)))

    def best_by_val_loss(self) -> TargetReport | None:
        """The checkpoint a pick by validation loss would have chosen."""
        runs = [t for t in self.targets if t.target.val_loss is not None]
        return min(runs, key=lambda t: (t.target.val_loss, t.target.iteration or 0)) if runs else None

    def to_json(self) -> dict[str, Any]:
        by_behaviour, by_loss = self.best_by_behaviour(), self.best_by_val_loss()
        return {
            "targets": [target.to_json() for target in self.targets] + [reference.to_json() for reference in self.references],
            "best_by_behaviour": by_behaviour.name if by_behaviour else None,
            "best_by_val_loss": by_loss.name if by_loss else None,
            "temperature": self.options.temperature,
            "seed": self.options.seed,
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True)
class Progress:
    """Where a running eval is: target `target_index` of `target_count`, `done` queries of `total`."""

    target_index: int
    target_count: int
    target: str
    done: int
    total: int
    result: QueryResult | None = None


@contextmanager
def open_target_model(setup: ChatSetup, target: Target) -> Iterator[tuple[Model, list[str]]]:
    """The pydantic-ai model of a target and its setup warnings; unloaded on exit."""
    if target.kind == "server":
        from punie_tui.core.chat.server import openai_chat_model

        assert target.url is not None
        # The server's tokenizer is out of reach: prompt and tools are still compared with training.
        yield openai_chat_model(target.url, setup.definitions, setup.render_tools, target.server_model), [w.message for w in setup.warnings()]
        return
    assert target.source is not None
    with open_chat_model(setup, target.source) as (model, warnings):
        yield model, [warning.message for warning in warnings]


async def run_target(
    model: Model,
    queries: list[SuiteQuery],
    setup: ChatSetup,
    options: EvalOptions,
    report: TargetReport,
    *,
    on_result: Callable[[QueryResult], None] | None = None,
    cancel: threading.Event | None = None,
) -> bool:
    """Run every query on one model into `report`; False when cancelled midway."""
    for query in queries:
        if cancel is not None and cancel.is_set():
            return False
        # A fresh sandbox per query, exactly as one `punie-tui chat` run gets.
        tools = WorkspaceTools(setup.workspace.root)
        started = perf_counter()
        chat = await run_chat(
            model, query.prompt, tools, definitions=setup.definitions, system_prompt=setup.system_prompt,
            options=options, expected=query.expected, cancel=cancel,
        )
        if chat.cancelled:
            return False
        result = query_result(query, chat, perf_counter() - started)
        report.results.append(result)
        if on_result is not None:
            on_result(result)
    return True


def run_suite(
    workspace: Workspace,
    targets: list[Target],
    queries: list[SuiteQuery],
    *,
    setup: ChatSetup | None = None,
    options: EvalOptions | None = None,
    references: list[Reference] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
    opener: Callable[[ChatSetup, Target], Any] = open_target_model,
) -> EvalReport:
    """Run the suite on each target in turn (one model loaded at a time); a target that fails to
    load is reported with its error and the others still run."""
    setup = setup or chat_setup(workspace)
    options = options or EvalOptions()
    report = EvalReport([], list(references or []), list(queries), options)
    for index, target in enumerate(targets):
        target_report = TargetReport(target)
        report.targets.append(target_report)

        def progressed(result: QueryResult | None, _index: int = index, _report: TargetReport = target_report) -> None:
            if on_progress is not None:
                on_progress(Progress(_index, len(targets), _report.name, len(_report.results), len(queries), result))

        progressed(None)
        try:
            with opener(setup, target) as (model, warnings):
                target_report.warnings = list(warnings)
                finished = asyncio.run(run_target(model, queries, setup, options, target_report, on_result=progressed, cancel=cancel))
        except Exception as exc:  # a target that cannot load must not lose the others' results
            target_report.error = f"{type(exc).__name__}: {exc}"
            continue
        if not finished:
            report.cancelled = True
            break
    return report
