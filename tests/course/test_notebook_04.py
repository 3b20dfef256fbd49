"""Notebook 04 headless: simulated raters, agreement, plots and preference pairs (candidates seeded, no model)."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from support.rating_support import seed_run_from_catalog

from helpers.core.runs import read_jsonl

CATALOG = Path(__file__).resolve().parents[2] / "data_samples/voltaris/catalog.json"


@pytest.mark.slow
def test_notebook_04_headless(tmp_path, run_notebook):
    runs = tmp_path / "runs"
    seed_run_from_catalog(runs / "t", CATALOG, n=24)
    run_notebook("04_human_rating", run_name="t", runs_dir=runs, timeout=600)
    root = runs / "t"
    conn = sqlite3.connect(root / "ratings" / "ratings.sqlite")
    rows = conn.execute("SELECT rater, simulated, choice FROM ratings").fetchall()
    conn.close()
    assert len(rows) == 48 and all(sim == 1 and choice for _, sim, choice in rows)
    pairs = read_jsonl(root / "ratings" / "preferences.jsonl")
    assert len(pairs) >= 24 and all(set(p) == {"prompt", "chosen", "rejected"} for p in pairs)
    agreement = json.loads((root / "ratings" / "agreement.json").read_text())
    assert agreement["simulated"] and agreement["alpha_accuracy"] > 0.8
    assert (root / "plots" / "rating_scores.png").stat().st_size > 10_000
