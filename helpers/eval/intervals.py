"""Uncertainty and comparison: intervals, paired tests, and a verdict in plain words.

* a proportion (factual accuracy, hallucination rate) gets a Wilson score interval, or the exact
  Clopper-Pearson one (both from scipy's ``binomtest``): unlike a bootstrap they do not collapse to
  [0, 0] when nothing was right, and they stay honest near 0 and 1 on small samples;
* a score without a formula for its spread (macro F1, mean ROUGE-L) gets a percentile bootstrap;
* two models on the same examples are compared pairwise: right/wrong outcomes by McNemar's exact test,
  scores by a paired permutation test (each example's two results swapped at random), the difference
  with a paired-bootstrap interval.

Every random function takes a ``seed``: the same inputs and seed give the same numbers on every rerun.
Statistics are functions of an index array, so one resampling scheme serves means and whole-set metrics alike.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

Statistic = Callable[[np.ndarray], float]
"""A metric computed from the examples at the given indices."""


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile-bootstrap confidence interval."""

    value: float
    low: float
    high: float
    level: float = 0.95

    def as_list(self) -> list[float]:
        """[low, high], as stored in metrics.json."""
        return [round(self.low, 4), round(self.high, 4)]

    def overlaps(self, other: "Interval") -> bool:
        """Whether the two intervals share any value."""
        return self.low <= other.high and other.low <= self.high


def bootstrap_indices(n: int, samples: int, seed: int) -> np.ndarray:
    """``samples`` rows of ``n`` indices drawn with replacement (seeded)."""
    if n <= 0:
        raise ValueError("cannot bootstrap an empty set of examples")
    return np.random.default_rng(seed).integers(0, n, size=(samples, n))


def _percentiles(values: np.ndarray, level: float) -> tuple[float, float]:
    """The central ``level`` interval of bootstrap values."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_statistic(n: int, statistic: Statistic, samples: int = 1000, seed: int = 0,
                        level: float = 0.95) -> Interval:
    """Bootstrap CI of any statistic of ``n`` examples, e.g. macro F1 of the resampled tickets."""
    resampled = np.array([statistic(idx) for idx in bootstrap_indices(n, samples, seed)])
    low, high = _percentiles(resampled, level)
    return Interval(float(statistic(np.arange(n))), low, high, level)


def bootstrap_ci(values: Sequence[float], samples: int = 1000, seed: int = 0, level: float = 0.95) -> Interval:
    """Bootstrap CI of the mean of per-example values (1/0 for right/wrong, or scores)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("cannot bootstrap an empty set of examples")
    means = data[bootstrap_indices(data.size, samples, seed)].mean(axis=1)
    low, high = _percentiles(means, level)
    return Interval(float(data.mean()), low, high, level)


def proportion_ci(successes: int, n: int, level: float = 0.95, method: str = "wilson") -> Interval:
    """Interval of a proportion successes/n: 'wilson' (score interval) or 'exact' (Clopper-Pearson)."""
    from scipy.stats import binomtest

    if n <= 0:
        raise ValueError("cannot give an interval for a proportion of no examples")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=level, method=method)
    return Interval(successes / n, float(ci.low), float(ci.high), level)


@dataclass(frozen=True)
class PairedResult:
    """Difference B - A of one metric on the same examples, with its interval and a two-sided p-value."""

    difference: float
    low: float
    high: float
    p_value: float
    level: float = 0.95


def paired_bootstrap(n: int, statistic_a: Statistic, statistic_b: Statistic, samples: int = 1000,
                     seed: int = 0, level: float = 0.95) -> PairedResult:
    """Paired bootstrap of B - A: both models are scored on the same resampled examples each time."""
    idx = bootstrap_indices(n, samples, seed)
    diffs = np.array([statistic_b(i) - statistic_a(i) for i in idx])
    observed = float(statistic_b(np.arange(n)) - statistic_a(np.arange(n)))
    low, high = _percentiles(diffs, level)
    # Two-sided p-value: how often the resampled difference lands on the other side of zero.
    if np.all(diffs == 0):
        p = 1.0
    else:
        p = float(min(1.0, 2 * min(np.mean(diffs <= 0), np.mean(diffs >= 0))))
        p = max(p, 1.0 / samples)
    return PairedResult(observed, low, high, p, level)


def paired_bootstrap_means(a: Sequence[float], b: Sequence[float], samples: int = 1000, seed: int = 0,
                           level: float = 0.95) -> PairedResult:
    """Paired bootstrap of mean(B) - mean(A) for per-example values of two models on the same examples."""
    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if va.shape != vb.shape:
        raise ValueError(f"paired comparison needs the same examples: {va.size} vs {vb.size} values")
    return paired_bootstrap(va.size, lambda i: float(va[i].mean()), lambda i: float(vb[i].mean()),
                            samples, seed, level)


