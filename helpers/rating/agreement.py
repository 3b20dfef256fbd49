"""How far raters agree, how each rater behaves, and whether answer position sways them.

- Weighted Cohen's kappa (scikit-learn, quadratic weights) for two raters' 1-5 scores.
- Krippendorff's alpha (the ``krippendorff`` package): ordinal for the Likert scores, nominal for the
  preference; it handles any number of raters and missing ratings.
- Position bias: among decisive choices, how often the answer shown as A won (0.5 = no bias),
  with a two-sided binomial test.
"""
from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Any, Sequence

import krippendorff
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import binomtest
from sklearn.metrics import cohen_kappa_score

from .items import RatingItem
from .store import Rating

SCALES = ("helpfulness", "accuracy")


def finished(ratings: Sequence[Rating]) -> list[Rating]:
    """Ratings with a preference picked (skipped and half-done ones left out)."""
    return [r for r in ratings if r.vote is not None]


def scores_frame(ratings: Sequence[Rating]) -> pd.DataFrame:
    """One row per rater, item and model: position shown, helpfulness, accuracy."""
    rows = [{"rater": r.rater, "item_id": r.item_id, "source": source, "position": pos,
             "helpfulness": r.scores(source)[0], "accuracy": r.scores(source)[1], "simulated": r.simulated}
            for r in finished(ratings) for pos, source in (("A", r.shown_a), ("B", r.shown_b))]
    return pd.DataFrame(rows, columns=["rater", "item_id", "source", "position", "helpfulness", "accuracy",
                                       "simulated"])


def interpret(value: float, measure: str = "alpha") -> str:
    """A plain reading of an agreement coefficient (Krippendorff's thresholds, Landis & Koch for kappa)."""
    if value is None or math.isnan(value):
        return "not measurable: needs at least two raters on the same items, with some variation"
    if value <= 0:
        return "no better than chance: the raters do not agree beyond luck"
    if measure == "kappa":
        for limit, word in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
            if value <= limit:
                return f"{word} agreement"
        return "almost perfect agreement"
    if value < 0.667:
        return "too low to rely on: refine the rating guide and discuss the items below"
    if value < 0.8:
        return "acceptable for tentative conclusions"
    return "reliable agreement"


def alpha(ratings: Sequence[Rating], what: str) -> float:
    """Krippendorff's alpha over all raters: ordinal for 'helpfulness'/'accuracy', nominal for 'preference'."""
    done = finished(ratings)
    raters = sorted({r.rater for r in done})
    if what == "preference":
        codes = {v: i for i, v in enumerate(sorted({r.preferred for r in done}))}
        units = sorted({r.item_id for r in done})
        value = {(r.rater, r.item_id): codes[r.preferred] for r in done}
        level = "nominal"
    elif what in SCALES:
        frame = scores_frame(done)
        units = sorted(set(zip(frame.item_id, frame.source)))
        value = {(row.rater, (row.item_id, row.source)): getattr(row, what) for row in frame.itertuples()}
        level = "ordinal"
    else:
        raise ValueError(f"what must be 'helpfulness', 'accuracy' or 'preference', got {what!r}")
    data = np.array([[value.get((rater, u), np.nan) for u in units] for rater in raters], dtype=float)
    paired = (np.sum(~np.isnan(data), axis=0) >= 2) if len(raters) >= 2 else np.zeros(0, bool)
    if not paired.any() or len(np.unique(data[:, paired][~np.isnan(data[:, paired])])) < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level,
                                    value_domain=list(range(1, 6)) if level == "ordinal" else None))


def kappa(ratings: Sequence[Rating], rater1: str, rater2: str, what: str = "accuracy") -> float:
    """Quadratically weighted Cohen's kappa of two raters' scores on the answers both rated."""
    frame = scores_frame(ratings).set_index(["item_id", "source"])
    one = frame[frame.rater == rater1][what]
    two = frame[frame.rater == rater2][what]
    both = one.index.intersection(two.index)
    if len(both) < 2:
        return float("nan")
    x, y = one.loc[both].astype(int), two.loc[both].astype(int)
    if x.nunique() == 1 and y.nunique() == 1:
        return 1.0 if (x == y).all() else 0.0
    return float(cohen_kappa_score(x, y, weights="quadratic", labels=list(range(1, 6))))


