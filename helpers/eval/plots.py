"""Plots of an evaluation: metric bars with intervals, a routing confusion matrix, per-category accuracy.

Each function returns a ``matplotlib.figure.Figure`` (no pyplot state), which a notebook displays and
:func:`helpers.eval.evaluation.write_evaluation` saves under ``plots/``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..core.display import plain

METRIC_TITLES = {"factual_accuracy": "Factual accuracy ↑", "hallucination_rate": "Hallucination rate ↓",
                 "rouge_l": "ROUGE-L ↑", "intent_macro_f1": "Routing macro F1 ↑"}
COLORS = {"base": "#9e9e9e", "prompted": "#f2a541", "sft": "#3a7dc9", "dpo": "#2e9e5b"}


def _color(model: str) -> str:
    """A stable colour per model name."""
    return COLORS.get(model, "#7b5ea7")


def plot_metric_bars(models: dict[str, dict[str, Any]]) -> Figure:
    """One panel per headline metric: a bar per model with its 95% interval."""
    metrics = [m for m in METRIC_TITLES if any(m in block for block in models.values())]
    fig = Figure(figsize=(3.2 * max(1, len(metrics)), 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, max(1, len(metrics))))
    for ax, metric in zip(axes, metrics):
        names = [name for name, block in models.items() if metric in block]
        values = np.array([models[n][metric] for n in names])
        cis = np.array([models[n][f"{metric}_ci"] for n in names])
        errors = np.vstack([values - cis[:, 0], cis[:, 1] - values]).clip(min=0)
        ax.bar(names, values, yerr=errors, capsize=4, color=[_color(n) for n in names])
        for x, v in enumerate(values):
            ax.text(x, v + 0.02, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
        ax.set_ylim(0, 1.1)
        ax.set_title(METRIC_TITLES[metric], fontsize=10)
        ax.tick_params(axis="x", labelrotation=30)
    fig.suptitle("Test-split metrics per model (error bars: 95% intervals)", fontsize=11)
    return fig


OUTCOME_COLORS = {"correct": "#2e9e5b", "contradicts": "#d1495b", "no_answer": "#bdbdbd", "degenerate": "#7b5ea7"}


def plot_outcomes(models: dict[str, dict[str, Any]]) -> Figure:
    """A stacked bar per model: the share of its product answers in each outcome."""
    names = [name for name, block in models.items() if "outcomes" in block]
    fig = Figure(figsize=(1.4 * max(3, len(names)) + 2.2, 3.4), layout="constrained")
    ax = fig.subplots()
    bottom = np.zeros(len(names))
    for outcome, color in OUTCOME_COLORS.items():
        shares = np.array([models[n]["outcomes"][outcome] for n in names])
        ax.bar(names, shares, bottom=bottom, color=color, label=outcome.replace("_", " "))
        for x, (b, v) in enumerate(zip(bottom, shares)):
            if v >= 0.06:
                ax.text(x, b + v / 2, f"{v:.0%}", ha="center", va="center", fontsize=8, color="white")
        bottom += shares
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of product answers")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    ax.set_title("What each model's product answers did (one rule for every model)", fontsize=10)
    return fig


def plot_confusion(confusion: pd.DataFrame, title: str = "Routing") -> Figure:
    """Counts of true (rows) against predicted (columns) intents, unparsed answers in the last column."""
    n_rows, n_cols = confusion.shape
    fig = Figure(figsize=(1.2 + 0.45 * n_cols, 1.0 + 0.42 * n_rows), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(confusion.to_numpy(), cmap="Blues")
    ax.set_xticks(range(n_cols), [plain(c) for c in confusion.columns], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n_rows), [plain(i) for i in confusion.index], fontsize=8)
    top = confusion.to_numpy().max() or 1
    for (i, j), count in np.ndenumerate(confusion.to_numpy()):
        if count:
            ax.text(j, i, str(count), ha="center", va="center", fontsize=7,
                    color="white" if count > top / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true intent")
    ax.set_title(plain(title), fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.7)
    return fig


def plot_category_accuracy(by_model: dict[str, dict[str, Any]]) -> Figure:
    """Grouped bars: factual accuracy per product category, one bar per model."""
    categories = sorted({c for block in by_model.values() for c in block.get("category", {})})
    fig = Figure(figsize=(max(5.0, 1.2 * len(categories) + 2), 3.4), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(1, len(by_model))
    for k, (model, block) in enumerate(by_model.items()):
        values = [block.get("category", {}).get(c, {}).get("accuracy", 0.0) for c in categories]
        ax.bar(np.arange(len(categories)) + k * width - 0.4 + width / 2, values, width, label=model,
               color=_color(model))
    ax.set_xticks(range(len(categories)), [plain(c) for c in categories], rotation=20, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("factual accuracy")
    ax.set_title("Factual accuracy per product category", fontsize=10)
    if by_model:
        ax.legend(fontsize=8)
    return fig


def plot_uplift(summary: pd.DataFrame, metrics: tuple[str, ...] = ("csat", "escalated")) -> Figure:
    """Pilot vs control: each metric's mean per arm with its 95% bootstrap interval."""
    fig = Figure(figsize=(3.4 * len(metrics), 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(metrics)))
    titles = {"csat": "Satisfaction (CSAT, 1-5) ↑", "escalated": "Escalation rate ↓"}
    for ax, metric in zip(axes, metrics):
        values = summary[metric].to_numpy()
        low, high = summary[f"{metric}_low"].to_numpy(), summary[f"{metric}_high"].to_numpy()
        ax.bar(summary.index, values, yerr=np.vstack([values - low, high - values]).clip(min=0), capsize=4,
               color=["#9e9e9e", "#3a7dc9"][: len(values)])
        ax.set_title(titles.get(metric, metric), fontsize=10)
    return fig


__all__ = ["plot_category_accuracy", "plot_confusion", "plot_metric_bars", "plot_outcomes", "plot_uplift"]
