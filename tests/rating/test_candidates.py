"""Building the candidates file: which examples, which fields, and the run-directory contract."""
from __future__ import annotations

import pytest
from support.rating_support import seed_run_from_catalog

from helpers.core.config import load_settings
from helpers.core.examples import SYSTEM_PROMPT
from helpers.core.runs import MissingInputError, open_run
from helpers.rating.candidates import build_candidates, ensure_candidates, select_examples
from helpers.rating.items import load_items

REPO_CATALOG = __import__("pathlib").Path(__file__).resolve().parents[2] / "data_samples/voltaris/catalog.json"


def example(i: int, task: str = "product_qa", fields: dict | None = None, product: str | None = "VX-PS-4471"):
    return {"id": f"qa-{i}", "task": task,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": f"Q{i}?"},
                         {"role": "assistant", "content": f"A{i}."}],
            "meta": {"product": product, "fields": {"wattage_w": 650} if fields is None else fields}}


def test_select_examples_keeps_product_questions_with_facts():
    pool = [example(0), example(1, task="routing"), example(2, fields={}), example(3, product=None), example(4)]
    chosen = select_examples(pool, 10, seed=1)
    assert sorted(ex["id"] for ex in chosen) == ["qa-0", "qa-4"]
    assert select_examples(pool, 1, seed=1) == select_examples(pool, 1, seed=1)


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
def test_ensure_candidates_generates_with_the_real_model(tmp_path):
    """Base answers, then the same model with an (untrained) LoRA adapter from train/adapter."""
    from peft import LoraConfig, get_peft_model

    from helpers.core.runs import read_jsonl, write_jsonl
    from helpers.model.loading import load_model

    settings = load_settings("ci", {"rating": {"n_items": 2}, "eval": {"max_new_tokens": 8},
                                    "model": {"quantize_4bit": False}})
    run = open_run("t", tmp_path)
    write_jsonl(run.data / "test.jsonl", [example(0), example(1, task="routing"), example(2)])
    peft_model = get_peft_model(load_model(settings.model.base_model), LoraConfig(r=4, target_modules=["q_proj"]))
    peft_model.save_pretrained(run.train / "adapter")
    records = read_jsonl(ensure_candidates(run, settings))
    assert [r["item_id"] for r in sorted(records, key=lambda r: r["item_id"])] == ["qa-0", "qa-2"]
    assert all(set(r["answers"]) == {"base", "sft"} and all(r["answers"].values()) for r in records)
    assert len(load_items(run.ratings / "candidates.jsonl")) == 2
