"""A pydantic-ai Model that runs an MLX model in this process: a base model, a base plus an adapter
folder, or a base plus one checkpoint file of a training run; streamed token by token.

MLX arrays belong to the thread that made them, so one thread loads every model and runs every
generation; the async side reads the tokens from a `TokenPipe`.
"""

from __future__ import annotations

import asyncio
import queue
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic_ai import _utils
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponseStreamEvent,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import RequestUsage

from punie_tui.core.chat.output import FallbackParser, ParsedCall, StreamSplitter, parse_call_region, punie_parser

ADAPTER_CONFIG = "adapter_config.json"
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
ADAPTER_WEIGHTS = "adapters.safetensors"


class ModelSourceError(Exception):
    """A model, adapter or checkpoint that cannot be used; the message names the path."""


@dataclass(frozen=True)
class ModelSource:
    """What to load: a base model folder and optionally an adapter folder or a checkpoint file."""

    base: Path
    adapter: Path | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        base = self.name or self.base.name
        return base if self.adapter is None else f"{base}+{self.adapter.name}"

    @property
    def is_hub_id(self) -> bool:
        """A Hugging Face id like `mlx-community/Qwen2.5-Coder-7B-Instruct-4bit`, which mlx-lm fetches."""
        return not self.base.exists() and HUB_ID.fullmatch(str(self.base)) is not None

    def check_base(self) -> None:
        if not self.is_hub_id and not (self.base / "config.json").exists():
            raise ModelSourceError(f"{self.base}: not an MLX model folder (no config.json)")

    def adapter_dir(self) -> Path | None:
        """The adapter folder mlx-lm loads; for a checkpoint, the run folder holding its config."""
        if self.adapter is None:
            return None
        if self.adapter.is_dir():
            if not (self.adapter / ADAPTER_CONFIG).exists():
                raise ModelSourceError(f"{self.adapter}: no {ADAPTER_CONFIG} in the adapter folder")
            return self.adapter
        if self.adapter.suffix != ".safetensors" or not self.adapter.is_file():
            raise ModelSourceError(f"{self.adapter}: neither an adapter folder nor a .safetensors checkpoint")
        for folder in (self.adapter.parent, self.adapter.parent.parent):
            if (folder / ADAPTER_CONFIG).exists():
                return folder
        raise ModelSourceError(f"{self.adapter}: no {ADAPTER_CONFIG} beside the checkpoint or in its run folder")


def _load(source: ModelSource) -> tuple[Any, Any]:
    source.check_base()
    adapter_dir = source.adapter_dir()
    try:
        if adapter_dir is None or source.adapter == adapter_dir:
            return _mlx_load(str(source.base), str(adapter_dir) if adapter_dir else None)
        # A checkpoint: mlx-lm loads adapters from a folder, so give it one with the run's config and
        # this checkpoint as the weights (a link, nothing copied).
        with tempfile.TemporaryDirectory(prefix="punie-checkpoint-") as holder:
            folder = Path(holder)
            shutil.copy(adapter_dir / ADAPTER_CONFIG, folder / ADAPTER_CONFIG)
            (folder / ADAPTER_WEIGHTS).symlink_to(source.adapter.resolve())
            return _mlx_load(str(source.base), str(folder))
    except (OSError, ValueError, KeyError) as exc:
        # Missing files, a hub id that cannot be fetched, adapters that do not fit the model.
        raise ModelSourceError(f"{source.label}: cannot load: {type(exc).__name__}: {exc}") from exc


def _mlx_load(model: str, adapter: str | None) -> tuple[Any, Any]:
    from mlx_lm import load

    return load(model, adapter_path=adapter)


class MlxThread:
    """The one thread that runs MLX for every in-process model, for the life of the process.

    It never exits: MLX keeps a compile cache per thread whose destructor, run as a thread ends,
    needs the interpreter; a thread ending while Python shuts down aborts the whole process
    ("terminate called without an active exception"). A daemon thread blocked on its queue is
    simply stopped with the process instead.
    """

    _instance: MlxThread | None = None
    _create = threading.Lock()

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._run, name="punie-mlx", daemon=True).start()

    @classmethod
    def get(cls) -> MlxThread:
        with cls._create:
            if cls._instance is None:
                cls._instance = MlxThread()
            return cls._instance

    def submit(self, fn: Any, *args: Any) -> Future:
        future: Future = Future()
        self._jobs.put((future, fn, args))
        return future

    def _run(self) -> None:
        while True:
            future, fn, args = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)


class TokenPipe:
    """Chunks from the generation thread to the event loop, waking the loop at most once per
    interval: a wake-up per token would cost the generation thread its share of the GIL."""

    INTERVAL = 0.005

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._items: deque[Any] = deque()
        self._ready = asyncio.Event()
        self._last_wake = 0.0

    def put(self, item: Any, *, urgent: bool = False) -> None:
        """Called on the generation thread; `urgent` (first token, end) wakes the loop at once."""
        self._items.append(item)
        now = time.monotonic()
        if urgent or now - self._last_wake >= self.INTERVAL:
            self._last_wake = now
            self._loop.call_soon_threadsafe(self._ready.set)

    async def batch(self) -> list[Any]:
        """Every chunk waiting, after waiting for at least one."""
        while not self._items:
            self._ready.clear()
            if self._items:
                break
            await self._ready.wait()
        return [self._items.popleft() for _ in range(len(self._items))]


