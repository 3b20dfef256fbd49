"""Scoring generated answers, one rule for every model: outcomes, metrics with intervals, paired comparisons.

Pure functions of generation records (no model): notebook 06 and the tests call the same code.

* product questions: one outcome per answer (:mod:`helpers.data.outcomes`); factual accuracy is the share of
  ``correct``, the hallucination rate the share of ``contradicts``, each with a Wilson interval; ROUGE-L
  against the reference with a bootstrap interval;
* routing: the intent the answer names (``(unparsed)`` when it names no known intent, a wrong answer, never
  dropped), macro F1 with a bootstrap interval, and the unparsed share;
* two models on the same questions: McNemar's exact test for right/wrong outcomes, a paired permutation test
  for ROUGE-L and macro F1, each difference with a paired-bootstrap interval.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..core import record
from ..data.fact_check import FactChecker
from .intervals import (Interval, bootstrap_ci, bootstrap_statistic, mcnemar_exact, paired_bootstrap,
                        permutation_p_value, proportion_ci, verdict)
from .metrics import UNPARSED, macro_f1, predicted_intents, rouge_l, routing_scores
from ..data.outcomes import OUTCOMES, classify, outcome_shares

COMPARISONS = (("base", "prompted"), ("base", "sft"), ("prompted", "sft"), ("sft", "dpo"), ("prompted", "dpo"))
"""The comparisons worth reading: prompting and fine-tuning against the base, and each step after."""


def score_records(records: Sequence[dict[str, Any]], checker: FactChecker, labels: Sequence[str]) -> pd.DataFrame:
    """The records as a table with scores: outcome, correct, hallucinated, rouge_l, predicted_intent, problem."""
    rows = []
    for rec, rouge in zip(records, rouge_l([r["answer"] for r in records], [r["reference"] for r in records])):
        row = {**{k: v for k, v in rec.items() if k != "messages"}, "rouge_l": rouge, "outcome": None,
               "correct": math.nan, "hallucinated": math.nan, "predicted_intent": None, "problem": ""}
        if rec["task"] == "routing":
            row["predicted_intent"] = predicted_intents([rec["answer"]], labels)[0]
            row["correct"] = float(row["predicted_intent"] == rec["intent"])
            if not row["correct"]:
                row["problem"] = ("names no known intent" if row["predicted_intent"] == UNPARSED
                                  else f"routed to {row['predicted_intent']}, expected {rec['intent']}")
        else:
            result = classify(rec["answer"], rec["product"], list(rec.get("fields") or {}), checker)
            row.update(outcome=result.outcome, correct=float(result.outcome == "correct"),
                       hallucinated=float(result.outcome == "contradicts"), problem=result.reason)
        rows.append(row)
    return pd.DataFrame(rows)


def qa_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Product-question rows."""
    return frame[frame.task == "product_qa"]


def routing_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Routing rows."""
    return frame[frame.task == "routing"]


def metric_intervals(frame: pd.DataFrame, labels: Sequence[str], samples: int, seed: int,
                     method: str = "wilson") -> dict[str, Interval]:
    """Headline metrics of one model's scored rows, each with its 95% interval (see the module docstring)."""
    qa, routing = qa_rows(frame), routing_rows(frame)
    out: dict[str, Interval] = {}
    if len(qa):
        out["factual_accuracy"] = proportion_ci(int(qa.correct.sum()), len(qa), method=method)
        out["hallucination_rate"] = proportion_ci(int(qa.hallucinated.sum()), len(qa), method=method)
        out["rouge_l"] = bootstrap_ci(qa.rouge_l.to_numpy(), samples, seed)
    if len(routing):
        truth, pred = routing.intent.to_numpy(), routing.predicted_intent.to_numpy()
        out["intent_macro_f1"] = bootstrap_statistic(
            len(routing), lambda i: macro_f1(truth[i], pred[i], labels), samples, seed)
    return out


def headline(frame: pd.DataFrame, labels: Sequence[str], samples: int, seed: int,
             method: str = "wilson") -> dict[str, dict[str, Any]]:
    """The ``models`` block of metrics.json: per model each metric, its ``_ci``, the outcome shares and the counts."""
    out = {}
    for model, rows in frame.groupby("model", sort=False):
        block: dict[str, Any] = {}
        for metric, ci in metric_intervals(rows, labels, samples, seed, method).items():
            block[metric], block[f"{metric}_ci"] = round(ci.value, 4), ci.as_list()
        qa, routing = qa_rows(rows), routing_rows(rows)
        if len(qa):
            block["outcomes"] = {k: round(v, 4) for k, v in outcome_shares(qa.outcome).items()}
        if len(routing):
            block["routing_unparsed_rate"] = round(float((routing.predicted_intent == UNPARSED).mean()), 4)
        block.update(n=int(len(rows)), n_product_questions=int(len(qa)), n_routing=int(len(routing)),
                     seconds_per_answer=round(float(rows.seconds.mean()), 4))
        out[str(model)] = block
    return out


