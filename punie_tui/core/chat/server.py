"""The server path: a real `mlx_lm.server` that punie starts on 127.0.0.1 on a free port and stops
on exit, and pydantic-ai's OpenAI chat model talking to it.

mlx-lm's server reads stop sequences from the request's `stop` key, which is where pydantic-ai's
OpenAI chat model puts `stop_sequences`; the server parses tool calls with the tokenizer's parser.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from punie_tui.core.accel import mlx_env
from punie_tui.core.chat.mlx_model import ADAPTER_CONFIG, ADAPTER_WEIGHTS, ModelSource
from punie_tui.locations import user_cache_dir

HOST = "127.0.0.1"
# The name mlx-lm's server maps to the model given on its command line.
SERVER_MODEL_NAME = "default_model"


class ServerError(Exception):
    """The server did not come up; the message carries the end of its log."""


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def hf_cache_dir() -> Path:
    """An existing Hugging Face cache folder, which mlx-lm's server scans to list models: the one
    configured or the default when it exists (models already there stay usable), else punie's own."""
    from huggingface_hub import constants

    configured = os.environ.get("HF_HUB_CACHE")
    if configured is None and Path(constants.HF_HUB_CACHE).is_dir():
        return Path(constants.HF_HUB_CACHE)
    folder = Path(configured) if configured else user_cache_dir() / "hf-hub"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class MlxServer:
    """One `mlx_lm.server` process; a context manager, and stopped at interpreter exit regardless."""

    def __init__(self, source: ModelSource, *, startup_timeout: float = 120.0, log_path: Path | None = None) -> None:
        self.source = source
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self._holder: tempfile.TemporaryDirectory | None = None
        self._log_path = log_path
        self._log: Any = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise ServerError("the server is not running")
        return f"http://{HOST}:{self.port}/v1"

    def command(self, port: int) -> list[str]:
        args = [sys.executable, "-m", "mlx_lm.server", "--model", str(self.source.base), "--host", HOST, "--port", str(port)]
        adapter_dir = self._adapter_dir()
        if adapter_dir is not None:
            args += ["--adapter-path", str(adapter_dir)]
        return args

    def _adapter_dir(self) -> Path | None:
        adapter_dir = self.source.adapter_dir()
        if adapter_dir is None or self.source.adapter == adapter_dir:
            return adapter_dir
        # A checkpoint file: the server, like mlx-lm's loader, wants a folder with the config and weights.
        if self._holder is None:
            self._holder = tempfile.TemporaryDirectory(prefix="punie-server-adapter-")
            folder = Path(self._holder.name)
            shutil.copy(adapter_dir / ADAPTER_CONFIG, folder / ADAPTER_CONFIG)
            (folder / ADAPTER_WEIGHTS).symlink_to(self.source.adapter.resolve())
        return Path(self._holder.name)

    def start(self) -> MlxServer:
        if self.process is not None:
            return self
        self.source.check_base()
        self.port = free_port()
        # The server is MLX-heavy: it gets the optimized BLAS on Linux (core/accel.py).
        env = mlx_env(dict(os.environ, HF_HUB_CACHE=str(hf_cache_dir())))
        log_path = self._log_path or Path(tempfile.mkstemp(prefix="punie-mlx-server-", suffix=".log")[1])
        self._log_path = log_path
        self._log = open(log_path, "wb")
        # Its own process group, so stopping it takes any children with it.
        self.process = subprocess.Popen(
            self.command(self.port), stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env=env, start_new_session=True,
        )
        atexit.register(self.stop)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.base_url}/models"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServerError(f"mlx_lm.server exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise ServerError(f"mlx_lm.server did not answer {url} within {self.startup_timeout:g} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server and its process group; safe to call twice."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            except ProcessLookupError:
                pass
        if process is not None:
            atexit.unregister(self.stop)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._holder is not None:
            self._holder.cleanup()
            self._holder = None

    def __enter__(self) -> MlxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def chat_model(self, definitions: list[dict[str, Any]] | None = None, render_tools: bool = True) -> Any:
        """pydantic-ai's OpenAI chat model against this server (see `openai_chat_model`)."""
        return openai_chat_model(self.base_url, definitions, render_tools)


def openai_chat_model(
    base_url: str, definitions: list[dict[str, Any]] | None = None, render_tools: bool = True, model_name: str = SERVER_MODEL_NAME
) -> Any:
    """pydantic-ai's OpenAI chat model against an OpenAI-compatible server at `base_url`, sending the
    workspace's tool definitions verbatim (the server renders them with the chat template), or none
    at all when the training prompts had no tools block."""
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    exact = {d.get("function", d)["name"]: d for d in definitions or []}

    class WorkspaceToolsChatModel(OpenAIChatModel):
        # Both hooks shape only what is sent; pydantic-ai still runs every call the server parses.
        def _map_tool_definition(self, f: Any, model_settings: Any) -> Any:
            return exact.get(f.name) or super()._map_tool_definition(f, model_settings)

        def _get_tool_choice(self, model_settings: Any, model_request_parameters: Any) -> Any:
            if not render_tools:
                return [], None
            return super()._get_tool_choice(model_settings, model_request_parameters)

    provider = OpenAIProvider(base_url=base_url, api_key="punie-local")
    return WorkspaceToolsChatModel(model_name, provider=provider)