@dataclass
class _Chunk:
    text: str
    prompt_tokens: int
    generation_tokens: int
    finish_reason: str | None


class MlxModel(Model):
    """pydantic-ai's view of an in-process MLX model (load happens on first use, or with `load()`)."""

    def __init__(
        self,
        source: ModelSource,
        *,
        tool_definitions: list[dict[str, Any]] | None = None,
        render_tools: bool = True,
        settings: ModelSettings | None = None,
    ) -> None:
        super().__init__(settings=settings)
        self.source = source
        # False when the training data had no tools block in its prompts (tools described in the
        # system prompt instead): the chat then renders none either, exactly like training.
        self.render_tools = render_tools
        # The workspace's definitions, used verbatim so the prompt renders exactly as in training.
        self.tool_definitions = {(d.get("function", d))["name"]: d for d in tool_definitions or []}
        # Where the tokenizer's mlx-lm parser finds no call, punie's parser tries every format it knows.
        self.fallback_parser = punie_parser(list(self.tool_definitions.values()))
        self._thread = MlxThread.get()
        self._loaded: Future | None = None

    @property
    def model_name(self) -> str:
        return self.source.label

    @property
    def system(self) -> str:
        return "mlx"

    def _loading(self) -> Future:
        if self._loaded is None:
            self._loaded = self._thread.submit(_load, self.source)
        return self._loaded

    def load(self) -> tuple[Any, Any]:
        """Load the model and tokenizer on the model's own thread (once) and return them."""
        return self._loading().result()

    def submit(self, fn: Any, *args: Any) -> Future:
        """Run `fn(*args)` on the MLX thread, where the model's arrays live."""
        return self._thread.submit(fn, *args)

    def close(self) -> None:
        """Wait for this model's work to end and free its weights (on the thread that made them)."""
        self._thread.submit(self._release).result()

    def _release(self) -> None:
        import mlx.core as mx

        self._loaded = None
        mx.clear_cache()

    def render_prompt(self, messages: list[ModelMessage], tools: list[dict[str, Any]]) -> str:
        """The exact prompt text the model sees: its chat template with the tools."""
        _, tokenizer = self.load()
        chat = to_chat_messages(messages)
        return tokenizer.apply_chat_template(chat, tools=tools or None, add_generation_prompt=True, tokenize=False)

    def tools_for(self, parameters: ModelRequestParameters) -> list[dict[str, Any]]:
        tools = []
        for tool in parameters.function_tools:
            tools.append(
                self.tool_definitions.get(tool.name)
                or {"type": "function", "function": {"name": tool.name, "description": tool.description or "", "parameters": tool.parameters_json_schema}}
            )
        return tools

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        async with self.request_stream(messages, model_settings, model_request_parameters) as stream:
            async for _ in stream:
                pass
        return stream.get()

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: Any = None,
    ) -> AsyncGenerator[StreamedResponse]:
        model_settings, model_request_parameters = self.prepare_request(model_settings, model_request_parameters)
        settings = dict(model_settings or {})
        tools = self.tools_for(model_request_parameters)
        loop = asyncio.get_running_loop()
        # Loading may take seconds: wait for it without blocking the event loop.
        model, tokenizer = await asyncio.wrap_future(self._loading())
        prompt = self.render_prompt(messages, tools if self.render_tools else [])
        pipe = TokenPipe(loop)
        cancel = threading.Event()
        job = self._thread.submit(_generate, model, tokenizer, prompt, settings, pipe, cancel)
        response = MlxStreamedResponse(
            model_request_parameters=model_request_parameters,
            _model_name=self.model_name,
            _pipe=pipe,
            _cancel=cancel,
            _tokenizer=tokenizer,
            _tools=tools,
            _stop_sequences=tuple(settings.get("stop_sequences") or ()),
            _fallback=self.fallback_parser,
        )
        try:
            yield response
        finally:
            cancel.set()
            await asyncio.wrap_future(job)


def _generate(model: Any, tokenizer: Any, prompt: str, settings: dict[str, Any], pipe: TokenPipe, cancel: threading.Event) -> None:
    """Runs on the model's thread: stream tokens into the pipe until done, cancelled or failed."""
    import mlx.core as mx
    from mlx_lm import stream_generate
    from mlx_lm.sample_utils import make_sampler

    try:
        if settings.get("seed") is not None:
            mx.random.seed(int(settings["seed"]))
        sampler = make_sampler(temp=float(settings.get("temperature", 0.0)), top_p=float(settings.get("top_p", 1.0)))
        tokens = tokenizer.encode(prompt, add_special_tokens=False)
        for item in stream_generate(model, tokenizer, tokens, max_tokens=int(settings.get("max_tokens", 512)), sampler=sampler):
            chunk = _Chunk(item.text, item.prompt_tokens, item.generation_tokens, item.finish_reason)
            pipe.put(chunk, urgent=item.generation_tokens == 1)
            if cancel.is_set():
                break
    except Exception as exc:  # handed to the async side, which raises it in the caller
        pipe.put(exc, urgent=True)
    finally:
        pipe.put(None, urgent=True)


