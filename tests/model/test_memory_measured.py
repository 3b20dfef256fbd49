"""The memory estimator against peak memory measured HERE: real LoRA and QLoRA steps on the default model (CPU).

SmolLM2-135M-Instruct (30 layers, hidden 576, 9 heads / 3 KV heads, intermediate 1536, vocabulary 49152, tied
embeddings), float32 on CPU, LoRA r=8 on all linear layers with dropout 0.05, AdamW, no gradient checkpointing,
2 steps of batch 2 x 128 tokens. Measured: resident memory added by the steps over the loaded model, in a fresh
process with glibc's mmap threshold fixed so that freed tensors leave the resident set.
"""
from __future__ import annotations

import pytest

from helpers.model.memory import TrainSetup, measure_training_peak

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("method", ["lora", "qlora"])
def test_estimate_within_20_percent_of_measured_training_memory(method: str) -> None:
    setup = TrainSetup(method=method, dtype_bytes=4, batch_size=2, seq_len=128)
    result = measure_training_peak("default", setup, steps=2)
    assert result["measured"] > 0 and result["tokens_per_second"] > 0
    assert result["estimate"] == pytest.approx(result["measured"], rel=0.20), result
    assert result["estimate_weights"] == pytest.approx(result["weights"], rel=0.20), result
