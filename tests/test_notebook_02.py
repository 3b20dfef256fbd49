"""Notebook 02 runs headless after notebook 01: memory table and plot, validation, baselines, run cost."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_notebook_02_after_curation(run_notebook, tmp_path) -> None:
    runs = tmp_path / "runs"
    run_notebook("01_data_curation", run_name="t", runs_dir=runs)
    # the local memory measurement has its own test (tests/test_budget_measured.py); skip it here to save minutes
    nb = run_notebook("02_base_model_and_budget", run_name="t", runs_dir=runs, measure_here=False)
    assert (runs / "t" / "plots" / "memory_per_method.png").stat().st_size > 0
    assert (runs / "t" / "eval" / "baseline.json").exists()
    text = "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                   for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "tokens per run" in text and "estimates agree" in text
