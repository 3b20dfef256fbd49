"""The evaluation pipeline on a hand-made run with scripted "models" (no model loads), plus one real-model test."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import pytest

from helpers.core.config import load_settings
from helpers.core.examples import ROUTING_INSTRUCTION, routing_answer, system_prompt
from helpers.core.runs import RunDir, open_run, read_jsonl, write_json, write_jsonl
from helpers.data.catalog import Catalog
from helpers.eval.evaluation import available_models, baseline_report, evaluate_run, select_examples
from helpers.eval.prompting import few_shot, intent_labels, prompted_system
from helpers.eval.scoring import goals, worst_answers

REPO = Path(__file__).resolve().parents[2]
SYSTEM = system_prompt("Voltaris Hardware")

PRODUCTS = [("VX-PS-4471", "Tessera Pro", "power_supply", {"wattage_w": 650}),
            ("VX-PS-2290", "Marlow", "power_supply", {"wattage_w": 450}),
            ("VX-UP-1500", "Bastion", "ups", {"capacity_va": 1500}),
            ("VX-UP-0800", "Keel", "ups", {"capacity_va": 800})]
INTENTS = ["cancel_order", "get_refund", "track_order"]


def _qa(i: int, code: str, name: str, category: str, specs: dict) -> dict:
    field, value = next(iter(specs.items()))
    unit = "W" if field == "wattage_w" else "VA"
    return {"id": f"qa-{i}", "task": "product_qa",
            "messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": f"What is the {field} of the {name} ({code})?"},
                         {"role": "assistant", "content": f"The {name} ({code}) is rated at {value} {unit}."}],
            "meta": {"product": code, "category": category, "fields": {field: value}, "intent": None,
                     "group": code, "source": "catalog", "phrasing": f"t{i}"}}


def _rt(i: int, intent: str) -> dict:
    return {"id": f"rt-{i}", "task": "routing",
            "messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": f"{ROUTING_INSTRUCTION}ticket {i} about {intent}"},
                         {"role": "assistant", "content": routing_answer(intent)}],
            "meta": {"product": None, "category": None, "fields": {}, "intent": intent, "group": f"rt-{i}",
                     "source": "bitext", "phrasing": None}}


def make_run(tmp_path: Path) -> RunDir:
    """A run with a 4-product catalog and 20 held-out examples of each task."""
    run = open_run("evaltest", tmp_path)
    test = [_qa(i, *PRODUCTS[i % 4]) for i in range(20)] + [_rt(i, INTENTS[i % 3]) for i in range(20)]
    write_jsonl(run.data / "test.jsonl", test)
    write_jsonl(run.data / "val.jsonl", test[:8] + test[20:28])
    write_jsonl(run.data / "train.jsonl", [_qa(100 + i, *PRODUCTS[i % 4]) for i in range(4)]
                + [_rt(100 + i, INTENTS[i % 3]) for i in range(3)])
    schema = json.loads((REPO / "data_samples" / "voltaris" / "catalog.schema.json").read_text())
    write_json(run.data / "catalog.json", {"vendor": "Voltaris Hardware", "fields": schema["fields"], "products": [
        {"code": c, "name": n, "category": cat, "specs": s, "warranty_years": 3, "price_usd": 99.0,
         "release_year": 2022} for c, n, cat, s in PRODUCTS]})
    return run


@dataclass
class Result:
    answer: str
    seconds: float = 0.01
    new_tokens: int = 5


def scripted(name: str, examples: Sequence[dict[str, Any]]) -> list[Result]:
    """base: wrong numbers and no intents; prompted: every 4th product right; sft: all right but one; dpo: all right."""
    out = []
    for k, ex in enumerate(examples):
        ref = ex["messages"][-1]["content"]
        if ex["task"] == "routing":
            answer = {"base": "Sure, I can help with that.", "prompted": ref if k % 2 else "Intent: cancel_order"}.get(name, ref)
        elif name == "base":
            answer = "It is rated at 9999 W and the VX-PS-0000 is better." if k % 2 else "I do not know."
        elif name == "prompted":
            answer = ref if k % 4 == 0 else "Please check the manual."
        else:
            answer = ref if (name == "dpo" or k != 1) else ref.replace("450 W", "550 W")
        out.append(Result(answer))
    return out


@pytest.fixture
def settings() -> Any:
    return load_settings("ci", {"eval": {"max_examples": 0, "bootstrap_samples": 200}})


def test_select_examples_caps_each_task_and_is_seeded() -> None:
    examples = [_qa(i, *PRODUCTS[i % 4]) for i in range(10)] + [_rt(i, INTENTS[i % 3]) for i in range(6)]
    picked = select_examples(examples, 4, seed=1)
    assert [ex["task"] for ex in picked].count("product_qa") == 4
    assert [ex["task"] for ex in picked].count("routing") == 4
    assert picked == select_examples(examples, 4, seed=1)
    assert len(select_examples(examples, 0, seed=1)) == 16


def test_the_prompted_baseline_lists_the_labels_and_shows_both_tasks(tmp_path: Path) -> None:
    train = [_qa(i, *PRODUCTS[i % 4]) for i in range(4)] + [_rt(i, INTENTS[i % 3]) for i in range(3)]
    shots = few_shot(train)
    assert len(shots) == 5 and sum(a.startswith("Intent: ") for _, a in shots) == 3
    assert len({q for q, _ in shots}) == 5
    assert intent_labels(train) == INTENTS
    system = prompted_system(Catalog.load(make_run(tmp_path).data / "catalog.json"), INTENTS)
    assert "Intent: <label>" in system and "cancel_order, get_refund, track_order" in system
    assert "Voltaris Hardware" in system and "VA" in system


def test_evaluate_run_writes_every_output_with_known_numbers(tmp_path: Path, settings: Any) -> None:
    run = make_run(tmp_path)
    evaluation = evaluate_run(run, settings, models=["base", "prompted", "sft", "dpo"], generate=scripted)
    m = evaluation.models
    assert m["base"]["factual_accuracy"] == 0 and m["base"]["hallucination_rate"] == 0.5
    assert m["base"]["intent_macro_f1"] == 0  # unparseable answers count as wrong
    assert m["prompted"]["factual_accuracy"] == pytest.approx(5 / 20)
    assert m["sft"]["factual_accuracy"] == pytest.approx(19 / 20) and m["sft"]["hallucination_rate"] == 0.05
    assert m["dpo"]["factual_accuracy"] == 1 and m["dpo"]["intent_macro_f1"] == 1 and m["dpo"]["rouge_l"] == 1
    assert m["sft"]["n"] == 40 and m["sft"]["n_product_questions"] == 20 and m["sft"]["n_routing"] == 20
    low, high = m["sft"]["factual_accuracy_ci"]
    assert (round(low, 3), round(high, 3)) == (0.764, 0.991)  # Wilson interval of 19/20
    assert m["base"]["factual_accuracy_ci"][0] == 0 and m["base"]["factual_accuracy_ci"][1] > 0.1  # not [0, 0]
    assert m["sft"]["factual_accuracy_ci"][0] > m["base"]["factual_accuracy_ci"][1]  # intervals do not overlap
    assert m["base"]["outcomes"] == {"correct": 0.0, "contradicts": 0.5, "no_answer": 0.5, "degenerate": 0.0}
    assert m["sft"]["outcomes"]["contradicts"] == 0.05 and sum(m["sft"]["outcomes"].values()) == pytest.approx(1)
    assert m["base"]["routing_unparsed_rate"] == 1.0 and m["dpo"]["routing_unparsed_rate"] == 0

    written = json.loads(run.metrics_path.read_text())["models"]
    assert set(written) == {"base", "prompted", "sft", "dpo"}
    for key in ("factual_accuracy", "factual_accuracy_ci", "hallucination_rate", "hallucination_rate_ci",
                "rouge_l", "rouge_l_ci", "intent_macro_f1", "intent_macro_f1_ci", "n", "outcomes",
                "routing_unparsed_rate", "n_product_questions", "n_routing"):
        assert key in written["sft"]
    gens = read_jsonl(run.eval / "generations.jsonl")
    assert len(gens) == 160
    one = next(g for g in gens if g["model"] == "base" and g["id"] == "qa-1")
    assert one["outcome"] == "contradicts" and one["hallucinated"] == 1 and "invented code VX-PS-0000" in one["problem"]
    assert {"prompt", "reference", "answer", "seconds", "new_tokens", "messages"} <= set(one)
    routed = next(g for g in gens if g["model"] == "base" and g["task"] == "routing")
    assert routed["predicted_intent"] == "(unparsed)" and routed["hallucinated"] is None

    comps = json.loads((run.eval / "metrics.json").read_text())["comparisons"]
    base_sft = {c["metric"]: c for c in comps if (c["a"], c["b"]) == ("base", "sft")}
    assert base_sft["factual_accuracy"]["test"] == "McNemar exact"
    assert base_sft["rouge_l"]["test"] == base_sft["intent_macro_f1"]["test"] == "paired permutation"
    assert base_sft["factual_accuracy"]["verdict"].startswith("factual accuracy: sft is better than base by 95.0 points")
    assert "sft is better" in base_sft["hallucination_rate"]["verdict"]
    sft_dpo = {c["metric"]: c for c in comps if (c["a"], c["b"]) == ("sft", "dpo")}
    assert "no clear difference" in sft_dpo["factual_accuracy"]["verdict"]

    breakdown = json.loads((run.eval / "breakdown.json").read_text())
    assert breakdown["model"] == "dpo"
    assert breakdown["by_model"]["sft"]["category"]["ups"] == {"accuracy": 1.0, "n": 10, "hallucination_rate": 0.0}
    assert breakdown["by_model"]["sft"]["category"]["power_supply"]["accuracy"] == pytest.approx(0.9)
    assert breakdown["by_model"]["sft"]["product"]["VX-PS-2290"] == {
        "category": "power_supply", "n": 5, "correct": 4, "contradicts": 1, "no_answer": 0, "degenerate": 0,
        "train_examples": 1}
    assert set(breakdown["intent"]) == set(INTENTS)
    assert breakdown["by_model"]["base"]["intent"]["get_refund"]["unparsed"] == 7
    for name in ("eval_metrics", "eval_outcomes", "eval_categories", "eval_confusion_dpo"):
        assert (run.plots / f"{name}.png").stat().st_size > 5000


def test_goals_table(tmp_path: Path, settings: Any) -> None:
    models = evaluate_run(make_run(tmp_path), settings, models=["base", "prompted", "sft"], generate=scripted).models
    table = goals(models)
    assert table.index[0].startswith("sft:") and table.met.all(), table
    # the prompted answers as if tuned: 25% accurate, never contradicting, routing F1 0.70, nothing unparsed
    assert goals({"base": models["base"], "prompted": models["prompted"], "sft": models["prompted"]}).met.tolist() \
        == [False, False, True, True, False, True]
    with pytest.raises(ValueError, match="'base'"):
        goals({"sft": models["sft"]})


def test_rerun_gives_the_same_numbers(tmp_path: Path, settings: Any) -> None:
    run = make_run(tmp_path)
    first = evaluate_run(run, settings, models=["base", "sft"], generate=scripted).models
    assert evaluate_run(run, settings, models=["base", "sft"], generate=scripted).models == first


def test_worst_answers_say_what_was_wrong(tmp_path: Path, settings: Any) -> None:
    evaluation = evaluate_run(make_run(tmp_path), settings, models=["base", "sft"], generate=scripted)
    worst = worst_answers(evaluation.frame, "sft")
    assert list(worst.id) == ["qa-1"]
    assert worst.problem[0] == "wattage_w said 550 (catalog: 450 W)"
    base_worst = worst_answers(evaluation.frame, "base", n=50)
    assert "names no known intent" in set(base_worst.problem)
    assert len(base_worst) == 40 and list(base_worst.outcome[:10]) == ["contradicts"] * 10


def test_routing_details(tmp_path: Path, settings: Any) -> None:
    evaluation = evaluate_run(make_run(tmp_path), settings, models=["prompted"], generate=scripted)
    routing = evaluation.routing("prompted")
    assert routing.confusion.to_numpy().sum() == 20
    assert routing.confusion.loc["track_order", "cancel_order"] > 0
    assert evaluation.table().loc["prompted", "factual_accuracy"].startswith("0.250 [")


def test_missing_inputs_name_the_notebook(tmp_path: Path, settings: Any) -> None:
    run = open_run("empty", tmp_path)
    with pytest.raises(FileNotFoundError, match="01_data_curation"):
        evaluate_run(run, settings, generate=scripted)
    run = make_run(tmp_path)
    assert available_models(run) == ["base", "prompted"]
    with pytest.raises(FileNotFoundError, match="03_qlora_training"):
        evaluate_run(run, settings, models=["base", "sft"])  # fails before loading any model


def test_the_baselines_answers_are_generated_once_and_reused_by_notebook_06(tmp_path: Path, settings: Any) -> None:
    run = make_run(tmp_path)
    calls: list[tuple[str, int]] = []

    def counting(name: str, examples: Sequence[dict[str, Any]]) -> list[Result]:
        calls.append((name, len(examples)))
        return scripted(name, examples)

    evaluation = baseline_report(run, settings, generate=counting)
    assert set(evaluation.models) == {"base", "prompted"} and evaluation.models["base"]["n"] == 40
    saved = json.loads((run.eval / "baseline.json").read_text())
    assert saved["split"] == "test" and "prompted" in saved["models"]
    assert not run.metrics_path.exists()  # the run's numbers are notebook 06's job
    assert calls == [("base", 40), ("prompted", 40)]
    again = evaluate_run(run, settings, models=["base", "prompted", "sft"], generate=counting)
    assert calls[2:] == [("sft", 40)]  # base and prompted answers came from eval/answers.jsonl
    assert again.models["base"] == evaluation.models["base"]
    changed = load_settings("ci", {"eval": {"max_examples": 0, "bootstrap_samples": 200, "max_new_tokens": 7}})
    evaluate_run(run, changed, models=["base"], generate=counting)
    assert calls[3:] == [("base", 40)]  # another generation setting: answered again


def untrained_adapter(folder: Path) -> None:
    """A LoRA adapter whose update is zero (B = 0): the 'tuned' model answers exactly like the base."""
    from peft import LoraConfig, get_peft_model

    from helpers.model.loading import load_model

    model = get_peft_model(load_model(quantize_4bit=False), LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                                                                        task_type="CAUSAL_LM"))
    model.save_pretrained(folder)


@pytest.mark.slow
def test_real_model_with_both_adapters(tmp_path: Path) -> None:
    settings = load_settings("ci", {"eval": {"max_examples": 2, "max_new_tokens": 12, "bootstrap_samples": 50},
                                    "model": {"quantize_4bit": False}})
    run = make_run(tmp_path)
    untrained_adapter(run.train / "adapter")
    untrained_adapter(run.dpo / "adapter")
    assert available_models(run) == ["base", "prompted", "sft", "dpo"]
    evaluate_run(run, settings, progress=False)
    gens = read_jsonl(run.eval / "generations.jsonl")
    assert len(gens) == 16 and all(isinstance(g["answer"], str) and g["new_tokens"] > 0 for g in gens)
    answers = {m: [g["answer"] for g in gens if g["model"] == m] for m in ("base", "sft", "dpo")}
    assert answers["base"] == answers["sft"] == answers["dpo"]  # zero adapters change nothing


def test_ratings_are_summarised_per_model(tmp_path: Path, settings: Any) -> None:
    from helpers.rating import RatingItem, RatingStore

    run = make_run(tmp_path)
    items = [RatingItem(f"qa-{i}", "q", {"wattage_w": 650}, "base", "sft", {"base": "x", "sft": "650 W"})
             for i in range(3)]
    with RatingStore(run.ratings / "ratings.sqlite", "ana") as store:
        store.add_items(items)
        for item in items:
            for field, value in (("help_a", 2), ("acc_a", 1), ("help_b", 5), ("acc_b", 5), ("choice", "B")):
                store.set(item.item_id, field, value, ("base", "sft"))
    evaluation = evaluate_run(run, settings, models=["base"], generate=scripted)
    table = evaluation.ratings.set_index("source")
    assert table.loc["sft", "win_rate"] == 1.0 and table.loc["base", "wins"] == 0
    assert table.loc["sft", "mean_accuracy"] == 5 and not table.simulated.any()
    saved = json.loads((run.eval / "metrics.json").read_text())["ratings"]
    assert {row["source"] for row in saved} == {"base", "sft"}


def test_kept_answers_are_reused_when_only_the_reading_of_them_changes(tmp_path: Path) -> None:
    from helpers.eval.evaluation import fingerprint

    run = open_run("cache", tmp_path)
    prompts = {"base": ("role", []), "prompted": ("system", [])}
    key = fingerprint(run, load_settings("ci"), "base", prompts)
    for reading in ({"eval.interval_method": "exact"}, {"eval.bootstrap_samples": 50}, {"eval.seed": 1},
                    {"eval.max_examples": 5}):
        assert fingerprint(run, load_settings("ci", reading), "base", prompts) == key, reading
    assert fingerprint(run, load_settings("ci", {"eval.max_new_tokens": 7}), "base", prompts) != key
    assert fingerprint(run, load_settings("ci"), "base", {**prompts, "base": ("another role", [])}) != key, \
        "answers of the base asked another way are not reused"