def pairwise_kappas(ratings: Sequence[Rating], what: str = "accuracy") -> pd.DataFrame:
    """Weighted kappa for every pair of raters, with its plain reading."""
    raters = sorted({r.rater for r in finished(ratings)})
    rows = []
    for one, two in itertools.combinations(raters, 2):
        k = kappa(ratings, one, two, what)
        rows.append({"rater_1": one, "rater_2": two, "scale": what, "kappa": k,
                     "reading": interpret(k, "kappa")})
    return pd.DataFrame(rows, columns=["rater_1", "rater_2", "scale", "kappa", "reading"])


def lowest_agreement(ratings: Sequence[Rating], items: Sequence[RatingItem] = (), n: int = 5) -> pd.DataFrame:
    """The least agreed items: split preferences first, then the widest score spread (full agreement left out)."""
    prompts = {it.item_id: it.prompt for it in items}
    frame = scores_frame(ratings)
    rows = []
    for item_id, group in frame.groupby("item_id"):
        votes = Counter(r.preferred for r in finished(ratings) if r.item_id == item_id)
        n_raters = sum(votes.values())
        spread = group.groupby("source")[list(SCALES)].agg(lambda s: s.max() - s.min()).to_numpy().mean()
        if n_raters < 2 or (len(votes) == 1 and spread == 0):
            continue
        rows.append({"item_id": item_id, "raters": n_raters,
                     "preference_split": 1 - votes.most_common(1)[0][1] / n_raters,
                     "score_spread": float(spread), "votes": dict(votes), "prompt": prompts.get(item_id, "")})
    out = pd.DataFrame(rows, columns=["item_id", "raters", "preference_split", "score_spread", "votes", "prompt"])
    return out.sort_values(["preference_split", "score_spread"], ascending=False).head(n).reset_index(drop=True)


def position_bias(ratings: Sequence[Rating], rater: str | None = None) -> dict[str, Any]:
    """Share of decisive choices (A or B) that went to the answer shown first, with a binomial test."""
    decisive = [r for r in finished(ratings) if r.choice in ("A", "B") and rater in (None, r.rater)]
    chose_a = sum(r.choice == "A" for r in decisive)
    if not decisive:
        return {"decisive": 0, "chose_a": 0, "rate_a": float("nan"), "p_value": float("nan"),
                "reading": "no decisive choices yet"}
    rate = chose_a / len(decisive)
    p = binomtest(chose_a, len(decisive), 0.5).pvalue
    reading = (f"A won {rate:.0%} of decisive choices; " +
               ("that differs from 50% more than chance explains (p < 0.05): position sways the raters"
                if p < 0.05 else "consistent with no position bias (p >= 0.05)"))
    return {"decisive": len(decisive), "chose_a": chose_a, "rate_a": rate, "p_value": float(p),
            "reading": reading}


def rater_stats(ratings: Sequence[Rating]) -> pd.DataFrame:
    """Per rater: items finished and skipped, mean scores, how choices spread, share of A among A/B."""
    rows = []
    for rater in sorted({r.rater for r in ratings}):
        mine = [r for r in ratings if r.rater == rater]
        done = finished(mine)
        frame = scores_frame(done)
        choices = Counter(r.choice for r in done)
        rows.append({"rater": rater, "simulated": any(r.simulated for r in mine), "rated": len(done),
                     "skipped": sum(r.skipped for r in mine),
                     "mean_helpfulness": frame.helpfulness.mean(), "mean_accuracy": frame.accuracy.mean(),
                     **{f"share_{c}": choices[c] / len(done) if done else float("nan")
                        for c in ("A", "B", "tie", "both_bad")},
                     "position_a_rate": position_bias(done, rater)["rate_a"]})
    return pd.DataFrame(rows)


