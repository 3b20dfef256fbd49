"""Notebook 07 runs headless on a fixture run and writes its plots; it also copes without ratings or breakdown."""
from __future__ import annotations

import pytest

from support.budget_fixtures import make_run
from helpers.core.config import load_settings

pytestmark = pytest.mark.slow


def test_notebook_07_on_a_complete_run(run_notebook, tmp_path) -> None:
    runs = tmp_path / "runs"
    run = make_run(runs, "t")
    make_run(runs, "other", n_train=60, settings={"train": {"learning_rate": 5e-4}})
    nb = run_notebook("07_cost_and_iteration", run_name="t", runs_dir=runs, compare_with="other", timeout=300)
    for name in ("cost_breakdown.png", "cost_by_model_size.png"):
        assert (run.plots / name).stat().st_size > 0
    text = "".join(str(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert f"setting train.learning_rate: 0.0005 -> {load_settings('ci').train.learning_rate}" in text
    assert "make baseline RUN=t" in text


def test_notebook_07_without_ratings_or_breakdown(run_notebook, tmp_path) -> None:
    runs = tmp_path / "runs"
    make_run(runs, "bare", ratings=0, breakdown=False)
    nb = run_notebook("07_cost_and_iteration", run_name="bare", runs_dir=runs, timeout=300)
    text = "".join(str(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "run notebook 06_evaluation" in text
