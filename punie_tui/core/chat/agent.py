"""Run one spot-check: a pydantic-ai Agent with the workspace's sandboxed tools answers one prompt,
streamed into a Transcript, stopped early on a loop, and judged into a Verdict.
"""

from __future__ import annotations

import asyncio
import json
import threading
from time import perf_counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import pydantic_ai
from pydantic_ai import Agent, RunContext, Tool
from pydantic_ai.exceptions import IncompleteToolCall, OutputTokenLimitExceeded, UsageLimitExceeded
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    RetryPromptPart,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import UsageLimits

from punie_tui.core.chat.tools import ToolOutcome, WorkspaceTools
from punie_tui.core.chat.transcript import ToolCall, ToolResult, Transcript, Turn
from punie_tui.core.chat.verdict import DEFAULT_LOOP_THRESHOLD, DEFAULT_REQUEST_LIMIT, Expected, Verdict, find_loop, judge


@dataclass(frozen=True)
class ChatOptions:
    """Generation settings and limits of a spot-check."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512
    stop_sequences: tuple[str, ...] = ()
    request_limit: int = DEFAULT_REQUEST_LIMIT
    loop_threshold: int = DEFAULT_LOOP_THRESHOLD

    def model_settings(self) -> ModelSettings:
        settings = ModelSettings(temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens)
        if self.stop_sequences:
            settings["stop_sequences"] = list(self.stop_sequences)
        return settings


@dataclass
class ChatResult:
    """A finished spot-check; `verdict` is None when the user cancelled it."""

    transcript: Transcript
    verdict: Verdict | None
    cancelled: bool = False

    def to_json(self) -> dict[str, Any]:
        data = self.transcript.to_json()
        if self.verdict is not None:
            data.update(self.verdict.to_json())
        else:
            data.update({"verdict": None, "verdict_detail": "cancelled", "turn_count": len(self.transcript.turns), "mismatch": None})
        return data


def tool_definitions_to_tools(definitions: list[dict[str, Any]], tools: WorkspaceTools, outcomes: dict[str, ToolOutcome]) -> list[Tool]:
    """pydantic-ai tools with exactly the workspace's schemas, each executed by the sandbox."""
    result = []
    for definition in definitions:
        spec = definition.get("function", definition)
        name = spec["name"]

        async def execute(ctx: RunContext[None], _name: str = name, **arguments: Any) -> str:
            # Tools block (subprocesses, approval prompts), so they run off the event loop.
            outcome = await anyio.to_thread.run_sync(tools.call, _name, arguments)
            outcomes[ctx.tool_call_id] = outcome
            return outcome.for_model()

        schema = spec.get("parameters") or {"type": "object", "properties": {}}
        result.append(Tool.from_schema(execute, name=name, description=spec.get("description"), json_schema=schema, takes_ctx=True, sequential=True))
    return result


@dataclass
class _Recorder:
    """Turns built from the agent's nodes as they arrive."""

    transcript: Transcript
    outcomes: dict[str, ToolOutcome] = field(default_factory=dict)
    on_update: Callable[[Transcript], None] | None = None

    def start_turn(self) -> Turn:
        turn = Turn()
        self.transcript.turns.append(turn)
        self.transcript.requests = len(self.transcript.turns)
        return turn

    def drop_turn(self, turn: Turn) -> None:
        self.transcript.turns.remove(turn)
        self.transcript.requests = len(self.transcript.turns)

    def notify(self) -> None:
        if self.on_update is not None:
            self.on_update(self.transcript)

    def finish_turn(self, turn: Turn, response: ModelResponse, seconds: float) -> None:
        raw = (response.provider_details or {}).get("raw_text")
        texts = [part.content for part in response.parts if isinstance(part, TextPart)]
        turn.text = raw if isinstance(raw, str) else "".join(texts)
        turn.tool_calls = [
            ToolCall(part.tool_name, _arguments(part), part.tool_call_id) for part in response.parts if isinstance(part, ToolCallPart)
        ]
        turn.finish_reason = response.finish_reason
        turn.tokens = response.usage.output_tokens
        turn.seconds = seconds
        self.notify()

    def attach_results(self, request: ModelRequest) -> None:
        """Results of the previous turn's calls, as the next request carries them to the model."""
        if not self.transcript.turns:
            return
        turn = self.transcript.turns[-1]
        for part in request.parts:
            if isinstance(part, ToolReturnPart):
                turn.tool_results.append(self._result(part.tool_name, part.tool_call_id, part.model_response_str()))
            elif isinstance(part, RetryPromptPart) and part.tool_name:
                turn.tool_results.append(ToolResult(part.tool_name, "retry", part.model_response(), part.tool_call_id))
        self.notify()

    def attach_pending(self) -> None:
        """Results of calls that ran but whose next request never happened (a limit stopped the run)."""
        for turn in self.transcript.turns:
            known = {result.call_id for result in turn.tool_results}
            for call in turn.tool_calls:
                if call.call_id not in known and call.call_id in self.outcomes:
                    turn.tool_results.append(self._result(call.name, call.call_id, None))

    def _result(self, name: str, call_id: str | None, text: str | None) -> ToolResult:
        outcome = self.outcomes.get(call_id or "")
        if outcome is None:
            return ToolResult(name, "ok", text or "", call_id)
        return ToolResult(
            name, outcome.status, outcome.output, call_id, outcome.reason,
            outcome.approval.reason if outcome.approval else None, outcome.approved,
        )