def _paired(frame: pd.DataFrame, a: str, b: str, column: str, task: str) -> pd.DataFrame:
    """Rows of ``task`` where both models have a ``column`` value, aligned by example id."""
    rows = frame[frame.task == task]
    wide = rows.pivot(index="id", columns="model", values=column)
    return wide[[a, b]].dropna() if {a, b} <= set(wide.columns) else pd.DataFrame(columns=[a, b])


def paired_comparisons(frame: pd.DataFrame, a: str, b: str, labels: Sequence[str], samples: int,
                       seed: int) -> list[dict[str, Any]]:
    """Paired comparison of model ``b`` against ``a`` on every headline metric, with a verdict each."""
    out = []
    for metric, column in (("factual_accuracy", "correct"), ("hallucination_rate", "hallucinated"),
                           ("rouge_l", "rouge_l")):
        pair = _paired(frame, a, b, column, "product_qa")
        if pair.empty:
            continue
        va, vb = pair[a].to_numpy(dtype=float), pair[b].to_numpy(dtype=float)
        result = paired_bootstrap(len(pair), lambda i: float(va[i].mean()), lambda i: float(vb[i].mean()), samples,
                                  seed)
        if column == "rouge_l":
            p, test = permutation_p_value(va, vb, np.mean, samples, seed), "paired permutation"
        else:
            p, test = mcnemar_exact(va > 0, vb > 0).p_value, "McNemar exact"
        out.append(_comparison(metric, a, b, result, p, test, len(pair)))
    pred = _paired(frame, a, b, "predicted_intent", "routing")
    if not pred.empty:
        truth = frame[frame.task == "routing"].drop_duplicates("id").set_index("id").intent.loc[pred.index].to_numpy()
        pa, pb = pred[a].to_numpy(), pred[b].to_numpy()
        result = paired_bootstrap(len(pred), lambda i: macro_f1(truth[i], pa[i], labels),
                                  lambda i: macro_f1(truth[i], pb[i], labels), samples, seed)
        p = permutation_p_value(pa, pb, lambda p_: macro_f1(truth, p_, labels), samples, seed)
        out.append(_comparison("intent_macro_f1", a, b, result, p, "paired permutation", len(pred)))
    return out


def _comparison(metric: str, a: str, b: str, result: Any, p: float, test: str, n: int) -> dict[str, Any]:
    """One row of the comparison table."""
    return {"metric": metric, "a": a, "b": b, "n": n, "difference": round(result.difference, 4),
            "ci": [round(result.low, 4), round(result.high, 4)], "p_value": round(p, 6), "test": test,
            "verdict": verdict(metric.replace("_", " "), a, b, result, record.METRICS[metric].higher_is_better,
                               p_value=p)}


def comparison_pairs(models: Sequence[str]) -> list[tuple[str, str]]:
    """The pairs of COMPARISONS whose two models were both evaluated."""
    return [(a, b) for a, b in COMPARISONS if a in models and b in models]


def main_model(models: Sequence[str]) -> str | None:
    """The model the course ships: dpo when it exists, else sft, else the last one evaluated."""
    return next((m for m in ("dpo", "sft") if m in models), models[-1] if models else None)


