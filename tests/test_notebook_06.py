"""Notebook 06 headless (papermill, ci profile) on a hand-made run with an untrained adapter standing in for SFT."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from test_evaluation import make_run, untrained_adapter


@pytest.mark.slow
def test_notebook_06_runs_headless_and_writes_the_run_metrics(tmp_path: Path, run_notebook: Callable) -> None:
    runs = tmp_path / "runs"
    run = make_run(runs)
    untrained_adapter(run.train / "adapter")
    nb = run_notebook("06_evaluation", run_name=run.name, runs_dir=runs,
                      overrides={"eval": {"max_examples": 4, "max_new_tokens": 24, "bootstrap_samples": 100}})
    models = json.loads(run.metrics_path.read_text())["models"]
    assert set(models) == {"base", "prompted", "sft"}
    assert models["sft"]["n"] == 8 and models["sft"]["factual_accuracy"] == models["base"]["factual_accuracy"]
    assert len([json.loads(x) for x in (run.eval / "generations.jsonl").read_text().splitlines()]) == 24
    assert (run.plots / "eval_metrics.png").exists() and (run.eval / "breakdown.json").exists()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "The escalation rate went from" in text and "evaluation complete for" in text
