"""Training rows for the demo model: an extra row ending at each tool call, leak-free splits."""

from __future__ import annotations

import json
from pathlib import Path

from punie_tui.core.training.demo_training import training_rows, write_training_data

TOOL = {
    "messages": [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "How many lines?"},
        {"role": "assistant", "content": '<tool_call>\n{"name": "run_command", "arguments": {"command": "wc -l x"}}\n</tool_call>'},
        {"role": "tool", "content": "3 x"},
        {"role": "assistant", "content": "3 lines."},
    ]
}
DIRECT = {"messages": [{"role": "user", "content": "What is LoRA?"}, {"role": "assistant", "content": "Low-rank adapters."}]}


def test_tool_conversation_also_gives_a_row_ending_at_its_tool_call() -> None:
    rows = training_rows(TOOL)
    assert len(rows) == 2
    assert rows[0] == {"messages": TOOL["messages"]}
    assert rows[1]["messages"] == TOOL["messages"][:3]


def test_direct_conversation_gives_one_row() -> None:
    assert training_rows(DIRECT) == [{"messages": DIRECT["messages"]}]


def test_split_keeps_each_conversation_in_one_split(tmp_path: Path) -> None:
    examples = tmp_path / "examples.jsonl"
    conversations = []
    for i in range(30):
        item = json.loads(json.dumps(TOOL if i % 2 else DIRECT))
        item["messages"][-1]["content"] += f" #{i}"
        item["messages"][1]["content"] += f" #{i}"
        conversations.append(item)
    examples.write_text("".join(json.dumps(c) + "\n" for c in conversations), encoding="utf-8")
    n_train, n_valid = write_training_data(examples, tmp_path / "data", batch_size=4)
    # 30 conversations: 4 held out (at least a batch), 15 tool ones give two rows each.
    assert n_train + n_valid == 45
    questions = {}
    for split in ("train", "valid"):
        for line in (tmp_path / "data" / f"{split}.jsonl").read_text().splitlines():
            questions.setdefault(json.loads(line)["messages"][1]["content"], set()).add(split)
    assert len(questions) == 30
    assert all(len(splits) == 1 for splits in questions.values())