def breakdown(frame: pd.DataFrame, labels: Sequence[str], train_counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Where each model fails: per product and category (outcome counts), per intent (F1, unparsed, confusions).

    ``train_counts`` gives the training examples per product and per intent ({"product": {...}, "intent": {...}}),
    so the next round can tell too little data from too few passes.
    """
    by_model: dict[str, Any] = {}
    for model, rows in frame.groupby("model", sort=False):
        qa = qa_rows(rows)
        product = {str(code): {"category": str(g.category.iloc[0]), "n": int(len(g)),
                               **{o: int((g.outcome == o).sum()) for o in OUTCOMES},
                               "train_examples": int(train_counts.get("product", {}).get(code, 0))}
                   for code, g in qa.groupby("product")}
        category = {str(c): {"accuracy": round(float(g.correct.mean()), 4), "n": int(len(g)),
                             "hallucination_rate": round(float(g.hallucinated.mean()), 4)}
                    for c, g in qa.groupby(qa.category.fillna("(none)"))}
        routing = routing_rows(rows)
        intent = {}
        if len(routing):
            scores = routing_scores(routing.intent.tolist(), routing.predicted_intent.tolist(), labels)
            for lab, f1 in scores.per_intent.items():
                if not scores.support[lab]:
                    continue
                wrong = routing[(routing.intent == lab) & (routing.predicted_intent != lab)].predicted_intent
                intent[lab] = {"f1": round(f1, 4), "n": scores.support[lab],
                               "unparsed": int((wrong == UNPARSED).sum()),
                               "confused_with": {k: int(v) for k, v in wrong[wrong != UNPARSED].value_counts().items()},
                               "train_examples": int(train_counts.get("intent", {}).get(lab, 0))}
        by_model[str(model)] = {"product": product, "category": category, "intent": intent}
    main = main_model(list(by_model))
    return {"model": main, **(by_model.get(main) or {"product": {}, "category": {}, "intent": {}}),
            "by_model": by_model}


def worst_answers(frame: pd.DataFrame, model: str, n: int = 10) -> pd.DataFrame:
    """The model's worst answers: contradictions, then degenerate, then no answer and wrong routes, lowest ROUGE-L first."""
    rank = {"contradicts": 0, "degenerate": 1, "no_answer": 2}
    rows = frame[(frame.model == model) & (frame.correct == 0)].copy()
    rows["rank"] = rows.outcome.map(rank).fillna(3)
    rows = rows.sort_values(["rank", "rouge_l"])
    return rows[["id", "task", "outcome", "prompt", "answer", "reference", "problem"]].head(n).reset_index(drop=True)


def outcome_examples(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """One real product answer of each outcome, from as many different models as possible (for notebook 06)."""
    qa = qa_rows(frame)
    rows, used = [], []
    for outcome in OUTCOMES:
        pool = qa[qa.outcome == outcome]
        if pool.empty:
            continue
        fresh = pool[~pool.model.isin(used)]
        pick = (fresh if len(fresh) else pool).sample(1, random_state=seed).iloc[0]
        used.append(pick.model)
        rows.append({"outcome": outcome, "model": pick.model, "prompt": pick.prompt, "answer": pick.answer,
                     "why": pick.problem or "every asked value stated as the catalog has it"})
    return pd.DataFrame(rows, columns=["outcome", "model", "prompt", "answer", "why"])


def breakdown_table(breakdown_: dict[str, Any]) -> pd.DataFrame:
    """The shipped model's breakdown as one table: a row per product (outcomes) and per intent (F1, errors)."""
    rows = [{"kind": "product", "name": name, "test_n": b["n"], "score": round(b["correct"] / b["n"], 3),
             "errors": ", ".join(f"{b[o]} {o}" for o in OUTCOMES[1:] if b[o]), "train_examples": b["train_examples"]}
            for name, b in (breakdown_.get("product") or {}).items()]
    rows += [{"kind": "intent", "name": name, "test_n": b["n"], "score": b["f1"],
              "errors": ", ".join([f"{b['unparsed']} unparsed"] * bool(b["unparsed"])
                                  + [f"{v} as {k}" for k, v in b["confused_with"].items()]),
              "train_examples": b["train_examples"]}
             for name, b in (breakdown_.get("intent") or {}).items()]
    return pd.DataFrame(rows, columns=["kind", "name", "test_n", "score", "errors", "train_examples"]).sort_values(
        ["kind", "score"]).reset_index(drop=True)


def goals(models: dict[str, dict[str, Any]], min_accuracy: float = 0.80, min_f1: float = 0.90,
          max_unparsed: float = 0.05) -> pd.DataFrame:
    """The course's targets for the model it ships (dpo, else sft) against the base, each with whether it is met."""
    final = main_model([m for m in models if m != "base"])
    tuned, base, sft = models.get(final or "", {}), models.get("base", {}), models.get("sft", {})
    if not tuned or not base:
        raise ValueError(f"goals need metrics of 'base' and a tuned model; have {', '.join(models) or 'none'}")

    def value(block: dict[str, Any], key: str) -> float:
        return float(block.get(key, float("nan")))

    rows = [
        (f"{final}: factual accuracy >= {min_accuracy:.2f}", f"{value(tuned, 'factual_accuracy'):.3f}",
         value(tuned, "factual_accuracy") >= min_accuracy),
        (f"{final}: accuracy interval above the base's",
         f"{tuned.get('factual_accuracy_ci')} vs {base.get('factual_accuracy_ci')}",
         bool(tuned.get("factual_accuracy_ci") and base.get("factual_accuracy_ci"))
         and tuned["factual_accuracy_ci"][0] > base["factual_accuracy_ci"][1]),
        (f"{final}: hallucination rate at most half the base's",
         f"{value(tuned, 'hallucination_rate'):.3f} vs {value(base, 'hallucination_rate'):.3f}",
         value(tuned, "hallucination_rate") <= value(base, "hallucination_rate") / 2),
        ("sft: hallucination rate not above the base's",
         f"{value(sft, 'hallucination_rate'):.3f} vs {value(base, 'hallucination_rate'):.3f}",
         value(sft, "hallucination_rate") <= value(base, "hallucination_rate")),
        (f"{final}: routing macro F1 >= {min_f1:.2f}", f"{value(tuned, 'intent_macro_f1'):.3f}",
         value(tuned, "intent_macro_f1") >= min_f1),
        (f"{final}: at most {max_unparsed:.0%} of routing answers name no known intent",
         f"{value(tuned, 'routing_unparsed_rate'):.3f}", value(tuned, "routing_unparsed_rate") <= max_unparsed),
    ]
    return pd.DataFrame(rows, columns=["goal", "value", "met"]).set_index("goal")


__all__ = ["COMPARISONS", "breakdown", "breakdown_table", "outcome_examples", "comparison_pairs", "goals", "headline",
           "main_model", "metric_intervals", "paired_comparisons", "qa_rows", "routing_rows", "score_records",
           "worst_answers"]
