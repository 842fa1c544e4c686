"""The workspace's eval queries: prompts with whether the model should call a tool or answer directly."""

from __future__ import annotations

from dataclasses import dataclass

from punie_tui.config import Workspace
from punie_tui.core.chat.verdict import Expected
from punie_tui.core.dataset import load_dataset


@dataclass(frozen=True)
class EvalQuery:
    text: str
    expected: Expected | None
    location: str


def _expected(data: dict) -> Expected | None:
    for key in ("expected", "expect", "kind", "label"):
        value = data.get(key)
        if value in ("tool", "direct"):
            return value
    tool = data.get("tool", data.get("expected_tool"))
    if isinstance(tool, str) and tool:
        return "tool"
    if isinstance(tool, bool):
        return "tool" if tool else "direct"
    return None


def load_queries(workspace: Workspace) -> list[EvalQuery]:
    """The eval queries in the workspace's queries file; [] when there is none."""
    path = workspace.queries_path
    if not path.exists():
        return []
    queries = []
    for record in load_dataset(path).records:
        data = record.data or {}
        text = data.get("query", data.get("prompt", data.get("question")))
        if isinstance(text, str) and text.strip():
            queries.append(EvalQuery(text, _expected(data), record.location))
    return queries


def expectation_for(workspace: Workspace, prompt: str) -> Expected | None:
    """Whether `prompt`, when it is one of the eval queries, should get a tool call or a direct answer."""
    wanted = prompt.strip()
    for query in load_queries(workspace):
        if query.text.strip() == wanted:
            return query.expected
    return None
