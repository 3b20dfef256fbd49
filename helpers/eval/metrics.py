"""Task metrics: ROUGE-L for product answers, routing F1 for tickets.

(Factual accuracy and hallucination come from one outcome per answer: :mod:`helpers.data.outcomes`.)

* ROUGE-L F-measure against the reference answer, from the ``rouge-score`` package with stemming
  (never ``evaluate.load``, which fetches metric code from a hub at run time);
* routing: macro and per-intent F1 and a confusion matrix from scikit-learn; an answer that names no
  known intent is counted as wrong (predicted ``UNPARSED``), never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..core.examples import parse_intent

UNPARSED = "(unparsed)"
"""The predicted label of a routing answer that names no known intent."""


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    """One RougeScorer for ROUGE-L with the Porter stemmer (building it is not free)."""
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(predictions: Sequence[str], references: Sequence[str]) -> list[float]:
    """ROUGE-L F-measure of each prediction against its reference (rouge-score, stemming on)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    scorer = _rouge_scorer()
    return [scorer.score(ref, pred)["rougeL"].fmeasure for pred, ref in zip(predictions, references)]


def predicted_intents(answers: Sequence[str], labels: Sequence[str]) -> list[str]:
    """The intent each answer names, or UNPARSED when it names none of ``labels``."""
    known = set(labels)
    return [parse_intent(a, known) or UNPARSED for a in answers]


@dataclass
class RoutingScores:
    """Routing quality over a set of tickets."""

    macro_f1: float
    per_intent: dict[str, float]
    support: dict[str, int]
    accuracy: float
    unparsed_rate: float
    confusion: pd.DataFrame


def routing_scores(true_intents: Sequence[str], predicted: Sequence[str],
                   labels: Sequence[str] | None = None) -> RoutingScores:
    """Macro/per-intent F1 and confusion matrix (rows: true, columns: predicted, incl. UNPARSED)."""
    from sklearn.metrics import confusion_matrix, f1_score

    if len(true_intents) != len(predicted):
        raise ValueError(f"{len(predicted)} predictions for {len(true_intents)} tickets")
    if not true_intents:
        raise ValueError("no routing examples to score")
    labels = sorted(set(labels) if labels is not None else set(true_intents))
    # F1 is averaged over the real intents only; UNPARSED is a wrong prediction, lowering recall.
    per = f1_score(true_intents, predicted, labels=labels, average=None, zero_division=0)
    scored = scored_labels(true_intents, predicted, labels)
    macro = float(np.mean([f for lab, f in zip(labels, per) if lab in scored]))
    columns = labels + [UNPARSED]
    matrix = confusion_matrix(true_intents, predicted, labels=columns)[: len(labels)]
    truth = np.asarray(true_intents)
    return RoutingScores(
        macro_f1=macro, per_intent={lab: float(v) for lab, v in zip(labels, per)},
        support={lab: int((truth == lab).sum()) for lab in labels},
        accuracy=float(np.mean(truth == np.asarray(predicted))),
        unparsed_rate=float(np.mean(np.asarray(predicted) == UNPARSED)),
        confusion=pd.DataFrame(matrix, index=pd.Index(labels, name="true"), columns=pd.Index(columns, name="predicted")))


def scored_labels(true_intents: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> list[str]:
    """The intents macro F1 averages over: known intents that occur as truth or prediction (as scikit-learn
    does by default), so a bootstrap resample that happens to miss a rare intent does not score it 0."""
    known = set(labels)
    return sorted((set(true_intents) | set(predicted)) & known)


def macro_f1(true_intents: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    """Macro F1 over :func:`scored_labels` (UNPARSED and unknown predictions count as wrong); equals scikit-learn's
    ``f1_score(labels=scored_labels(...), average="macro", zero_division=0)``, fast enough for a bootstrap."""
    index = {label: k for k, label in enumerate(scored_labels(true_intents, predicted, labels))}
    other = len(index)  # every prediction outside ``labels`` (e.g. UNPARSED)
    t = np.fromiter((index.get(x, other) for x in true_intents), dtype=np.int64, count=len(true_intents))
    p = np.fromiter((index.get(x, other) for x in predicted), dtype=np.int64, count=len(predicted))
    tp = np.bincount(t[t == p], minlength=other + 1)[:other]
    fp = np.bincount(p, minlength=other + 1)[:other] - tp
    fn = np.bincount(t, minlength=other + 1)[:other] - tp
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros(other), where=denominator > 0)
    return float(f1.mean()) if other else 0.0


__all__ = ["RoutingScores", "UNPARSED", "macro_f1", "predicted_intents", "rouge_l",
           "routing_scores", "scored_labels"]
