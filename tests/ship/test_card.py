"""Model cards: Hugging Face format (YAML metadata the Hub reads), and every section filled from the run's files."""
from __future__ import annotations

import pytest
import yaml

from helpers.core import record
from helpers.core.config import load_settings
from helpers.core.runs import open_run, write_json
from helpers.ship.card import model_card, write_cards
from helpers.ship.export import specialist

MODELS = {
    "base": {"factual_accuracy": 0.0, "factual_accuracy_ci": [0.0, 0.0], "hallucination_rate": 0.18,
             "hallucination_rate_ci": [0.07, 0.32], "rouge_l": 0.21, "rouge_l_ci": [0.18, 0.24],
             "intent_macro_f1": 0.0, "intent_macro_f1_ci": [0.0, 0.0], "n_product_qa": 28, "n_routing": 80},
    "dpo": {"factual_accuracy": 0.3214, "factual_accuracy_ci": [0.1786, 0.5], "hallucination_rate": 0.5714,
            "hallucination_rate_ci": [0.3929, 0.75], "rouge_l": 0.61, "rouge_l_ci": [0.55, 0.67],
            "intent_macro_f1": 0.8712, "intent_macro_f1_ci": [0.8, 0.93], "n_product_qa": 28, "n_routing": 80}}


@pytest.fixture
def run(tmp_path):
    run = open_run("cardrun", tmp_path / "runs")
    for folder in ("train", "dpo"):
        adapter = run.root / folder / "adapter"
        adapter.mkdir(parents=True)
        (adapter / "adapter_model.safetensors").write_bytes(folder.encode() * 100)
        (adapter / "adapter_config.json").write_text("{}")
    settings = load_settings("cpu-demo").to_dict()
    write_json(run.train / "adapter" / "metadata.json", {
        "settings": settings, "libraries": {"torch": "2.13.0", "peft": "0.21.2"},
        "final_metrics": {"steps": 80, "best_step": 80, "first_val_loss": 3.1, "best_val_loss": 0.92,
                          "device": "cpu", "wall_seconds": 301.5}})
    write_json(run.dpo / "adapter" / "metadata.json", {
        "settings": settings, "final_metrics": {"steps": 12, "pairs_train": 30, "held_out_accuracy_before": 0.5,
                                                "held_out_accuracy_after": 0.75}})
    write_json(run.data / "card.json", {
        "scope": {"products": ["VX-AD-2120", "VX-UP-1736"]},
        "splits": {"train": {"n": 465, "by_task": {"product_qa": 249, "routing": 216}},
                   "test": {"n": 130, "by_task": {"product_qa": 28, "routing": 102}}},
        "reconciliation": {"ticket": {"read": 3600, "kept": 178}}, "pii_placeholders": {"EMAIL": 46, "PHONE": 39},
        "leakage": {"shared_questions": 0}})
    write_json(run.eval / "metrics.json", {"ratings": [{"source": "dpo", "simulated": True}]})
    record.update(run, {"profile": "cpu-demo", "models": MODELS,
                        "export": {"gguf_agreement": 0.975, "gguf_questions": 108, "gguf_factual_accuracy": 0.3214,
                                   "adapter_factual_accuracy": 0.3214}})
    return run


def _split(card: str) -> tuple[dict, str]:
    _, header, body = card.split("---\n", 2)
    return yaml.safe_load(header), body


def test_adapter_card_metadata_is_the_hub_format(run):
    meta, _ = _split(model_card(run, load_settings("cpu-demo"), specialist(run), "adapter"))
    assert meta["base_model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert meta["library_name"] == "peft" and meta["license"] == "apache-2.0"
    assert {"lora", "qlora", "dpo"} <= set(meta["tags"])
    assert "datasets" not in meta, "the training data is private: no hub dataset is claimed"
    results = meta["model-index"][0]["results"]
    assert {r["metrics"][0]["name"]: r["metrics"][0]["value"] for r in results}["factual accuracy"] == 0.3214
    assert all(r["dataset"]["type"] == "private" and r["dataset"]["split"] == "test" for r in results)


def test_adapter_card_body_comes_from_the_run(run):
    spec = specialist(run)
    _, body = _split(model_card(run, load_settings("cpu-demo"), spec, "adapter"))
    assert spec.version.startswith("cardrun/dpo@") and spec.version in body
    assert "| dpo | 0.321 [0.179, 0.500] | 0.571 [0.393, 0.750]" in body  # evaluation with intervals
    assert "| base | 0.000 [0.000, 0.000] | 0.180 [0.070, 0.320]" in body
    assert "hallucination rate 0.57 [0.39, 0.75]** on product questions (base model: 0.18)" in body
    assert "**simulated**" in body
    assert "## Intended use" in body and "## Out-of-scope use" in body
    assert "LoRA rank / alpha / dropout | 16 / 32 / 0.0" in body and "3.1 -> 0.92" in body
    assert "beta 0.1" in body and "0.5 -> 0.75" in body
    assert "VX-AD-2120, VX-UP-1736" in body and "EMAIL 46" in body and "Private data" in body
    assert "PeftModel.from_pretrained" in body


def test_merged_card_says_what_was_merged_and_how_the_export_checked_out(run, tmp_path):
    merged = tmp_path / "merged"
    merged.mkdir()
    paths = write_cards(run, load_settings("cpu-demo"), specialist(run), merged, run.root / "ship" / "adapter")
    meta, body = _split(paths["merged"].read_text())
    assert meta["library_name"] == "transformers"
    assert "4-bit NF4, dequantized" in body
    assert "97.5% of 108 test questions" in body
    assert (run.root / "ship" / "adapter" / "adapter_model.safetensors").exists()  # the card sits with its adapter
    assert paths["adapter"].read_text().startswith("---\n")


def test_human_ratings_are_not_called_simulated(run):
    write_json(run.eval / "metrics.json", {"ratings": [{"source": "dpo", "simulated": False}]})
    _, body = _split(model_card(run, load_settings("cpu-demo"), specialist(run), "adapter"))
    assert "simulated" not in body and "given by people" in body
