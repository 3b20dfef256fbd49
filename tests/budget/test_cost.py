"""Training time and cost, and the total cost of ownership, from a run's measured numbers."""
from __future__ import annotations

import json

import pytest

from support.budget_fixtures import SUMMARY, make_run
from helpers.budget.cost import (compare_model_sizes, flops_per_token, model_params, plot_cost_breakdown,
                                 plot_size_comparison, rating_hours, read_measured, scale_throughput,
                                 total_cost_of_ownership, training_cost, training_hours)
from helpers.core.config import load_settings
from helpers.core.runs import MissingInputError, open_run


def test_time_and_cost_arithmetic() -> None:
    assert training_hours(3600 * 1000, 1000) == pytest.approx(1.0)
    assert training_hours(3600 * 1000, 1000, gpus=2) == pytest.approx(0.5)
    assert training_cost(3600 * 1000, 1000, price_per_gpu_hour=2.5, gpus=2) == pytest.approx(2.5)
    assert flops_per_token(1e9, "full") == 6e9 and flops_per_token(1e9, "qlora") == 4e9
    assert scale_throughput(100, 1e9, 10e9) == pytest.approx(10)
    with pytest.raises(ValueError):
        training_hours(100, 0)


def test_read_measured_and_missing_or_broken_summary(tmp_path) -> None:
    run = make_run(tmp_path)
    m = read_measured(run)
    assert m.tokens_per_second == SUMMARY["tokens_per_second"] and m.tokens_trained == SUMMARY["tokens_trained"]
    empty = open_run("empty", tmp_path)
    with pytest.raises(MissingInputError, match="run notebook 03_qlora_training"):
        read_measured(empty)
    (empty.train / "summary.json").write_text(json.dumps({"tokens_per_second": 1}))
    with pytest.raises(ValueError, match="summary.json.*tokens_trained"):
        read_measured(empty)


def test_rating_hours_from_timestamps_skips_breaks(tmp_path) -> None:
    run = make_run(tmp_path, ratings=6)
    hours = rating_hours(run, load_settings("ci"))
    assert hours["human_hours"] == pytest.approx(6 / 60)  # 4 one-minute steps + 1 assumed after the break + 1
    assert hours["assumed_hours"] == pytest.approx(6 / 60)  # simulated: 6 x 1 minute per item
    assert rating_hours(make_run(tmp_path, "none", ratings=0), load_settings("ci"))["ratings"] == 0


def test_tco_follows_measured_numbers_and_settings(tmp_path) -> None:
    settings = load_settings("ci", {"budget": {"gpu_hour_price": 3.0, "hourly_rate": 60.0,
                                               "annotation_minutes_per_example": 2.0, "experiments_per_run": 4,
                                               "retrain_per_year": 2}})
    run = make_run(tmp_path)
    items = total_cost_of_ownership(run, settings, new_data_fraction=0.5)
    final = 720 / 3600 * 3.0
    annotation = 50 * 2.0 / 60 * 60.0
    rating = (6 / 60 + 6 / 60) * 60.0
    assert items["final training run"] == pytest.approx(final)
    assert items["experiments"] == pytest.approx(4 * final)
    assert items["data preparation and annotation"] == pytest.approx(annotation)
    assert items["evaluation and rating"] == pytest.approx(rating)
    assert items["upkeep (retraining)"] == pytest.approx(2 * (final + rating + 0.5 * annotation))
    slower = make_run(tmp_path, "slow", summary={"wall_seconds": 1440.0})
    assert total_cost_of_ownership(slower, settings)["final training run"] == pytest.approx(2 * final)
    fig = plot_cost_breakdown(items)
    assert len(fig.axes[0].patches) == 5


def test_model_size_comparison_scales_by_parameters(tmp_path) -> None:
    settings = load_settings("ci", {"budget": {"gpu_memory_gb": 24.0}})
    table = compare_model_sizes(make_run(tmp_path), settings)
    assert list(table["model"]) == ["default", "1B", "7B", "13B", "70B"]
    by = table.set_index("model")
    ratio = model_params("70B") / model_params("7B")
    assert by.loc["70B", "hours_here"] / by.loc["7B", "hours_here"] == pytest.approx(ratio, rel=0.01)
    assert by.loc["default", "hours_here"] == pytest.approx(SUMMARY["tokens_trained"] / SUMMARY["tokens_per_second"] / 3600,
                                                           rel=0.01)
    assert bool(by.loc["7B", "fits_gpu"]) and not bool(by.loc["70B", "fits_gpu"])
    assert len(plot_size_comparison(table).axes[0].patches) == 5