@dataclass
class MlxStreamedResponse(StreamedResponse):
    """The events of one generation: text as it is safe to show, then the parsed tool calls."""

    _model_name: str
    _pipe: TokenPipe
    _cancel: threading.Event
    _tokenizer: Any
    _tools: list[dict[str, Any]]
    _stop_sequences: tuple[str, ...]
    _fallback: FallbackParser | None
    _timestamp: datetime = field(default_factory=_utils.now_utc)

    async def _get_event_iterator(self) -> AsyncIterator[ModelResponseStreamEvent]:
        tokenizer = self._tokenizer
        call_start = tokenizer.tool_call_start if tokenizer.has_tool_calling else None
        splitter = StreamSplitter(call_start, self._stop_sequences)
        last: _Chunk | None = None
        done = False
        while not done:
            # One event per batch of waiting chunks keeps up with fast generation.
            items = await self._pipe.batch()
            shown = ""
            for item in items:
                if item is None:
                    done = True
                    break
                if isinstance(item, BaseException):
                    raise item
                last = item
                shown += splitter.feed(item.text)
            if shown:
                for event in self._parts_manager.handle_text_delta(vendor_part_id="content", content=shown):
                    yield event
            if splitter.stopped:
                # stream_generate knows no stop strings: stop it here, then drain what it sent.
                self._cancel.set()
        rest = splitter.flush()
        if rest:
            for event in self._parts_manager.handle_text_delta(vendor_part_id="content", content=rest):
                yield event
        calls, leftover = [], ""
        if splitter.call_region:
            calls, leftover = parse_call_region(
                splitter.call_region, call_start, tokenizer.tool_call_end, tokenizer.tool_parser, self._tools, self._fallback
            )
        elif self._fallback is not None:
            # No marker of the tokenizer's own format: the model may still write calls another way
            # (a json fence, `Tool call:`); the text stays as written, the calls are added.
            calls = [ParsedCall(name, arguments) for name, arguments in self._fallback(splitter.raw)]
        if leftover:
            for event in self._parts_manager.handle_text_delta(vendor_part_id="content", content=leftover):
                yield event
        for index, call in enumerate(calls):
            yield self._parts_manager.handle_tool_call_part(
                vendor_part_id=f"call-{index}", tool_name=call.name, args=call.arguments, tool_call_id=f"call_{uuid.uuid4().hex[:12]}"
            )
        if last is not None:
            self._usage = RequestUsage(input_tokens=last.prompt_tokens, output_tokens=last.generation_tokens)
        self.finish_reason = _finish_reason(splitter, last, calls)
        self.provider_details = {"raw_text": splitter.raw}

    async def close_stream(self) -> None:
        self._cancel.set()

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def provider_name(self) -> str:
        return "mlx"

    @property
    def provider_url(self) -> None:
        return None

    @property
    def timestamp(self) -> datetime:
        return self._timestamp


def _finish_reason(splitter: StreamSplitter, last: _Chunk | None, calls: list) -> Any:
    if calls:
        return "tool_call"
    if splitter.stopped:
        return "stop"
    if last is not None and last.finish_reason == "length":
        return "length"
    return "stop"


def to_chat_messages(messages: list[ModelMessage]) -> list[dict[str, Any]]:
    """pydantic-ai's history as chat-template messages; an assistant turn is replayed as the raw
    text the model generated, so the next prompt holds exactly what the model said."""
    chat: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    chat.append({"role": "system", "content": part.content})
                elif isinstance(part, UserPromptPart):
                    chat.append({"role": "user", "content": part.content if isinstance(part.content, str) else str(part.content)})
                elif isinstance(part, ToolReturnPart):
                    chat.append({"role": "tool", "name": part.tool_name, "content": part.model_response_str()})
                elif isinstance(part, RetryPromptPart):
                    role = "tool" if part.tool_name else "user"
                    chat.append({"role": role, "content": part.model_response()})
        elif isinstance(message, ModelResponse):
            raw = (message.provider_details or {}).get("raw_text")
            if isinstance(raw, str):
                chat.append({"role": "assistant", "content": raw})
                continue
            text = "".join(part.content for part in message.parts if isinstance(part, TextPart))
            calls = [
                {"type": "function", "function": {"name": part.tool_name, "arguments": part.args_as_dict()}}
                for part in message.parts
                if isinstance(part, ToolCallPart)
            ]
            chat.append({"role": "assistant", "content": text, **({"tool_calls": calls} if calls else {})})
    return chat
