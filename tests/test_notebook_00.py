"""Notebook 00 runs headless and records the run's profile and base model."""
import json

import pytest


@pytest.mark.slow
def test_notebook_00_runs_headless(run_notebook, tmp_path):
    nb = run_notebook("00_setup")
    metrics = json.loads((tmp_path / "runs" / "t" / "metrics.json").read_text())
    assert metrics["profile"] == "ci" and metrics["base_model"] == "default"
    text = "".join(str(o.get("data", {}).get("text/plain", "")) for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)
    assert "4-bit NF4 matmul" in text and "verdict" in text
