"""The run's numbers: ONE table of metrics and ONE writer of ``metrics.json``.

The table says, for every number a run records, whether higher or lower is better, how far it may fall
behind a baseline before the regression check fails (absolute; None = not checked), and whether it is a
headline metric (the evaluation table, the course runner's summary, the regression baseline). Evaluation,
the regression check, the runner and run comparison all read it here.

``metrics.json`` is merged into by several notebooks (00, 01, 03, 05, 06, 08); :func:`update` holds a file
lock around its read-modify-write, so two processes writing at once never lose each other's keys.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .runs import RunDir, deep_merge, write_json


@dataclass(frozen=True)
class Metric:
    """One number a run records: its direction, its regression tolerance and whether it is a headline."""

    name: str
    higher_is_better: bool
    tolerance: float | None = None
    headline: bool = False
    doc: str = ""


TABLE = (
    Metric("factual_accuracy", True, 0.10, True, "share of product questions answered with every asked catalog value"),
    Metric("hallucination_rate", False, 0.15, True, "share of product answers stating a value the catalog contradicts"),
    Metric("rouge_l", True, 0.05, True, "ROUGE-L F1 of product answers against the reference answer"),
    Metric("intent_macro_f1", True, 0.15, True, "macro F1 of the routed intent over all intents"),
    Metric("routing_unparsed_rate", False, doc="share of routing answers naming no known intent"),
    Metric("correct", True, doc="share of product answers stating every asked value right (an outcome)"),
    Metric("contradicts", False, doc="share of product answers the catalog contradicts (an outcome)"),
    Metric("no_answer", False, doc="share of product answers stating no asked value (an outcome)"),
    Metric("degenerate", False, doc="share of product answers that loop, are empty or off-topic (an outcome)"),
    Metric("seconds_per_answer", False, doc="mean generation time of one answer"),
    Metric("tokens_per_second", True, doc="training throughput (real, non-padding tokens)"),
    Metric("peak_memory_mb", False, doc="peak memory of the training process"),
    Metric("wall_seconds", False, doc="wall-clock time of a step"),
    Metric("notebook_seconds", False, doc="wall-clock time of each notebook"),
    Metric("best_val_loss", False, doc="lowest validation loss of SFT"),
    Metric("first_val_loss", False, doc="validation loss before SFT's first step"),
    Metric("train_spike_ratio", False, doc="SFT: largest training loss after warm-up over the first logged one"),
    Metric("stable", True, doc="SFT: no training-loss spike above 1.5x the first, no validation loss above the first"),
    Metric("held_out_accuracy_before", True, doc="DPO: share of held-out pairs preferred the rater's way, before"),
    Metric("held_out_accuracy_after", True, doc="DPO: the same after training"),
    Metric("heldout_accuracy", True, doc="DPO: share of pairs of held-out prompts preferred the rater's way"),
    Metric("heldout_prompts_in_training", False, doc="DPO: held-out prompts that also trained (must be 0)"),
    Metric("gguf_agreement", True, doc="share of identical greedy answers of the GGUF export and the adapter model"),
    Metric("gguf_factual_accuracy", True, doc="factual accuracy of the GGUF export"),
    Metric("serve_p50_seconds", False, doc="median latency of the served model under load"),
    Metric("serve_p95_seconds", False, doc="95th percentile latency of the served model under load"),
    Metric("serve_errors", False, doc="failed requests in the load test"),
    Metric("csat", True, doc="pilot: customer satisfaction score of a conversation"),
    Metric("escalated", False, doc="pilot: share of conversations handed to a person"),
)
"""Tolerances are absolute, for the ci profile's small test sample (48 product questions, 48 routing utterances).
A ci run of unchanged code repeats its numbers exactly on one machine (the seed draws the adapter's init, the data
order and every sample); the tolerances are for another machine's float arithmetic and for changes that draw random
numbers in another order. Five ci runs with five different adapter inits fell behind their median by up to 0.042 in
factual accuracy, 0.021 in hallucination rate, 0.010 in ROUGE-L and 0.083 in routing macro F1, and a sixth 0.17 in
routing F1 (30 steps leave routing half learned); ``baselines/ci.json`` says how each tolerance follows."""

METRICS = {m.name: m for m in TABLE}
HEADLINE = tuple(m.name for m in TABLE if m.headline)
TOLERANCES = {m.name: m.tolerance for m in TABLE if m.tolerance is not None}
"""The metrics the regression check compares, with their default tolerance."""
LOCK_NAME = ".metrics.json.lock"


def metric_for(key: str) -> Metric | None:
    """The table's metric behind a metrics.json key, e.g. 'models.sft.rouge_l' or 'course.notebook_seconds.00_setup'."""
    return next((METRICS[part] for part in reversed(key.split(".")) if part in METRICS), None)


def improved(key: str, change: float) -> bool | None:
    """Whether a change of ``change`` in the metric behind ``key`` is better; None without a change or a direction."""
    metric = metric_for(key)
    if metric is None or not change:
        return None
    return (change > 0) == metric.higher_is_better


def update(run: RunDir, patch: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``patch`` into the run's metrics.json under a file lock (safe for concurrent writers); the result."""
    from filelock import FileLock

    with FileLock(str(run.root / LOCK_NAME)):
        merged = deep_merge(run.read_metrics(), patch)
        write_json(run.metrics_path, merged)
    return merged


__all__ = ["HEADLINE", "METRICS", "Metric", "TABLE", "TOLERANCES", "improved", "metric_for", "update"]
