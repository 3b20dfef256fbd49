"""The memory estimator against published measurements (each within 20%), and its arithmetic."""
from __future__ import annotations

import json

import pytest

from helpers.memory_estimate import (
    GB, GIB, KNOWN_SHAPES, TrainSetup, estimate_memory, lora_params, memory_table, plot_memory_table,
    resolve_shape, shape_from_config, shape_from_params)

TOLERANCE = 0.20

# Lightning AI, litgpt, tutorials/resource-tables.md (updated 10/20/2023, commit 8641822), table "Finetuning with
# LoRA on 1 GPU": 1x A100-SXM4-40GB, finetune/lora.py, --precision bf16-true (weights, adapters and AdamW states
# in bf16), micro-batch 1, Alpaca (longest Llama 2 example 1304 tokens), LoRA r=8 on query and value only
# (4,194,304 trainable parameters for 7B, 6,553,600 for 13B: both match lora_params below), no gradient
# checkpointing, lora_dropout 0.05, "Max GPU RAM" = torch.cuda.max_memory_allocated.
LITGPT = dict(batch_size=1, seq_len=1304, lora_r=8, lora_targets=("q_proj", "v_proj"), trainable_bytes=2,
              optimizer="adamw", gradient_checkpointing=False)
LITGPT_ROWS = [  # (model, quantization, published max GPU RAM in GB)
    ("Llama-2-7B", None, 21.30),
    ("Llama-2-7B", "bnb.nf4-dq", 13.84),
    ("Llama-2-13B", None, 38.12),
    ("Llama-2-13B", "bnb.nf4-dq", 22.55),
]


@pytest.mark.parametrize("model,quant,published_gb", LITGPT_ROWS)
def test_litgpt_resource_table_lora_and_qlora(model: str, quant: str | None, published_gb: float) -> None:
    setup = TrainSetup(method="qlora" if quant else "lora", double_quant=True, **LITGPT)
    est = estimate_memory(model, setup)
    assert est.total_gb == pytest.approx(published_gb, rel=TOLERANCE)


def test_litgpt_trainable_parameter_counts_match() -> None:
    assert lora_params(KNOWN_SHAPES["Llama-2-7B"], 8, ("q_proj", "v_proj")) == 4_194_304
    assert lora_params(KNOWN_SHAPES["Llama-2-13B"], 8, ("q_proj", "v_proj")) == 6_553_600


def test_torchtune_llama31_8b_qlora_peak_memory() -> None:
    """torchtune README, "Memory and training speed": Llama 3.1 8B, QLoRA, 1x RTX 4090, peak memory 7.4 GiB.

    Settings of that table: batch size 2, no gradient accumulation, dataset packed to 2048 tokens, torch.compile;
    recipe config llama3_1/8B_qlora_single_device.yaml: LoRA r=8 on q/k/v/output_proj and the MLP, dropout 0.0,
    dtype bf16 (adapters bf16), torch AdamW, activation checkpointing on, CEWithChunkedOutputLoss (chunked loss).
    The estimate is conservative here because torch.compile fuses the norms and SwiGLU that it counts.
    """
    setup = TrainSetup(method="qlora", batch_size=2, seq_len=2048, gradient_checkpointing=True, lora_r=8,
                       lora_dropout=False, trainable_bytes=2, optimizer="adamw", chunked_loss=True)
    est = estimate_memory("Llama-3.1-8B", setup)
    assert est.total_gib == pytest.approx(7.4, rel=TOLERANCE)


def test_qlora_paper_65b_fits_one_48gb_gpu() -> None:
    """Dettmers et al. 2023, QLoRA (arXiv:2305.14314), abstract and introduction: finetuning a 65B model with QLoRA
    needs <48 GB (one 48 GB GPU). Guanaco-65B recipe (artidoro/qlora scripts/finetune_guanaco_65b.sh): LLaMA-65B,
    NF4 with double quantization, bf16, LoRA r=64 on all linear layers, paged AdamW (32-bit), gradient
    checkpointing; the paper's memory figure uses batch size 1 and sequence length 512.

    A bound, not a point: the estimate must stay under 48 GB and within 20% of it (the run fills that GPU).
    """
    setup = TrainSetup(method="qlora", batch_size=1, seq_len=512, gradient_checkpointing=True, lora_r=64,
                       optimizer="paged_adamw", trainable_bytes=2)
    est = estimate_memory("LLaMA-65B", setup)
    assert 48 * (1 - TOLERANCE) <= est.total_gb < 48