def bootstrap_difference(a: Sequence[float], b: Sequence[float], samples: int = 1000, seed: int = 0,
                         level: float = 0.95) -> PairedResult:
    """Unpaired bootstrap of mean(B) - mean(A) for two independent groups (e.g. pilot vs control)."""
    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if va.size == 0 or vb.size == 0:
        raise ValueError("both groups need at least one value")
    rng = np.random.default_rng(seed)
    diffs = (vb[rng.integers(0, vb.size, (samples, vb.size))].mean(axis=1)
             - va[rng.integers(0, va.size, (samples, va.size))].mean(axis=1))
    low, high = _percentiles(diffs, level)
    p = float(min(1.0, 2 * min(np.mean(diffs <= 0), np.mean(diffs >= 0))))
    return PairedResult(float(vb.mean() - va.mean()), low, high, max(p, 1.0 / samples), level)


def permutation_p_value(a: Sequence, b: Sequence, statistic: Callable[[np.ndarray], float], samples: int = 1000,
                        seed: int = 0) -> float:
    """Two-sided p-value of statistic(b) - statistic(a) by a paired permutation test (scipy's ``permutation_test``).

    ``a`` and ``b`` hold each model's result per example (scores, or predicted labels), in the same example order;
    each permutation swaps the two models' results of randomly chosen examples. ``statistic`` scores a whole
    array of results (e.g. its mean, or macro F1 against the true labels of the same examples).
    """
    from scipy.stats import permutation_test

    va, vb = np.asarray(a), np.asarray(b)
    if va.shape != vb.shape or va.size == 0:
        raise ValueError(f"a paired test needs the same, non-empty examples: {va.size} vs {vb.size} results")
    result = permutation_test((va, vb), lambda x, y: statistic(y) - statistic(x), permutation_type="samples",
                              n_resamples=samples, alternative="two-sided", random_state=seed, vectorized=False)
    return float(result.pvalue)


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's exact test on right/wrong outcomes of two models on the same examples."""

    only_a_right: int
    only_b_right: int
    p_value: float


def mcnemar_exact(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> McNemarResult:
    """Exact (binomial) McNemar test: do the discordant examples favour one model beyond chance?"""
    from scipy.stats import binomtest

    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"McNemar needs the same examples: {a.size} vs {b.size} outcomes")
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    p = 1.0 if only_a + only_b == 0 else float(binomtest(only_b, only_a + only_b, 0.5).pvalue)
    return McNemarResult(only_a, only_b, p)


def _p_text(p: float) -> str:
    """A p-value as people read it."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def verdict(metric: str, name_a: str, name_b: str, result: PairedResult, higher_is_better: bool = True,
            percent: bool = True, p_value: float | None = None, alpha: float = 0.05) -> str:
    """One plain sentence: which model is better on ``metric``, by how much, and how sure we are."""
    p = result.p_value if p_value is None else p_value
    scale, unit = (100, " points") if percent else (1, "")
    diff, low, high = (x * scale for x in (result.difference, result.low, result.high))
    span = f"{abs(diff):.1f}{unit}" if percent else f"{abs(diff):.3f}"
    ci = f"95% CI {low:+.1f} to {high:+.1f}" if percent else f"95% CI {low:+.3f} to {high:+.3f}"
    if math.isclose(result.difference, 0.0, abs_tol=1e-12) and result.low == result.high == 0:
        return f"{metric}: {name_a} and {name_b} give identical results on these examples."
    b_better = (diff > 0) == higher_is_better
    winner, loser = (name_b, name_a) if b_better else (name_a, name_b)
    if p < alpha and not (low <= 0 <= high):
        return (f"{metric}: {winner} is better than {loser} by {span} ({ci}, {_p_text(p)}); "
                f"a difference this large is unlikely to be chance.")
    return (f"{metric}: no clear difference between {name_a} and {name_b} ({winner} ahead by {span}, {ci}, "
            f"{_p_text(p)}); more examples would be needed to tell them apart.")


__all__ = ["Interval", "McNemarResult", "PairedResult", "Statistic", "bootstrap_ci", "bootstrap_difference",
           "bootstrap_indices", "bootstrap_statistic", "mcnemar_exact", "paired_bootstrap",
           "paired_bootstrap_means", "permutation_p_value", "proportion_ci", "verdict"]
