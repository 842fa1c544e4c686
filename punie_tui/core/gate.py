"""The tokenizer gate, run before training on a new model: every delimiter of its tool-call format
and of its turns is one token, its chat template renders the workspace's examples and the rendering
decodes back unchanged, and the EOS ids of config, generation config and tokenizer agree.

A multi-token delimiter corrupts training data silently; five minutes here saved a model switch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from punie_tui.config import Workspace
from punie_tui.core.dataset import load_dataset

# Examples rendered per dataset file: enough to meet every turn shape without rendering a huge set.
MAX_EXAMPLES = 200
# Markers of tool results and turn ends, checked when the chat template uses them.
TURN_MARKERS: tuple[str, ...] = ("<|im_end|>", "<tool_response>", "</tool_response>")
# Tool-call delimiters of the target formats, for templates mlx-lm finds no tool parser for.
FORMAT_DELIMITERS: dict[str, tuple[str, str]] = {"qwen25-json": ("<tool_call>", "</tool_call>"), "qwen3-xml": ("<tool_call>", "</tool_call>")}


class GateError(Exception):
    """A model folder whose tokenizer cannot be loaded at all."""


@dataclass(frozen=True)
class DelimiterCheck:
    text: str
    ids: list[int]

    @property
    def passed(self) -> bool:
        return len(self.ids) == 1

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "ids": self.ids, "count": len(self.ids), "passed": self.passed}


@dataclass
class TemplateCheck:
    examples: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.examples > 0 and not self.failures

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "examples": self.examples,
                "failures": [{"location": where, "detail": detail} for where, detail in self.failures]}


@dataclass(frozen=True)
class EosCheck:
    """EOS ids by source; a source that is absent is None."""

    config: list[int] | None
    generation_config: list[int] | None
    tokenizer: int | None

    @property
    def passed(self) -> bool:
        if self.tokenizer is None:
            return False
        return all(ids is None or self.tokenizer in ids for ids in (self.config, self.generation_config))

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "config": self.config, "generation_config": self.generation_config, "tokenizer": self.tokenizer}


@dataclass
class GateResult:
    model: Path
    delimiters: list[DelimiterCheck]
    template: TemplateCheck
    eos: EosCheck
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(d.passed for d in self.delimiters) and self.template.passed and self.eos.passed

    def to_json(self) -> dict[str, Any]:
        return {
            "model": str(self.model), "passed": self.passed, "problems": self.problems,
            "delimiters": [d.to_json() for d in self.delimiters], "template": self.template.to_json(), "eos": self.eos.to_json(),
        }


def _eos_ids(path: Path) -> list[int] | None:
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("eos_token_id")
    except (json.JSONDecodeError, AttributeError) as exc:
        raise GateError(f"{path}: not a JSON object: {exc}") from exc
    if isinstance(value, int):
        return [value]
    return [v for v in value if isinstance(v, int)] if isinstance(value, list) else []


def delimiters(tokenizer: Any, target_format: str) -> tuple[list[str], list[str]]:
    """The delimiters to check, and problems finding them (no tool-call format in the template)."""
    found: list[str] = []
    problems = []
    if tokenizer.has_tool_calling:
        found += [tokenizer.tool_call_start, tokenizer.tool_call_end]
    elif target_format in FORMAT_DELIMITERS:
        found += list(FORMAT_DELIMITERS[target_format])
    else:
        problems.append(f"the chat template shows no tool-call format mlx-lm can parse, and {target_format} has no delimiters")
    template = tokenizer.chat_template if isinstance(tokenizer.chat_template, str) else ""
    found += [marker for marker in TURN_MARKERS if marker in template and marker not in found]
    eos = tokenizer.eos_token
    if isinstance(eos, str) and eos not in found:
        found.append(eos)
    return [text for text in found if text], problems


def check_template(tokenizer: Any, files: list[Path], limit: int = MAX_EXAMPLES) -> TemplateCheck:
    """Render each example's messages with the chat template, encode, decode, and compare."""
    check = TemplateCheck()
    for path in files:
        for record in load_dataset(path).records[:limit]:
            if record.shape != "messages" or record.data is None:
                continue
            tools = record.data.get("tools")
            check.examples += 1
            try:
                rendered = tokenizer.apply_chat_template(record.turns(), tools=tools if isinstance(tools, list) else None, tokenize=False)
            except Exception as exc:  # jinja raises many kinds; each is a failure of this example
                check.failures.append((record.location, f"the chat template fails: {type(exc).__name__}: {exc}"))
                continue
            decoded = tokenizer.decode(tokenizer.encode(rendered, add_special_tokens=False))
            if decoded != rendered:
                at = next((i for i, (a, b) in enumerate(zip(rendered, decoded)) if a != b), min(len(rendered), len(decoded)))
                check.failures.append((record.location, f"decodes differently at character {at}: {rendered[at:at + 30]!r} became {decoded[at:at + 30]!r}"))
    return check


