"""The regression check on hand-made metrics: passes within tolerance, fails readably when made worse."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.eval.regression import (BaselineError, assert_no_regression, check_run, compare_metrics, main, promote)

REPO = Path(__file__).resolve().parents[2]
GOOD = {"factual_accuracy": 0.80, "hallucination_rate": 0.10, "rouge_l": 0.60, "intent_macro_f1": 0.90, "n": 96}


def _run(tmp_path: Path, models: dict, name: str = "r1") -> Path:
    run = tmp_path / name
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps({"profile": "ci", "models": models}))
    return run


def _baseline(tmp_path: Path) -> Path:
    path = tmp_path / "ci.json"
    path.write_text(json.dumps({"profile": "ci", "tolerances": {"factual_accuracy": 0.05, "hallucination_rate": 0.05,
                                                                "rouge_l": 0.05, "intent_macro_f1": 0.05},
                                "models": {"base": {**GOOD, "factual_accuracy": 0.1}, "sft": GOOD}}))
    return path


def test_same_or_better_metrics_pass(tmp_path: Path) -> None:
    better = {**GOOD, "factual_accuracy": 0.95, "hallucination_rate": 0.0}
    run = _run(tmp_path, {"base": {**GOOD, "factual_accuracy": 0.07}, "sft": better})
    report = check_run(run, _baseline(tmp_path))
    assert not report.failed and len(report.rows) == 8
    assert "No regression: 8 metrics" in report.summary()


def test_metric_made_worse_on_purpose_fails_with_readable_table(tmp_path: Path) -> None:
    worse = {**GOOD, "factual_accuracy": 0.60, "hallucination_rate": 0.30}
    run = _run(tmp_path, {"base": {**GOOD, "factual_accuracy": 0.1}, "sft": worse})
    report = check_run(run, _baseline(tmp_path))
    assert report.failed
    assert [(r.model, r.metric, r.status) for r in report.failures] == [
        ("sft", "factual_accuracy", "WORSE"), ("sft", "hallucination_rate", "WORSE")]
    text = report.summary()
    assert "REGRESSION: 2 of 8 metrics" in text
    lines = text.splitlines()
    assert lines[1].split() == ["model", "metric", "baseline", "current", "change", "tolerance", "status"]
    assert any(line.split()[:5] == ["sft", "factual_accuracy", "0.800", "0.600", "-0.200"] for line in lines)
    assert any("hallucination_rate (lower is better)" in line and "+0.200" in line for line in lines)
    with pytest.raises(AssertionError, match="factual_accuracy"):
        assert_no_regression(run, _baseline(tmp_path))


def test_small_drop_within_tolerance_passes_and_lower_hallucination_is_better(tmp_path: Path) -> None:
    report = compare_metrics({"models": {"sft": {**GOOD, "factual_accuracy": 0.76, "hallucination_rate": 0.14}}},
                             {"models": {"sft": GOOD}, "tolerances": {"factual_accuracy": 0.05,
                                                                      "hallucination_rate": 0.05}})
    assert not report.failed
    rows = {r.metric: r for r in report.rows}
    assert rows["hallucination_rate"].worse_by == pytest.approx(0.04)
    assert rows["factual_accuracy"].worse_by == pytest.approx(0.04)


def test_missing_model_or_metric_fails(tmp_path: Path) -> None:
    report = compare_metrics({"models": {"sft": {"factual_accuracy": 0.8}}}, {"models": {"sft": GOOD, "dpo": GOOD}})
    assert {(r.model, r.metric) for r in report.failures} >= {("dpo", "factual_accuracy"), ("sft", "rouge_l")}
    assert all(r.status == "MISSING" for r in report.failures)


def test_bad_inputs_name_the_file_and_field(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="no 'models' block"):
        compare_metrics({"models": {}}, {"profile": "ci"})
    with pytest.raises(BaselineError, match=r"metrics models\.sft\.rouge_l must be a number"):
        compare_metrics({"models": {"sft": {**GOOD, "rouge_l": "high"}}}, {"models": {"sft": GOOD}})
    broken = tmp_path / "broken.json"
    broken.write_text('{"models":\n')
    with pytest.raises(BaselineError, match="broken.json is not valid JSON"):
        check_run(_run(tmp_path, {"sft": GOOD}), broken)


def test_promote_then_check_roundtrip_keeps_tolerances(tmp_path: Path) -> None:
    baseline = _baseline(tmp_path)
    run = _run(tmp_path, {"sft": {**GOOD, "factual_accuracy": 0.9, "factual_accuracy_ci": [0.8, 0.95]}}, "fresh")
    promote(run, baseline)
    written = json.loads(baseline.read_text())
    # Only the headline metrics travel: no intervals, no counts.
    assert written["models"] == {"sft": {"factual_accuracy": 0.9, "hallucination_rate": 0.10, "rouge_l": 0.60,
                                         "intent_macro_f1": 0.90}}
    assert written["tolerances"]["rouge_l"] == 0.05 and written["source_run"] == "fresh"
    assert not check_run(run, baseline).failed


def test_promote_without_models_says_which_notebook(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="06_evaluation"):
        promote(_run(tmp_path, {}), tmp_path / "x.json")


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = _baseline(tmp_path)
    ok = _run(tmp_path, {"base": {**GOOD, "factual_accuracy": 0.1}, "sft": GOOD}, "ok")
    bad = _run(tmp_path, {"base": {**GOOD, "factual_accuracy": 0.1}, "sft": {**GOOD, "rouge_l": 0.2}}, "bad")
    assert main(["check", str(ok), "--baseline", str(baseline)]) == 0
    assert main(["check", str(bad), "--baseline", str(baseline)]) == 1
    assert "sft    rouge_l" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "nope"), "--baseline", str(baseline)]) == 2


def test_cli_runs_as_module(tmp_path: Path) -> None:
    bad = _run(tmp_path, {"base": {**GOOD, "factual_accuracy": 0.1}, "sft": {**GOOD, "intent_macro_f1": 0.5}})
    done = subprocess.run([sys.executable, "-m", "helpers.eval.regression", "check", str(bad), "--baseline",
                           str(_baseline(tmp_path))], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 1 and "intent_macro_f1" in done.stdout and "WORSE" in done.stdout
