"""Any JSON at all goes through lint, fix and convert without an exception (ConversionError aside)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from punie_tui.core.convert import ConversionError, convert_record
from punie_tui.core.dataset import load_dataset
from punie_tui.core.fixes import apply_plan, plan_fixes
from punie_tui.core.formats import FORMATS
from punie_tui.core.lint import LintContext

_SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["", "x", "<tool_call>", "Tool call: {", "```json\n{", "<tool_response>"])
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
    ["name", "arguments", "tool", "args", "function", "type", "id", "content", "role", "result"]), inner, max_size=4), max_leaves=8)
_TEXT = st.sampled_from([
    "plain", "", "  ", "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n</tool_call>", "<tool_call>{'name': 1}",
    "<tool_call><function=f>\n<parameter=a>\n1\n", "```json\n{\"tool\": \"f\", \"args\": \"{}\"}\n```", "Tool call: {\"name\": 3}",
    "<tool_response>\n<tool_response>\nx\n</tool_response>\n</tool_response>", "Tool result: ok", "<tool_call></tool_call>",
])
_TURN = st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant", "tool", 7]), "content": _TEXT | _JSON},
                              optional={"tool_calls": _JSON | st.lists(st.fixed_dictionaries({"function": _JSON}), max_size=2), "name": _JSON})
_RECORD = (st.fixed_dictionaries({"messages": st.lists(_TURN | _JSON, max_size=5)})
           | st.fixed_dictionaries({"query": _JSON, "tool_calls": st.lists(_JSON, max_size=3)}, optional={"answer": _JSON})
           | st.fixed_dictionaries({"text": _TEXT.map(lambda t: f"<|im_start|>assistant\n{t}<|im_end|>")})
           | st.dictionaries(st.text(max_size=3), _JSON, max_size=3))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(records=st.lists(_RECORD, min_size=1, max_size=4), target=st.sampled_from(FORMATS))
def test_lint_fix_and_convert_never_raise_on_any_json(tmp_path: Path, records: list, target: str) -> None:
    path = tmp_path / "any.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    dataset = load_dataset(path)
    ctx = LintContext(target=target, schemas={"f": {"type": "object", "properties": {"a": {"type": "integer"}}}})
    plan = plan_fixes(dataset, ctx, repairs=True)
    plan.diff()
    for record in dataset.records:
        try:
            convert_record(record, target, ctx.schemas)
        except ConversionError:
            pass
    apply_plan(plan)