def test_qlora_paper_65b_full_16bit_needs_over_780gb() -> None:
    """Same paper, introduction: regular 16-bit finetuning of LLaMA 65B requires more than 780 GB of GPU memory
    (16-bit weights and gradients, 32-bit Adam states: 12 bytes per parameter)."""
    est = estimate_memory("LLaMA-65B", TrainSetup(method="full", batch_size=1, seq_len=512, gradient_checkpointing=True))
    assert 780 < est.total_gb < 780 * (1 + TOLERANCE)


def test_parts_add_up_and_nf4_constants_match_paper() -> None:
    shape = KNOWN_SHAPES["Llama-2-7B"]
    plain = estimate_memory(shape, TrainSetup(method="qlora", double_quant=False))
    dq = estimate_memory(shape, TrainSetup(method="qlora", double_quant=True))
    # QLoRA paper section 3: 32/64 = 0.5 bit per parameter without, 0.127 bit with double quantization
    assert plain.parts["quant_constants"] * 8 / shape.linear_params == pytest.approx(0.5)
    assert dq.parts["quant_constants"] * 8 / shape.linear_params == pytest.approx(0.127, abs=1e-3)
    assert dq.total_bytes == pytest.approx(sum(dq.parts.values()))


def test_memory_savers_reduce_memory_in_order() -> None:
    base = dict(batch_size=4, seq_len=1024)
    full = estimate_memory("7B", TrainSetup(method="full", **base)).total_gb
    lora = estimate_memory("7B", TrainSetup(method="lora", **base)).total_gb
    qlora = estimate_memory("7B", TrainSetup(method="qlora", **base)).total_gb
    ckpt = estimate_memory("7B", TrainSetup(method="qlora", gradient_checkpointing=True, **base)).total_gb
    assert full > lora > qlora > ckpt
    eight_bit = estimate_memory("7B", TrainSetup(method="full", optimizer="adamw_8bit", **base)).total_gb
    assert full - eight_bit == pytest.approx(resolve_shape("7B").params * 6 / GB)


def test_shape_from_config_dict_path_and_params(tmp_path) -> None:
    cfg = {"num_hidden_layers": 30, "hidden_size": 576, "intermediate_size": 1536, "num_attention_heads": 9,
           "num_key_value_heads": 3, "vocab_size": 49152, "tie_word_embeddings": True}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    shape = shape_from_config(tmp_path, name="smol")
    assert shape.params == KNOWN_SHAPES["SmolLM2-135M"].params == 134_515_008
    guess = shape_from_params(7e9)
    assert guess.params == pytest.approx(6.74e9, rel=0.15)
    with pytest.raises(ValueError, match="hidden_size"):
        shape_from_config({"num_hidden_layers": 2})


def test_bad_setup_names_the_field() -> None:
    with pytest.raises(ValueError, match="optimizer"):
        TrainSetup(optimizer="adam")
    with pytest.raises(ValueError, match="lora_targets"):
        TrainSetup(lora_targets=("qkv",))
    with pytest.raises(ValueError, match="weight_bits 16"):
        estimate_memory("7B", TrainSetup(method="full", weight_bits=4))
    with pytest.raises(KeyError, match="unknown model"):
        estimate_memory("GPT-9")


def test_memory_table_marks_what_fits() -> None:
    table = memory_table()
    assert len(table) == 12
    row = table[(table["size"] == "7B") & (table["method"] == "qlora")].iloc[0]
    assert row["fits_24GB"] and row["total_gb"] < 24
    full70 = table[(table["size"] == "70B") & (table["method"] == "full")].iloc[0]
    assert not full70["fits_80GB"] and full70["total_gb"] > 800
    qlora70 = table[(table["size"] == "70B") & (table["method"] == "qlora")].iloc[0]
    assert qlora70["fits_48GB"] and not qlora70["fits_24GB"]
    fig = plot_memory_table(table)
    assert len(fig.axes[0].patches) == 12
    assert GIB > GB
