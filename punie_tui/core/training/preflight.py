"""Checks before launch for what mlx-lm reports late (after loading a 30B model) or never.

Missing train.jsonl, broken JSON lines, valid/test smaller than a batch, `test` without test.jsonl,
more layers than the model has, examples over the maximum length, and a memory estimate above
the machine's memory. Each finding has a stable code, a severity, and a file and line when known.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from punie_tui.core.training.config import TrainConfig
from punie_tui.core.training.estimate import MemoryEstimate, ModelShape, estimate_peak
from punie_tui.core.training.probe import system_memory

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}: " if self.path and self.line else f"{self.path}: " if self.path else ""
        return f"{self.severity}: {where}{self.message} [{self.code}]"


@dataclass
class PreflightReport:
    findings: list[Finding]
    estimate: MemoryEstimate | None
    longest_tokens: int | None
    system_total_gb: float

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "findings": [f.as_dict() for f in self.findings],
            "estimate": self.estimate.as_dict() if self.estimate else None,
            "longest_tokens": self.longest_tokens,
            "system_total_gb": self.system_total_gb,
        }


def _read_jsonl(path: Path, findings: list[Finding]) -> list[dict[str, Any]] | None:
    """The records of a split, or None when it does not exist; bad lines become findings."""
    if not path.exists():
        return None
    records = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                # mlx-lm's json.loads fails on a blank line too.
                findings.append(Finding("blank-line", "error", "blank line (mlx-lm cannot read it)", str(path), lineno))
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                findings.append(Finding("bad-json", "error", f"not valid JSON: {exc.msg}", str(path), lineno))
    return records


def _check_splits(config: TrainConfig, findings: list[Finding]) -> dict[str, list[dict[str, Any]]]:
    data = Path(config.data)
    if not data.exists():
        if data.is_absolute() or config.data.startswith("."):
            findings.append(Finding("data-missing", "error", "no such dataset folder", str(data)))
        else:
            findings.append(Finding("remote-data", "info", f"'{config.data}' is not a local folder; not checked"))
        return {}
    splits: dict[str, list[dict[str, Any]]] = {}
    for name in ("train", "valid", "test"):
        records = _read_jsonl(data / f"{name}.jsonl", findings)
        if records is not None:
            splits[name] = records
    batch = config.batch_size
    if config.train:
        train = splits.get("train")
        if not train:
            findings.append(Finding("train-missing", "error", "train.jsonl is missing or empty", str(data / "train.jsonl")))
        elif len(train) < batch:
            findings.append(
                Finding("train-smaller-than-batch", "error", f"{len(train)} examples, fewer than the batch size {batch}", str(data / "train.jsonl"))
            )
        valid = splits.get("valid")
        if not valid:
            findings.append(Finding("valid-missing", "warning", "no valid.jsonl: training runs without validation", str(data / "valid.jsonl")))
        elif len(valid) < batch:
            findings.append(
                Finding("valid-smaller-than-batch", "error", f"{len(valid)} examples, fewer than the batch size {batch}", str(data / "valid.jsonl"))
            )
    if config.test:
        test = splits.get("test")
        if not test:
            findings.append(Finding("test-missing", "error", "`test` is requested but test.jsonl is missing or empty", str(data / "test.jsonl")))
        elif len(test) < batch:
            findings.append(
                Finding("test-smaller-than-batch", "error", f"{len(test)} examples, fewer than the batch size {batch}", str(data / "test.jsonl"))
            )
    return splits


def token_lengths(config: TrainConfig, records: list[dict[str, Any]]) -> list[int]:
    """Token counts exactly as mlx-lm builds its training rows (chat template, tools, EOS)."""
    import types

    from mlx_lm.tuner.datasets import create_dataset
    from mlx_lm.utils import load_tokenizer

    tokenizer = load_tokenizer(Path(config.model))
    dataset = create_dataset(records, tokenizer, types.SimpleNamespace(mask_prompt=config.mask_prompt))
    return [len(dataset.process(record)[0]) for record in records]


def preflight(config: TrainConfig, *, count_tokens: bool = True) -> PreflightReport:
    """Check a run config before launch; `count_tokens` tokenizes the data with the model's tokenizer."""
    findings: list[Finding] = []
    for key in config.unknown_keys():
        findings.append(Finding("unknown-option", "warning", f"'{key}' is not an mlx-lm lora option punie knows"))
    splits = _check_splits(config, findings)
    model_dir = Path(config.model)
    shape = None
    if (model_dir / "config.json").exists():
        try:
            shape = ModelShape.from_model_dir(model_dir)
        except (KeyError, ValueError) as exc:
            findings.append(Finding("model-config", "warning", f"cannot read the model shape: {exc}", str(model_dir / "config.json")))
    elif model_dir.is_absolute() or config.model.startswith("."):
        findings.append(Finding("model-missing", "error", "no config.json in the model folder", str(model_dir)))
    else:
        findings.append(Finding("remote-model", "info", f"'{config.model}' is not a local folder; layers and lengths not checked"))
    if shape is not None and config.num_layers > shape.layers:
        findings.append(
            Finding("too-many-layers", "error", f"num_layers {config.num_layers} but the model has {shape.layers} layers", str(model_dir / "config.json"))
        )

    longest = None
    if shape is not None and count_tokens and splits:
        for name in ("train", "valid", "test"):
            records = splits.get(name) or []
            if not records:
                continue
            try:
                lengths = token_lengths(config, records)
            except Exception as exc:  # noqa: BLE001 - any tokenizer or template failure is a finding
                findings.append(Finding("tokenize-failed", "error", f"{type(exc).__name__}: {exc}", str(Path(config.data) / f"{name}.jsonl")))
                break
            longest = max([longest or 0, *lengths])
            path = str(Path(config.data) / f"{name}.jsonl")
            for lineno, length in enumerate(lengths, 1):
                if length > config.max_seq_length:
                    findings.append(
                        Finding("over-max-seq-length", "warning", f"{length} tokens, truncated to {config.max_seq_length}", path, lineno)
                    )

    memory = system_memory()
    estimate = estimate_peak(shape, config, longest) if shape is not None else None
    if estimate is not None and estimate.total_gb > memory.total_gb:
        findings.append(
            Finding("memory-over-ram", "error", f"estimated peak {estimate.total_gb:.1f} GB is more than this machine's {memory.total_gb:.1f} GB")
        )
    elif estimate is not None and estimate.total_gb > memory.available_gb:
        findings.append(
            Finding("memory-over-available", "warning", f"estimated peak {estimate.total_gb:.1f} GB, {memory.available_gb:.1f} GB available now")
        )
    return PreflightReport(findings=findings, estimate=estimate, longest_tokens=longest, system_total_gb=memory.total_gb)
