"""Notebook 01 on another vendor's folder, with no code change: a second domain and schema, no ground truth."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.core.examples import reference_answer
from helpers.core.runs import read_jsonl
from helpers.data.catalog import Catalog
from helpers.data.fact_check import FactChecker
from helpers.data.outcomes import classify
from helpers.data.splits import SPLITS


def _outputs(nb) -> str:
    """Everything the executed notebook printed or displayed, as text and HTML."""
    return "".join(str(o.get("text", "")) + "".join(str(v) for v in o.get("data", {}).values())
                   for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.mark.slow
def test_notebook_01_curates_the_second_domain(tmp_path: Path, run_notebook, repo: Path) -> None:
    source = repo / "data_samples" / "hearthline"
    nb = run_notebook("01_data_curation", source_dir=str(source), timeout=900)
    data = tmp_path / "runs" / "t" / "data"
    card = json.loads((data / "card.json").read_text())
    assert card["source_dir"] == str(source)
    assert all(r["reconciles"] for r in card["reconciliation"].values()), card["reconciliation"]
    assert all(f["reconciles"] for f in card["files"] if f["status"] == "read")
    assert {f["file"] for f in card["files"] if f["status"] == "read"} == {
        "helpdesk_2024.csv", "chats_2025.jsonl", "returns_2023.tsv"}
    assert set(card["leakage"].values()) == {0}, card["leakage"]
    catalog = Catalog.load(data / "catalog.json")
    assert set(catalog.fields) == set(json.loads((source / "catalog.schema.json").read_text())["fields"])
    codes = {p.code for p in Catalog.load(source / "catalog.json").products}
    checker = FactChecker(catalog)
    for split in SPLITS:
        qa = [ex for ex in read_jsonl(data / f"{split}.jsonl") if ex["task"] == "product_qa"]
        assert qa and {ex["meta"]["product"] for ex in qa} <= codes, split
        for ex in qa:  # the new domain's reference answers are right by the checker that evaluation uses
            outcome = classify(reference_answer(ex), ex["meta"]["product"], ex["meta"]["fields"], checker)
            assert outcome.outcome == "correct", (ex, outcome)
    assert any(ex["meta"]["source"] == "ticket" for ex in read_jsonl(data / "train.jsonl"))
    shown = _outputs(nb)
    assert "no ground_truth.json" in shown and "independent set: recall" in shown
    assert "redaction:" in shown and "removal:" in shown  # the samples for a person to check
    assert "&lt;IBAN&gt;" in shown and '"unit": "L"' in shown  # a redacted IBAN; the declaration of a field
