"""The chat on the trained demo model: a tool query gets a call parsed from the model's own text,
executed for real in a temporary workspace, on both the in-process and the server path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from punie_tui.config import open_workspace
from punie_tui.core.chat.agent import ChatOptions, run_chat_sync
from punie_tui.core.chat.mlx_model import ModelSource
from punie_tui.core.chat.setup import chat_setup, open_chat_model
from punie_tui.core.chat.tools import WorkspaceTools

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def workspace_with_code(demo_workspace: Path) -> Path:
    # The demo questions are about this repository's code: give the tools something to find.
    shutil.copytree(REPO / "punie_tui", demo_workspace / "punie_tui", ignore=shutil.ignore_patterns("__pycache__"))
    return demo_workspace


def tool_prompt() -> str:
    for line in (REPO / "data" / "examples.jsonl").read_text(encoding="utf-8").splitlines():
        messages = json.loads(line)["messages"]
        if messages[2]["content"].startswith("<tool_call>") and "run_command" in messages[2]["content"]:
            return messages[1]["content"]
    raise AssertionError("no run_command example in data/examples.jsonl")


@pytest.mark.parametrize("server", [False, True], ids=["in-process", "server"])
def test_a_tool_query_gets_a_parsed_call_executed_in_the_workspace(trained_demo_model, workspace_with_code, server):
    setup = chat_setup(open_workspace(workspace_with_code))
    tools = WorkspaceTools(workspace_with_code)
    with open_chat_model(setup, ModelSource(trained_demo_model), server=server) as (model, warnings):
        result = run_chat_sync(
            model, tool_prompt(), tools, definitions=setup.definitions, system_prompt=setup.system_prompt,
            options=ChatOptions(max_tokens=160), expected="tool",
        )
    assert warnings == []
    first = result.transcript.turns[0]
    assert first.tool_calls and first.tool_calls[0].name == "run_command"
    assert first.tool_results[0].status == "ok"
    # The call really ran: grep found the repository's code in the workspace.
    assert tools.log[0].tool == "run_command" and "punie_tui/" in tools.log[0].output
    assert result.verdict.mismatch is None and result.verdict.kind != "unparsed-call"
