"""Notebook 01 runs headless and leaves curated, leakage-free data in the run directory."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.runs import read_jsonl


@pytest.mark.slow
def test_notebook_01_curates_the_sample(run_notebook, tmp_path: Path) -> None:
    nb = run_notebook("01_data_curation", run_name="nb01", runs_dir=tmp_path / "runs")
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4
    run = tmp_path / "runs" / "nb01"
    card = json.loads((run / "data" / "card.json").read_text())
    assert set(card["leakage"].values()) == {0}
    assert all(r["reconciles"] for r in card["reconciliation"].values())
    assert card["token_lengths"]["n"] == sum(len(read_jsonl(run / "data" / f"{s}.jsonl")) for s in ("train", "val", "test"))
    metrics = json.loads((run / "metrics.json").read_text())
    assert 3000 <= metrics["data"]["kept_examples"] <= 5000
    assert {p.stem for p in (run / "plots").glob("*.png")} >= {"funnel", "lengths", "per_product", "per_intent"}
