"""The peak-memory estimate: parameter counts from config.json and how options move the peak."""

from __future__ import annotations

from punie_tui.core.training.config import TrainConfig
from punie_tui.core.training.estimate import ModelShape, estimate_peak, padded_length

QWEN25_7B_4BIT = {
    "hidden_size": 3584,
    "num_hidden_layers": 28,
    "intermediate_size": 18944,
    "vocab_size": 152064,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "tie_word_embeddings": False,
    "quantization": {"bits": 4, "group_size": 64},
}


def test_qwen25_7b_has_about_7_6_billion_parameters_at_4_5_bits() -> None:
    shape = ModelShape.from_config(QWEN25_7B_4BIT)
    assert 7.5e9 < shape.total_params() < 7.7e9
    assert shape.bits_per_weight == 4.5


def test_lora_trains_far_fewer_parameters_than_full() -> None:
    shape = ModelShape.from_config({**QWEN25_7B_4BIT, "quantization": None, "torch_dtype": "bfloat16"})
    lora = estimate_peak(shape, TrainConfig(model="m", num_layers=16, batch_size=2), 1000)
    full = estimate_peak(shape, TrainConfig(model="m", num_layers=16, batch_size=2, fine_tune_type="full"), 1000)
    assert lora.trainable_parameters < full.trainable_parameters / 100
    assert lora.total_gb < full.total_gb


def test_batch_sequence_and_checkpointing_move_activations_the_right_way() -> None:
    shape = ModelShape.from_config(QWEN25_7B_4BIT)
    base = estimate_peak(shape, TrainConfig(model="m", batch_size=2), 1000)
    assert estimate_peak(shape, TrainConfig(model="m", batch_size=4), 1000).activations_gb > base.activations_gb
    assert estimate_peak(shape, TrainConfig(model="m", batch_size=2), 2000).activations_gb > base.activations_gb
    checkpointed = estimate_peak(shape, TrainConfig(model="m", batch_size=2, grad_checkpoint=True), 1000)
    assert checkpointed.activations_gb < base.activations_gb / 4


def test_padding_follows_mlx_lm_one_plus_a_multiple_of_32_capped() -> None:
    assert padded_length(100, 2048) == 129
    assert padded_length(5000, 2048) == 2048
