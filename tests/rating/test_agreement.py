"""Agreement numbers against the libraries, readings, per-rater statistics, position bias, plots."""
from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.metrics import cohen_kappa_score

from helpers.rating import agreement as ag
from helpers.rating.store import Rating


def rating(rater, item, acc_a, acc_b, choice, shown=("base", "sft"), help_a=3, help_b=3, sim=False):
    return Rating(rater, item, *shown, help_a=help_a, acc_a=acc_a, help_b=help_b, acc_b=acc_b, choice=choice,
                  simulated=sim)


R1 = [rating("r1", f"i{k}", a, b, c) for k, (a, b, c) in enumerate(
    [(1, 5, "B"), (2, 4, "B"), (5, 1, "A"), (3, 3, "tie"), (1, 2, "both_bad"), (4, 5, "B")])]
R2 = [rating("r2", f"i{k}", a, b, c) for k, (a, b, c) in enumerate(
    [(1, 4, "B"), (3, 4, "B"), (4, 1, "A"), (3, 2, "A"), (2, 2, "both_bad"), (5, 4, "A")])]


def test_alpha_matches_krippendorff_directly():
    data = np.array([[r.acc_a for r in R1] + [r.acc_b for r in R1], [r.acc_a for r in R2] + [r.acc_b for r in R2]],
                    dtype=float)
    # the helper orders units by (item, source); reorder the same way
    order = np.lexsort((np.array([0] * 6 + [1] * 6), np.array(list(range(6)) * 2)))
    expected = krippendorff.alpha(reliability_data=data[:, order], level_of_measurement="ordinal",
                                  value_domain=list(range(1, 6)))
    assert ag.alpha(R1 + R2, "accuracy") == pytest.approx(expected)
    assert ag.alpha(R1 + R1[:0] + [r.__class__(**{**r.__dict__, "rater": "r3"}) for r in R1], "preference") == 1.0


def test_kappa_matches_scikit_learn():
    x = [r.acc_a for r in R1] + [r.acc_b for r in R1]
    y = [r.acc_a for r in R2] + [r.acc_b for r in R2]
    expected = cohen_kappa_score(x, y, weights="quadratic", labels=list(range(1, 6)))
    assert ag.kappa(R1 + R2, "r1", "r2") == pytest.approx(expected)
    table = ag.pairwise_kappas(R1 + R2)
    assert list(table.columns) == ["rater_1", "rater_2", "scale", "kappa", "reading"] and len(table) == 1


def test_not_measurable_with_one_rater():
    assert math.isnan(ag.alpha(R1, "accuracy"))
    assert ag.interpret(float("nan")).startswith("not measurable")
    with pytest.raises(ValueError, match="what must be"):
        ag.alpha(R1, "speed")


@pytest.mark.parametrize("value, measure, words", [
    (0.9, "alpha", "reliable"), (0.7, "alpha", "tentative"), (0.3, "alpha", "too low"), (-0.1, "alpha", "chance"),
    (0.5, "kappa", "moderate"), (0.85, "kappa", "almost perfect")])
def test_plain_readings(value, measure, words):
    assert words in ag.interpret(value, measure)


def test_lowest_agreement_lists_split_items_first():
    low = ag.lowest_agreement(R1 + R2, n=3)
    assert set(low.item_id[:2]) == {"i3", "i5"} and low.preference_split.iloc[0] == 0.5
    twin = [r.__class__(**{**r.__dict__, "rater": "twin"}) for r in R1]
    assert ag.lowest_agreement(R1 + twin).empty  # perfect agreement: nothing to discuss


def test_position_bias_and_rater_stats():
    leaning = [rating("lean", f"i{k}", 3, 3, "A") for k in range(12)]
    bias = ag.position_bias(leaning)
    assert bias["rate_a"] == 1.0 and bias["p_value"] < 0.001 and "position sways" in bias["reading"]
    assert "no position bias" in ag.position_bias(R1)["reading"]
    stats = ag.rater_stats(R1 + R2 + [Rating("r3", "i0", "base", "sft", skipped=True)]).set_index("rater")
    assert stats.loc["r1", "rated"] == 6 and stats.loc["r1", "share_B"] == pytest.approx(0.5)
    assert stats.loc["r3", "skipped"] == 1 and stats.loc["r2", "position_a_rate"] == pytest.approx(3 / 5)


def test_source_summary_counts_wins():
    table = ag.source_summary(R1).set_index("source")
    assert (table.loc["sft", "wins"], table.loc["base", "wins"], table.loc["sft", "ties"]) == (3, 1, 1)
    assert table.loc["sft", "win_rate"] == pytest.approx(0.5)


def test_summary_and_plot():
    summary = ag.agreement_summary(R1 + R2)
    assert summary["raters"] == ["r1", "r2"] and summary["alpha_accuracy"] is not None
    text = ag.agreement_text(summary)
    assert f"alpha, accuracy: {summary['alpha_accuracy']:.2f}" in text and "r1 vs r2" in text
    assert "n/a - not measurable" in ag.agreement_text(ag.agreement_summary(R1))
    fig = ag.plot_score_distributions([r.__class__(**{**r.__dict__, "simulated": True}) for r in R1 + R2])
    assert isinstance(fig, Figure) and len(fig.axes) == 2 and "Simulated" in fig._suptitle.get_text()


def test_a_skipped_item_is_not_a_finished_judgement():
    chose_then_skipped = Rating("r1", "qa-000", "base", "sft", help_a=3, acc_a=3, help_b=3, acc_b=3, choice="A",
                                skipped=True)
    assert ag.finished([chose_then_skipped]) == [] and chose_then_skipped.vote is None
    assert ag.rater_stats([chose_then_skipped]).iloc[0][["rated", "skipped"]].tolist() == [0, 1]
