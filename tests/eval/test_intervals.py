"""Bootstrap intervals, paired tests and verdicts on cases with known answers."""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from scipy.stats import binomtest

from helpers.eval.intervals import (Interval, bootstrap_ci, bootstrap_difference, bootstrap_statistic, mcnemar_exact,
                             paired_bootstrap_means, proportion_ci, verdict)


def test_bootstrap_ci_is_seeded_and_contains_the_mean() -> None:
    values = [1] * 30 + [0] * 70
    a, b = bootstrap_ci(values, 500, seed=3), bootstrap_ci(values, 500, seed=3)
    assert a == b
    assert a.value == pytest.approx(0.3) and a.low < 0.3 < a.high
    # Binomial standard error sqrt(.3*.7/100) = 0.046: the 95% interval is about +-0.09.
    assert a.high - a.low == pytest.approx(2 * 1.96 * 0.0458, abs=0.03)
    assert bootstrap_ci(values, 500, seed=4) != a


def test_bootstrap_of_constant_values_has_zero_width() -> None:
    ci = bootstrap_ci([1, 1, 1, 1], 200)
    assert (ci.value, ci.low, ci.high) == (1.0, 1.0, 1.0)


def test_bootstrap_statistic_matches_bootstrap_ci_for_the_mean() -> None:
    values = np.array([0.2, 0.9, 0.4, 0.5, 0.1, 0.8])
    general = bootstrap_statistic(values.size, lambda i: float(values[i].mean()), 300, seed=1)
    assert general == bootstrap_ci(values, 300, seed=1)


def test_bootstrap_rejects_empty() -> None:
    with pytest.raises(ValueError, match="empty"):
        bootstrap_ci([], 10)


def test_interval_overlap() -> None:
    assert Interval(0.5, 0.4, 0.6).overlaps(Interval(0.7, 0.55, 0.8))
    assert not Interval(0.5, 0.4, 0.6).overlaps(Interval(0.9, 0.8, 1.0))
    assert Interval(0.5, 0.41234, 0.6).as_list() == [0.4123, 0.6]


def test_paired_bootstrap_finds_a_clear_improvement() -> None:
    a = [0] * 40 + [1] * 10
    b = [1] * 45 + [0] * 5
    result = paired_bootstrap_means(a, b, 1000, seed=0)
    assert result.difference == pytest.approx(0.7)
    # Per-example differences: 40 x +1, 5 x 0, 5 x -1; standard error 0.09, so about 0.52 to 0.88.
    assert 0.45 < result.low < result.difference < result.high <= 0.9
    assert result.p_value <= 0.002
    text = verdict("factual accuracy", "base", "sft", result)
    assert text.startswith("factual accuracy: sft is better than base by 70.0 points")
    assert "unlikely to be chance" in text


def test_paired_bootstrap_of_identical_models_is_no_difference() -> None:
    a = [1, 0, 1, 0, 1]
    result = paired_bootstrap_means(a, a, 200)
    assert result.difference == 0 and result.p_value == 1.0
    assert "identical" in verdict("accuracy", "x", "y", result)


def test_small_noisy_difference_is_not_called() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 30)
    b = a.copy()
    b[:2] = 1 - b[:2]
    text = verdict("accuracy", "base", "sft", paired_bootstrap_means(a, b, 500))
    assert "no clear difference" in text


def test_lower_is_better_flips_the_winner() -> None:
    a, b = [1] * 30 + [0] * 20, [0] * 45 + [1] * 5  # hallucination rate falls from 0.6 to 0.1
    text = verdict("hallucination rate", "base", "sft", paired_bootstrap_means(a, b, 500), higher_is_better=False)
    assert text.startswith("hallucination rate: sft is better than base by 50.0 points")


def test_paired_bootstrap_rejects_unpaired_inputs() -> None:
    with pytest.raises(ValueError, match="same examples"):
        paired_bootstrap_means([1, 0], [1, 0, 1])


def test_mcnemar_exact_matches_scipy_binomial() -> None:
    a = [True] * 10 + [False] * 12 + [True] * 3 + [False] * 5
    b = [True] * 10 + [True] * 12 + [False] * 3 + [False] * 5
    result = mcnemar_exact(a, b)
    assert (result.only_a_right, result.only_b_right) == (3, 12)
    assert result.p_value == pytest.approx(binomtest(12, 15, 0.5).pvalue)
    assert result.p_value == pytest.approx(0.03515625)  # 2 * P(X <= 3), X ~ Bin(15, 1/2)
    assert mcnemar_exact([True, False], [True, False]).p_value == 1.0


def test_unpaired_difference_for_independent_groups() -> None:
    control, pilot = [0] * 80 + [1] * 20, [0] * 90 + [1] * 10
    result = bootstrap_difference(control, pilot, 1000, seed=2)
    assert result.difference == pytest.approx(-0.1)
    assert result.low < -0.1 < result.high < 0.01


def _wilson_by_hand(k: int, n: int, z: float) -> tuple[float, float]:
    """Notebook 06's Wilson interval, written out."""
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def test_the_wilson_formula_by_hand_is_the_librarys_with_the_exact_normal_point() -> None:
    """Notebook 06 checks its hand-computed interval against proportion_ci: with z = 1.96 the fourth decimal differed
    for 74 of 79 (0.8602 against 0.8603) and a whole course stopped there; the exact 97.5% point agrees everywhere."""
    z = NormalDist().inv_cdf(0.975)
    for n in range(1, 121):
        for k in range(n + 1):
            ci = proportion_ci(k, n, method="wilson")
            assert all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(_wilson_by_hand(k, n, z), (ci.low, ci.high)))
    assert round(_wilson_by_hand(74, 79, 1.96)[0], 4) != proportion_ci(74, 79).as_list()[0]
