"""The memory estimator against published measurements (each within 20%), and its arithmetic."""
from __future__ import annotations

import json

import pytest

from helpers.model.memory import (
    GB, GIB, KNOWN_SHAPES, PUBLISHED, PublishedFigure, TrainSetup, estimate_memory, lora_params, memory_table,
    plot_memory_table, resolve_shape, shape_from_config, shape_from_params, validation_table)

TOLERANCE = 0.20


@pytest.mark.parametrize("figure", PUBLISHED, ids=lambda f: f"{f.model}-{f.setup.method}-{f.kind}")
def test_estimate_matches_published_measurement(figure: PublishedFigure) -> None:
    """Each figure's source and settings are in its ``source`` text (helpers/model/memory.py, PUBLISHED):

    * litgpt resource tables (Lightning AI, tutorials/resource-tables.md, 10/20/2023): Llama-2-7B and 13B, LoRA
      bf16-true and bnb.nf4-dq, A100 40GB, micro-batch 1, Alpaca longest 1304 tokens, r=8 on query+value, no
      checkpointing; "Max GPU RAM" = torch.cuda.max_memory_allocated (21.30, 13.84, 38.12, 22.55 GB).
    * torchtune README, Llama 3.1 8B QLoRA on 1x RTX 4090, batch 2, packed 2048, compile, activation
      checkpointing, chunked loss: 7.4 GiB (the estimate is conservative: compile fuses norms and SwiGLU).
    * QLoRA paper (Dettmers et al. 2023): LLaMA-65B QLoRA fits one 48 GB GPU (upper bound: the estimate must be
      below 48 GB and within 20% of it); 16-bit full finetuning needs more than 780 GB (lower bound).
    """
    assert figure.source and figure.holds(TOLERANCE), (figure.estimate(), figure.value, figure.source)
    if figure.kind == "point":
        assert figure.estimate() == pytest.approx(figure.value, rel=TOLERANCE)


def test_at_least_four_independent_published_points() -> None:
    points = [f for f in PUBLISHED if f.kind == "point"]
    assert len(PUBLISHED) >= 4 and len({f.source.split(",")[0] for f in PUBLISHED}) >= 3 and len(points) >= 5
    table = validation_table()
    assert table["holds"].all() and len(table) == len(PUBLISHED)


def test_litgpt_trainable_parameter_counts_match() -> None:
    """litgpt's table lists 4,194,304 (7B) and 6,553,600 (13B) trainable parameters for r=8 on query and value."""
    assert lora_params(KNOWN_SHAPES["Llama-2-7B"], 8, ("q_proj", "v_proj")) == 4_194_304
    assert lora_params(KNOWN_SHAPES["Llama-2-13B"], 8, ("q_proj", "v_proj")) == 6_553_600


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
