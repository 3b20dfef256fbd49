"""Comparing two runs: what changed and what moved in metrics.json."""
from __future__ import annotations

import copy

import pytest

from support.budget_fixtures import METRICS, make_run
from helpers.budget.run_comparison import compare_runs, diff, flatten
from helpers.core.config import load_settings


def test_flatten_and_diff() -> None:
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": [1]}) == {"a.b": 1, "a.c.d": 2, "e": [1]}
    assert diff({"a": {"b": 1}}, {"a": {"b": 2}, "x": 3}) == {"a.b": (1, 2), "x": (None, 3)}


def test_identical_runs_show_no_changes(tmp_path) -> None:
    a, b = make_run(tmp_path, "a"), make_run(tmp_path, "b")
    comp = compare_runs(a, b)
    assert not comp.model_changed and not comp.data_changed and not comp.settings_changed
    assert "same splits" in comp.summary() and "settings: identical" in comp.summary()
    assert (comp.metrics_table()["B - A"].fillna(0) == 0).all()


def test_changed_data_settings_and_metrics(tmp_path) -> None:
    better = copy.deepcopy(METRICS)
    better["models"]["sft"].update({"factual_accuracy": 0.65, "hallucination_rate": 0.15})
    a = make_run(tmp_path, "a")
    b = make_run(tmp_path, "b", n_train=60, settings={"train": {"learning_rate": 5e-4}}, metrics=better)
    comp = compare_runs(a, b)
    assert set(comp.data_changed) == {"train"}
    ci_rate = load_settings("ci").train.learning_rate
    assert comp.settings_changed == {"train.learning_rate": (ci_rate, 5e-4)}
    table = comp.metrics_table().set_index("metric")
    assert table.loc["models.sft.factual_accuracy", "B - A"] == pytest.approx(0.10)
    assert table.loc["models.sft.factual_accuracy", "B better"] == True  # noqa: E712 - numpy bool
    assert table.loc["models.sft.hallucination_rate", "B better"] == True  # noqa: E712 - lower is better
    assert f"train.learning_rate: {ci_rate} -> 0.0005" in comp.summary()


def test_broken_metrics_file_names_the_file(tmp_path) -> None:
    a = make_run(tmp_path, "a")
    a.metrics_path.write_text("{not json")
    with pytest.raises(ValueError, match="metrics.json"):
        compare_runs(a, make_run(tmp_path, "b"))
