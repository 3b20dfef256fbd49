"""Building the candidates file: which examples, which fields, and the run-directory contract."""
from __future__ import annotations

import pytest
from support.rating_support import seed_run_from_catalog

from helpers.core.config import load_settings
from helpers.core.examples import system_prompt
from helpers.core.runs import MissingInputError, open_run
from helpers.rating.candidates import build_candidates, choose_items, ensure_candidates, interest, usable_questions
from helpers.rating.items import load_items

REPO_CATALOG = __import__("pathlib").Path(__file__).resolve().parents[2] / "data_samples/voltaris/catalog.json"


def example(i: int, task: str = "product_qa", fields: dict | None = None, product: str | None = "VX-PS-5002"):
    return {"id": f"qa-{i}", "task": task,
            "messages": [{"role": "system", "content": system_prompt("Voltaris Hardware")},
                         {"role": "user", "content": f"Q{i}?"}, {"role": "assistant", "content": f"A{i}."}],
            "meta": {"product": product, "fields": {"wattage_w": 550} if fields is None else fields}}


def test_only_product_questions_with_facts_are_rated():
    pool = [example(0), example(1, task="routing"), example(2, fields={}), example(3, product=None), example(4)]
    assert [ex["id"] for ex in usable_questions(pool)] == ["qa-0", "qa-4"]


def test_items_worth_judging_come_first():
    assert interest(["correct", "contradicts"]) == interest(["no_answer", "correct"]) == 0
    assert interest(["contradicts", "contradicts"]) == interest(["correct", "correct"]) == 1
    assert interest(["no_answer", "degenerate"]) == interest(["no_answer", "no_answer"]) == 2
    outcomes = [["no_answer", "no_answer"], ["correct", "contradicts"], ["degenerate", "no_answer"],
                ["contradicts", "contradicts"], ["no_answer", "correct"]]
    examples = [example(i) for i in range(5)]
    assert choose_items(examples, outcomes, 2, seed=3) == [1, 4]
    assert choose_items(examples, outcomes, 3, seed=3) == [1, 3, 4]
    assert choose_items(examples, outcomes, 3, seed=3) == choose_items(examples, outcomes, 3, seed=3)


def test_build_candidates_aligns_answers_and_loads_as_items(tmp_path):
    records = build_candidates([example(0), example(1)], {"base": ["b0", "b1"], "sft": ["s0", "s1"]})
    assert records[1]["answers"] == {"base": "b1", "sft": "s1"} and records[1]["reference"] == "A1."
    assert records[0]["messages"][0]["role"] == "system" and records[0]["prompt"] == "Q0?"
    from helpers.core.runs import write_jsonl
    items = load_items(write_jsonl(tmp_path / "c.jsonl", records))
    assert items[0].prompt_messages()[-1] == {"role": "user", "content": "Q0?"}
    with pytest.raises(ValueError, match="1 answers from 'sft' for 2 examples"):
        build_candidates([example(0), example(1)], {"sft": ["s0"]})


def test_ensure_candidates_reuses_the_file_and_names_missing_inputs(tmp_path):
    settings = load_settings("ci")
    run = open_run("t", tmp_path)
    with pytest.raises(MissingInputError, match="01_data_curation"):
        ensure_candidates(run, settings)
    seed_run_from_catalog(run.root, REPO_CATALOG, n=5)
    before = (run.ratings / "candidates.jsonl").read_text()
    assert ensure_candidates(run, settings).read_text() == before  # no model is loaded


@pytest.mark.slow
def test_ensure_candidates_generates_with_the_real_model_from_the_feedback_split(tmp_path):
    """Base answers, then the same model with an (untrained) LoRA adapter from train/adapter; never test questions."""
    from peft import LoraConfig, get_peft_model

    from helpers.core.runs import read_jsonl, write_jsonl
    from helpers.model.loading import load_model

    settings = load_settings("ci", {"rating": {"n_items": 2}, "eval": {"max_new_tokens": 8},
                                    "model": {"quantize_4bit": False}})
    run = open_run("t", tmp_path)
    seed_run_from_catalog(run.root, REPO_CATALOG, n=1)
    (run.ratings / "candidates.jsonl").unlink()
    write_jsonl(run.data / "feedback.jsonl", [example(0), example(1, task="routing"), example(2)])
    write_jsonl(run.data / "test.jsonl", [example(7), example(8)])
    peft_model = get_peft_model(load_model(settings.model.base_model), LoraConfig(r=4, target_modules=["q_proj"]))
    peft_model.save_pretrained(run.train / "adapter")
    records = read_jsonl(ensure_candidates(run, settings))
    assert [r["item_id"] for r in sorted(records, key=lambda r: r["item_id"])] == ["qa-0", "qa-2"]
    assert all(set(r["answers"]) == {"base", "sft"} and all(r["answers"].values()) for r in records)
    assert len(load_items(run.ratings / "candidates.jsonl")) == 2