def _arguments(part: ToolCallPart) -> dict[str, Any] | str:
    try:
        return part.args_as_dict(raise_if_invalid=True)
    except (ValueError, TypeError, AssertionError):
        return part.args if isinstance(part.args, str) else json.dumps(part.args)


async def run_chat(
    model: Model,
    prompt: str,
    tools: WorkspaceTools,
    *,
    definitions: list[dict[str, Any]],
    system_prompt: str = "",
    options: ChatOptions | None = None,
    expected: Expected | None = None,
    on_update: Callable[[Transcript], None] | None = None,
    cancel: threading.Event | None = None,
) -> ChatResult:
    """Run `prompt` through an agent on `model` with the sandboxed tools; never raises for a bad model."""
    # pydantic-ai greets the first run from a source checkout with a banner on stderr: it landed
    # in `punie-tui chat` output. punie-tui owns its terminal, as pydantic-ai's docs allow for.
    pydantic_ai.BANNER_ENABLED = False
    options = options or ChatOptions()
    transcript = Transcript(prompt=prompt, system_prompt=system_prompt, model=model.model_name)
    recorder = _Recorder(transcript, on_update=on_update)
    agent = Agent(
        model,
        system_prompt=system_prompt or (),
        tools=tool_definitions_to_tools(definitions, tools, recorder.outcomes),
        # Retries (bad arguments, unknown tools) must not end the run before the request limit does.
        retries=options.request_limit,
    )
    limit_hit = cancelled = False
    try:
        async with agent.iter(
            prompt, model_settings=options.model_settings(), usage_limits=UsageLimits(request_limit=options.request_limit)
        ) as run:
            async for node in run:
                if Agent.is_model_request_node(node):
                    recorder.attach_results(node.request)
                    cancelled = await _stream_turn(node, run, recorder, cancel)
                elif Agent.is_call_tools_node(node):
                    if find_loop(transcript.turns, options.loop_threshold) is not None:
                        break  # the looping call is recorded, not executed again
                if cancelled or (cancel is not None and cancel.is_set()):
                    cancelled = True
                    break
    except UsageLimitExceeded:
        limit_hit = True
    except (IncompleteToolCall, OutputTokenLimitExceeded) as exc:
        # The token limit cut the answer: the turn's finish reason `length` gives the verdict.
        transcript.error = str(exc)
    recorder.attach_pending()
    recorder.notify()
    if cancelled:
        return ChatResult(transcript, None, cancelled=True)
    verdict = judge(transcript, request_limit_hit=limit_hit, loop_threshold=options.loop_threshold, expected=expected)
    return ChatResult(transcript, verdict)


async def _stream_turn(node: Any, run: Any, recorder: _Recorder, cancel: threading.Event | None) -> bool:
    """Stream one model request into a new turn; True when the user cancelled it midway."""
    turn = recorder.start_turn()
    started = perf_counter()
    try:
        async with node.stream(run.ctx) as stream:
            async for event in stream:
                if cancel is not None and cancel.is_set():
                    return True
                delta = _text_delta(event)
                if delta:
                    turn.text += delta
                    recorder.notify()
            response = stream.response
    except UsageLimitExceeded:
        # The limit is checked as the request starts: no response, so no turn.
        recorder.drop_turn(turn)
        raise
    recorder.finish_turn(turn, response, perf_counter() - started)
    return False


def _text_delta(event: Any) -> str:
    if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
        return event.part.content
    if isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
        return event.delta.content_delta
    return ""


def run_chat_sync(model: Model, prompt: str, tools: WorkspaceTools, **kwargs: Any) -> ChatResult:
    """`run_chat` from synchronous code (the CLI, a worker thread)."""
    return asyncio.run(run_chat(model, prompt, tools, **kwargs))
