"""Peak-memory estimate of a training run, from the model's config.json and the run's options.

peak = weights (parameters x bits per weight) + trainable parameters with their gradients and
optimizer state + activations kept for the backward pass of the trained layers + the logits and
their loss. `benchmarks/memory_estimate.py` measures its error against real MLX peaks.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from punie_tui.core.training.config import TrainConfig

GB = 1e9
_DTYPE_BITS = {"float32": 32, "float16": 16, "bfloat16": 16}
# Bytes kept per token and trained layer, in units of the activation dtype: inputs of the seven
# projections, norms, residuals, rotary q/k, and the MLP's gate, up and product (calibrated on
# the demo models by benchmarks/memory_estimate.py).
_PER_HIDDEN = 12
_PER_INTERMEDIATE = 4
# Optimizer states per trainable parameter (Adam and AdamW keep two moments).
_OPTIMIZER_STATES = {"adam": 2, "adamw": 2, "muon": 1, "sgd": 0, "adafactor": 1}


@dataclass(frozen=True)
class ModelShape:
    """What the estimate needs from a decoder-only transformer's config.json."""

    hidden: int
    layers: int
    intermediate: int
    vocab: int
    heads: int
    kv_heads: int
    head_dim: int
    tied_embeddings: bool
    bits_per_weight: float
    activation_bytes: int
    experts: int = 0
    experts_per_token: int = 0
    expert_intermediate: int = 0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ModelShape:
        config = {**config.get("text_config", {}), **config}
        hidden = int(config["hidden_size"])
        heads = int(config["num_attention_heads"])
        quant = config.get("quantization") or config.get("quantization_config")
        if quant and "bits" in quant:
            # Each group of weights also stores a 16-bit scale and a 16-bit bias.
            bits = quant["bits"] + 32 / quant.get("group_size", 64)
            activation_bytes = 2
        else:
            bits = _DTYPE_BITS.get(str(config.get("torch_dtype") or config.get("dtype") or "float32"), 32)
            activation_bytes = bits // 8
        return cls(
            hidden=hidden,
            layers=int(config["num_hidden_layers"]),
            intermediate=int(config.get("intermediate_size", 4 * hidden)),
            vocab=int(config["vocab_size"]),
            heads=heads,
            kv_heads=int(config.get("num_key_value_heads", heads)),
            head_dim=int(config.get("head_dim") or hidden // heads),
            tied_embeddings=bool(config.get("tie_word_embeddings", False)),
            bits_per_weight=bits,
            activation_bytes=activation_bytes,
            experts=int(config.get("num_experts", config.get("num_local_experts", 0)) or 0),
            experts_per_token=int(config.get("num_experts_per_tok", 0) or 0),
            expert_intermediate=int(config.get("moe_intermediate_size", 0) or 0),
        )

    @classmethod
    def from_model_dir(cls, path: Path) -> ModelShape:
        return cls.from_config(json.loads((Path(path) / "config.json").read_text(encoding="utf-8")))

    def attention_params(self) -> int:
        q = self.hidden * self.heads * self.head_dim
        kv = 2 * self.hidden * self.kv_heads * self.head_dim
        return q + kv + self.heads * self.head_dim * self.hidden

    def mlp_params(self) -> int:
        if self.experts:
            return self.experts * 3 * self.hidden * self.expert_intermediate + self.hidden * self.experts
        return 3 * self.hidden * self.intermediate

    def layer_params(self) -> int:
        return self.attention_params() + self.mlp_params() + 2 * self.hidden

    def total_params(self) -> int:
        embeddings = self.vocab * self.hidden * (1 if self.tied_embeddings else 2)
        return self.layers * self.layer_params() + embeddings + self.hidden

    def projections(self) -> dict[str, tuple[int, int, int]]:
        """(inputs, outputs, copies) of each linear layer of a block, by mlx-lm module key.

        Expert projections have one matrix per expert, and mlx-lm gives each its own adapter.
        """
        attn_out = self.heads * self.head_dim
        kv_out = self.kv_heads * self.head_dim
        mlp = self.expert_intermediate if self.experts else self.intermediate
        copies = self.experts or 1
        return {
            "self_attn.q_proj": (self.hidden, attn_out, 1),
            "self_attn.k_proj": (self.hidden, kv_out, 1),
            "self_attn.v_proj": (self.hidden, kv_out, 1),
            "self_attn.o_proj": (attn_out, self.hidden, 1),
            "mlp.gate_proj": (self.hidden, mlp, copies),
            "mlp.up_proj": (self.hidden, mlp, copies),
            "mlp.down_proj": (mlp, self.hidden, copies),
        }

    def lora_params_per_layer(self, rank: int, keys: list[str] | None = None) -> int:
        """Parameters of rank-r adapters on one layer: on `keys`, or every projection (mlx-lm's default)."""
        projections = self.projections()
        chosen = [projections[k] for k in keys if k in projections] if keys else list(projections.values())
        return sum(copies * rank * (i + o) for i, o, copies in chosen)


@dataclass(frozen=True)
class MemoryEstimate:
    weights_gb: float
    trainable_gb: float
    activations_gb: float
    logits_gb: float
    trainable_parameters: int
    total_parameters: int
    sequence_length: int

    @property
    def total_gb(self) -> float:
        return self.weights_gb + self.trainable_gb + self.activations_gb + self.logits_gb

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_gb": self.total_gb}


def padded_length(longest: int, max_seq_length: int) -> int:
    """The batch width mlx-lm pads to: one plus the next multiple of 32, capped at the maximum."""
    return min(1 + 32 * math.ceil(longest / 32), max_seq_length)


def estimate_peak(shape: ModelShape, config: TrainConfig, longest_tokens: int | None = None) -> MemoryEstimate:
    """Peak memory of a run; `longest_tokens` is the longest example (default: the maximum length)."""
    seq = padded_length(longest_tokens or config.max_seq_length, config.max_seq_length)
    trained_layers = shape.layers if config.num_layers < 0 else min(config.num_layers, shape.layers)
    total = shape.total_params()
    weights = total * shape.bits_per_weight / 8
    if config.fine_tune_type == "full":
        trainable = trained_layers * shape.layer_params()
        # Full fine-tuning trains the layers in their stored dtype (unquantized models only).
        trainable_bytes_each = shape.activation_bytes
    else:
        keys = (config.lora_parameters.model_extra or {}).get("keys")
        trainable = trained_layers * shape.lora_params_per_layer(config.lora_parameters.rank, keys)
        trainable_bytes_each = 4
    states = 1 + _OPTIMIZER_STATES.get(config.optimizer, 2)
    # Full fine-tuning updates weights already counted in `weights`; adapters are extra parameters.
    copies = states if config.fine_tune_type == "full" else states + 1
    trainable_gb = trainable * trainable_bytes_each * copies / GB

    tokens = config.batch_size * seq
    a = shape.activation_bytes
    mlp_width = shape.expert_intermediate * shape.experts_per_token if shape.experts else shape.intermediate
    per_token_layer = a * (_PER_HIDDEN * shape.hidden + _PER_INTERMEDIATE * mlp_width)
    scores = config.batch_size * shape.heads * seq * seq * a * 2
    kept_layers = 1 if config.grad_checkpoint else trained_layers
    checkpoints = trained_layers * tokens * shape.hidden * a if config.grad_checkpoint else 0
    activations = kept_layers * (tokens * per_token_layer + scores) + checkpoints
    # Logits in the model dtype, their float32 log-softmax for the loss, and the gradient.
    logits = tokens * shape.vocab * (2 * a + 4)
    return MemoryEstimate(
        weights_gb=weights / GB,
        trainable_gb=trainable_gb,
        activations_gb=activations / GB,
        logits_gb=logits / GB,
        trainable_parameters=trainable,
        total_parameters=total,
        sequence_length=seq,
    )
