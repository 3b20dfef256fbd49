"""Fast tests of the benchmarks' pure parts: FLOP counting, throughput arithmetic, task mixing, result schema."""
from __future__ import annotations

import copy
import math
from types import SimpleNamespace

import pytest

from benchmarks.bench_generation import compare
from benchmarks.bench_training import throughput, trl_dataset
from benchmarks.data import mixed_tasks
from benchmarks.flops import flops_per_token, head_params, matmul_params, mfu
from benchmarks.__main__ import check_results, lever_rows, summarise
from helpers.model.memory import KNOWN_SHAPES, lora_params, shape_from_config

SMOLLM2_135M = KNOWN_SHAPES["SmolLM2-135M"]


def test_matmul_params_of_smollm2_135m_by_hand():
    per_layer = 576 * 576 * 2 + 576 * 192 * 2 + 576 * 1536 * 3  # q, o; k, v; gate, up, down
    assert matmul_params(SMOLLM2_135M) == 30 * per_layer + 576 * 49152 == 134_479_872
    assert head_params(SMOLLM2_135M) / matmul_params(SMOLLM2_135M) == pytest.approx(0.21, abs=0.01)  # "a fifth"


def test_the_default_models_config_gives_the_shape_counted_by_hand():
    from transformers import AutoConfig

    from helpers.model.loading import resolve_model

    shape = shape_from_config(AutoConfig.from_pretrained(resolve_model("default")), "SmolLM2-135M")
    assert shape == SMOLLM2_135M


def test_lora_params_count_a_and_b_on_the_chosen_linears():
    assert lora_params(SMOLLM2_135M, 16) == 30 * 16 * (1152 + 768 + 768 + 1152 + 2112 * 3)
    assert lora_params(SMOLLM2_135M, 8, ["q_proj", "v_proj"]) == 30 * 8 * (1152 + 768)


def test_flops_per_token_follows_the_issue_formula():
    count = flops_per_token(SMOLLM2_135M, 16, mean_context=100, head_share=0.25)
    assert count.frozen_base == 4 * 134_479_872
    assert count.adapter == 6 * lora_params(SMOLLM2_135M, 16)
    assert count.attention == 12 * 30 * 576 * 100
    assert count.total == count.frozen_base + count.adapter + count.attention
    assert count.executed == pytest.approx(count.total - 4 * 576 * 49152 * 0.75)
    assert flops_per_token(SMOLLM2_135M, 16, 100).executed == flops_per_token(SMOLLM2_135M, 16, 100).total
    with pytest.raises(ValueError, match="head_share"):
        flops_per_token(SMOLLM2_135M, 16, 100, head_share=1.5)


def test_mfu_is_achieved_over_peak():
    assert mfu(100, 6e8, 1.2e11) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        mfu(100, 6e8, 0)


def test_throughput_skips_the_warm_up_step():
    marks = [(0.0, 0), (10.0, 500), (12.0, 700), (14.0, 900)]
    out = throughput(marks)
    assert out["tokens_per_second"] == pytest.approx(100.0)
    assert out["timed_steps"] == 2 and out["first_step_seconds"] == 10.0
    with pytest.raises(ValueError, match="timed steps"):
        throughput(marks[:2])


def test_mixed_tasks_alternates_and_refuses_too_few():
    rows = [{"task": "routing", "id": i} for i in range(3)] + [{"task": "product_qa", "id": 10 + i} for i in range(3)]
    picked = mixed_tasks(rows, 4)
    assert [r["task"] for r in picked] == ["product_qa", "routing"] * 2
    assert [r["id"] for r in picked] == [10, 0, 11, 1]
    with pytest.raises(ValueError, match="7"):
        mixed_tasks(rows, 7)


def test_trl_dataset_is_prompt_completion_with_the_reply_only_in_the_completion():
    ex = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
                       {"role": "assistant", "content": "a"}]}
    (row,) = trl_dataset([ex])
    assert [m["role"] for m in row["prompt"]] == ["system", "user"]
    assert row["completion"] == [{"role": "assistant", "content": "a"}]


def test_generation_compare_counts_tokens_and_agreement():
    gen = SimpleNamespace
    batched = [gen(answer="a", new_tokens=10), gen(answer="b", new_tokens=30)]
    single = [gen(answer="a", new_tokens=10), gen(answer="c", new_tokens=30)]
    out = compare(batched, single, batched_s=2.0, single_s=10.0)
    assert out["batched_tokens_per_second"] == 20.0 and out["single_tokens_per_second"] == 4.0
    assert out["batched_generation_speedup"] == pytest.approx(5.0)
    assert out["same_answers"] == 1 and out["differing"] == [{"batched": "b", "single": "c"}]


def _row(tps: float, loss: float) -> dict:
    return {"tokens_per_second": tps, "peak_memory_mb": 900.0, "heldout_loss": loss, "final_train_loss": loss,
            "mean_sequence_tokens": 120.0, "target_token_share": 0.2}


def _results() -> dict:
    training = {"ours": _row(60.0, 1.20), "trl_defaults": _row(20.0, 1.25), "ours_full_logits": _row(40.0, 1.2)}
    generation = {"batched_generation_speedup": 5.0, "batched_tokens_per_second": 50.0,
                  "single_tokens_per_second": 10.0, "same_answers": 8, "examples": 8}
    flops = {"mfu": 0.3, "mfu_executed": 0.25, "per_token": {"total": 6e8}, "counted": "4N"}
    return summarise(training, generation, {"seconds": 30.0, "raw_records": 10}, [{"peak_flops": 1.2e11}], flops,
                     {"quick": True})


def test_summary_has_the_required_keys_ratios_and_targets():
    res = _results()
    assert res["speedup_vs_trl_defaults"] == pytest.approx(3.0)
    assert res["targets"]["speedup_vs_trl_defaults"]["met"] and not res["targets"]["mfu"]["met"]
    assert res["training"]["loss_match"]["heldout_loss_gap"] == pytest.approx(0.05)
    assert res["training"]["loss_match"]["within_noise"]
    assert lever_rows(res["training"]) == [{"lever": "logits only where a target follows", "ablation": "ours_full_logits",
                                            "tokens_per_second_without": 40.0, "speedup_from_lever": 1.5,
                                            "peak_memory_mb_without": 900.0}]
    assert not math.isnan(res["machine"]["matmul_peak_flops"])


@pytest.mark.parametrize("key", ["speedup_vs_trl_defaults", "mfu", "batched_generation_speedup"])
def test_check_results_names_a_missing_or_non_numeric_key(key):
    res = _results()
    broken = copy.deepcopy(res)
    del broken[key]
    with pytest.raises(ValueError, match=key):
        check_results(broken)
    broken[key] = "fast"
    with pytest.raises(ValueError, match=key):
        check_results(broken)