# What the gate needs of a model on the Hugging Face hub: configs and tokenizer, never the weights.
TOKENIZER_FILES = ["*.json", "tokenizer.model", "*.tiktoken", "*.jinja", "*.txt"]


def local_folder(model: Path) -> Path:
    """`model` itself, or for a Hugging Face id the local copy of its configs and tokenizer."""
    if model.is_dir():
        return model
    from punie_tui.core.chat.mlx_model import ModelSource

    if not ModelSource(model).is_hub_id:
        raise GateError(f"{model}: no such model folder (nor a Hugging Face id like owner/name)")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError

    try:
        return Path(snapshot_download(str(model), allow_patterns=TOKENIZER_FILES))
    except (HfHubHTTPError, OSError, ValueError) as exc:
        raise GateError(f"{model}: cannot fetch its tokenizer from the Hugging Face hub: {exc}") from exc


def run_gate(model: Path, workspace: Workspace) -> GateResult:
    """All three checks on the tokenizer in `model` (a model folder, just its tokenizer files, or a
    Hugging Face id, of which only the configs and tokenizer are fetched)."""
    from mlx_lm.utils import load_tokenizer

    model = local_folder(model)
    if not (model / "tokenizer.json").is_file() and not (model / "tokenizer_config.json").is_file():
        raise GateError(f"{model}: no tokenizer.json or tokenizer_config.json")
    try:
        tokenizer = load_tokenizer(model)
    except (OSError, ValueError) as exc:
        raise GateError(f"{model}: the tokenizer does not load: {exc}") from exc
    texts, problems = delimiters(tokenizer, workspace.settings.target_format)
    checks = [DelimiterCheck(text, list(tokenizer.encode(text, add_special_tokens=False))) for text in texts]
    template = check_template(tokenizer, workspace.dataset_paths())
    if template.examples == 0:
        problems.append(f"no chat examples (messages) in {workspace.root} to render")
    eos_id = tokenizer.eos_token_id
    eos = EosCheck(_eos_ids(model / "config.json"), _eos_ids(model / "generation_config.json"), eos_id if isinstance(eos_id, int) else None)
    return GateResult(model, checks, template, eos, problems)


RULE = "=" * 60


def render_text(result: GateResult) -> str:
    """The gate as text, with token ids, in the shape of the Phase-0 gate log."""
    lines = ["Gate: Tokenizer Verification", RULE, "", f"Tokenizer of {result.model}", ""]
    for check in result.delimiters:
        mark = "✓ PASS" if check.passed else "✗ FAIL"
        lines += [f"{mark}: {check.text!r}", f"  Token IDs: {check.ids}", f"  Count: {len(check.ids)} token{'s' if len(check.ids) != 1 else ''}", ""]
    template = result.template
    mark = "✓ PASS" if template.passed else "✗ FAIL"
    lines.append(f"{mark}: chat template renders {template.examples} examples and decodes back"
                 + (f" ({len(template.failures)} do not)" if template.failures else ""))
    lines += [f"  {where}: {detail}" for where, detail in template.failures[:10]]
    eos = result.eos
    mark = "✓ PASS" if eos.passed else "✗ FAIL"
    lines += ["", f"{mark}: EOS ids agree", f"  config.json: {_ids(eos.config)}", f"  generation_config.json: {_ids(eos.generation_config)}",
              f"  tokenizer: {eos.tokenizer if eos.tokenizer is not None else 'none'}", ""]
    lines += [f"✗ {problem}" for problem in result.problems]
    lines.append(RULE)
    if result.passed:
        lines.append("✓ GATE PASSED: every delimiter is one token, the template round-trips, EOS ids agree")
    else:
        lines.append("✗ GATE FAILED")
        failed = [check.text for check in result.delimiters if not check.passed]
        if failed:
            lines.append(f"Failed delimiters: {', '.join(failed)}")
    return "\n".join(lines) + "\n"


def _ids(ids: list[int] | None) -> str:
    return "absent" if ids is None else str(ids)