def source_summary(ratings: Sequence[Rating]) -> pd.DataFrame:
    """Per model (source): mean scores and how often raters preferred it, over all finished ratings."""
    frame = scores_frame(ratings)
    rows = []
    for source, group in frame.groupby("source"):
        mine = [r for r in finished(ratings) if source in (r.shown_a, r.shown_b)]
        wins = sum(r.preferred == source for r in mine)
        losses = sum(r.choice in ("A", "B") and r.preferred != source for r in mine)
        rows.append({"source": source, "ratings": len(mine), "mean_helpfulness": group.helpfulness.mean(),
                     "mean_accuracy": group.accuracy.mean(), "wins": wins, "losses": losses,
                     "ties": sum(r.choice == "tie" for r in mine),
                     "both_bad": sum(r.choice == "both_bad" for r in mine),
                     "win_rate": wins / len(mine) if mine else float("nan")})
    return pd.DataFrame(rows, columns=["source", "ratings", "mean_helpfulness", "mean_accuracy", "wins",
                                       "losses", "ties", "both_bad", "win_rate"])


def agreement_summary(ratings: Sequence[Rating]) -> dict[str, Any]:
    """Every agreement number with its reading, as plain JSON-ready data."""
    out: dict[str, Any] = {"raters": sorted({r.rater for r in finished(ratings)}),
                           "simulated": any(r.simulated for r in ratings)}
    for what in (*SCALES, "preference"):
        value = alpha(ratings, what)
        out[f"alpha_{what}"] = None if math.isnan(value) else round(value, 4)
        out[f"alpha_{what}_reading"] = interpret(value)
    kappas = pairwise_kappas(ratings, "accuracy")
    out["kappa_accuracy"] = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
                             for row in kappas.to_dict("records")]
    out["position_bias"] = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                            for k, v in position_bias(ratings).items()}
    return out


def agreement_text(summary: dict[str, Any]) -> str:
    """The numbers of :func:`agreement_summary` as a few plain sentences."""
    lines = [f"Raters: {', '.join(summary['raters']) or 'none yet'}"
             + (" (simulated ratings, not human judgement)" if summary["simulated"] else "")]
    for what in (*SCALES, "preference"):
        value = summary[f"alpha_{what}"]
        shown = "n/a" if value is None else f"{value:.2f}"
        lines.append(f"Krippendorff's alpha, {what}: {shown} - {summary[f'alpha_{what}_reading']}")
    for row in summary["kappa_accuracy"]:
        shown = "n/a" if row["kappa"] is None else f"{row['kappa']:.2f}"
        lines.append(f"Weighted kappa, accuracy, {row['rater_1']} vs {row['rater_2']}: {shown} - {row['reading']}")
    lines.append(f"Position bias: {summary['position_bias']['reading']}")
    return "\n".join(lines)


def plot_score_distributions(ratings: Sequence[Rating]) -> Figure:
    """Bars of how often each model's answers got each score, for helpfulness and accuracy."""
    frame = scores_frame(ratings)
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    sources = sorted(frame.source.unique())
    width = 0.8 / max(1, len(sources))
    for ax, scale in zip(fig.subplots(1, 2), SCALES):
        for k, source in enumerate(sources):
            counts = frame[frame.source == source][scale].value_counts().reindex(range(1, 6), fill_value=0)
            ax.bar(np.arange(1, 6) + (k - (len(sources) - 1) / 2) * width, counts.to_numpy(), width,
                   label=source)
        ax.set(title=f"{scale.capitalize()} scores", xlabel="score (1 = poor, 5 = excellent)",
               ylabel="answers", xticks=range(1, 6))
        ax.legend(title="model")
    if frame.simulated.any():
        fig.suptitle("Simulated ratings (scripted against the catalog, not human judgement)")
    return fig
