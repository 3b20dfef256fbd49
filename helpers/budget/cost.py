"""What fine-tuning costs: time and money of a training run, and the total cost of ownership of the project.

Every figure starts from something measured in the run directory: the tokens and throughput of the
training run (``train/summary.json``), the number of curated examples (``data/*.jsonl``), the rating
effort (``ratings/ratings.sqlite`` timestamps). Prices and minutes per task come from ``settings.budget``,
which the learner sets. Other model sizes are priced by scaling the measured throughput with the ratio
of training FLOPs (about 6 x parameters per token for full fine-tuning, 4 x for (Q)LoRA, which skips the
frozen weights' gradients): an approximation that assumes the same hardware runs equally efficiently.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from ..core.config import DEFAULT_MODEL, Settings
from ..core.runs import SPLITS, RunDir, read_jsonl
from ..model.memory import KNOWN_SHAPES, METHOD_SETUPS, SIZE_CLASSES, estimate_memory, resolve_shape
from ..rating import store_path

DEFAULT_SHAPE = "SmolLM2-135M"
MAX_GAP_MINUTES = 10.0
"""Gaps between two ratings longer than this are breaks, not rating time."""

# A published GPU throughput to compare with the CPU measurement: torchtune README, "Memory and training speed",
# Llama 3.1 8B QLoRA on 1x RTX 4090: 2413 tokens/s (batch 2, packed sequences of 2048, torch.compile).
REFERENCE_GPU = {"name": "RTX 4090 (torchtune, Llama-3.1-8B QLoRA)", "model": "Llama-3.1-8B", "tokens_per_second": 2413.0}


@dataclass(frozen=True)
class Measured:
    """What this run's training measured (train/summary.json)."""

    tokens_per_second: float
    tokens_trained: int
    wall_seconds: float
    peak_memory_mb: float
    device: str


def flops_per_token(n_params: float, method: str = "qlora") -> float:
    """Training FLOPs per token: 6N for full fine-tuning, 4N for LoRA/QLoRA (no weight gradients for frozen layers)."""
    return (6.0 if method == "full" else 4.0) * n_params


def scale_throughput(tokens_per_second: float, from_params: float, to_params: float) -> float:
    """Throughput of a model of ``to_params`` on the same hardware, by the ratio of FLOPs per token."""
    if min(tokens_per_second, from_params, to_params) <= 0:
        raise ValueError("throughput and parameter counts must be positive")
    return tokens_per_second * from_params / to_params


def training_hours(tokens: float, tokens_per_second: float, gpus: int = 1) -> float:
    """Wall-clock hours to process ``tokens`` at ``tokens_per_second`` per device on ``gpus`` devices."""
    if tokens_per_second <= 0 or gpus <= 0:
        raise ValueError("tokens_per_second and gpus must be positive")
    return tokens / (tokens_per_second * gpus) / 3600


def training_cost(tokens: float, tokens_per_second: float, price_per_gpu_hour: float, gpus: int = 1) -> float:
    """Money for one training run: device-hours times the price per device-hour."""
    return training_hours(tokens, tokens_per_second, gpus) * gpus * price_per_gpu_hour


def read_measured(run: RunDir) -> Measured:
    """The measured throughput, tokens, time and peak memory of the run's training (notebook 03)."""
    import json

    path = run.need("train_summary")
    summary = json.loads(path.read_text())
    try:
        return Measured(float(summary["tokens_per_second"]), int(summary["tokens_trained"]),
                        float(summary["wall_seconds"]), float(summary["peak_memory_mb"]), str(summary.get("device", "?")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: field {exc} is missing or not a number; rerun notebook 03") from exc


def count_examples(run: RunDir) -> dict[str, int]:
    """Curated examples per split (data/train|val|test.jsonl)."""
    run.need("train_split")
    return {s: len(read_jsonl(run.path(f"{s}_split"))) for s in SPLITS if run.has(f"{s}_split")}


def rating_hours(run: RunDir, settings: Settings) -> dict[str, float]:
    """Hours of rating: from timestamps for human raters (breaks over 10 minutes left out), per item for simulated ones."""
    path = store_path(run, settings)
    if not path.exists():
        return {"human_hours": 0.0, "assumed_hours": 0.0, "ratings": 0}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT rater, simulated, updated_at FROM ratings WHERE skipped = 0 "
                            "ORDER BY rater, updated_at").fetchall()
    human = 0.0
    simulated = 0
    last: dict[str, datetime] = {}
    for rater, is_sim, stamp in rows:
        if is_sim:
            simulated += 1
            continue
        t = datetime.fromisoformat(stamp)
        if rater in last:
            gap = (t - last[rater]).total_seconds() / 60
            human += gap if gap <= MAX_GAP_MINUTES else settings.budget.rating_minutes_per_item
        else:
            human += settings.budget.rating_minutes_per_item
        last[rater] = t
    return {"human_hours": human / 60, "assumed_hours": simulated * settings.budget.rating_minutes_per_item / 60,
            "ratings": len(rows)}


def model_params(name: str) -> float:
    """Parameters of a base model named in settings: 'default', a size class, a known name or a local config."""
    if name == DEFAULT_MODEL:
        return KNOWN_SHAPES[DEFAULT_SHAPE].params
    if name in SIZE_CLASSES or name in KNOWN_SHAPES:
        return resolve_shape(name).params
    from ..model.memory import shape_from_config

    return shape_from_config(Path(name), name=name).params


def total_cost_of_ownership(run: RunDir, settings: Settings, new_data_fraction: float = 0.2) -> dict[str, float]:
    """Money per cost item for one project year, from this run's measurements and ``settings.budget``.

    Items: annotation (examples x minutes x hourly rate), experiments (settings.budget.experiments_per_run
    runs like this one), the final run, evaluation (rating hours x rate), upkeep (retraining rounds a year,
    each with a final run, a rating round and annotating ``new_data_fraction`` new examples).
    """
    b = settings.budget
    measured = read_measured(run)
    n_examples = sum(count_examples(run).values())
    run_hours = measured.wall_seconds / 3600
    final = run_hours * b.gpu_hour_price
    annotation = n_examples * b.annotation_minutes_per_example / 60 * b.hourly_rate
    ratings = rating_hours(run, settings)
    evaluation = (ratings["human_hours"] + ratings["assumed_hours"]) * b.hourly_rate
    upkeep = b.retrain_per_year * (final + evaluation + new_data_fraction * annotation)
    return {"data preparation and annotation": annotation, "experiments": b.experiments_per_run * final,
            "final training run": final, "evaluation and rating": evaluation, "upkeep (retraining)": upkeep}


def compare_model_sizes(run: RunDir, settings: Settings, sizes: Iterable[str] = tuple(SIZE_CLASSES),
                        batch_size: int = 4, seq_len: int = 512) -> Any:
    """A DataFrame per model size: QLoRA memory, and hours and compute cost of this run's tokens on this hardware
    (measured throughput scaled by FLOPs) and on the reference GPU (published throughput scaled the same way)."""
    import pandas as pd

    b = settings.budget
    measured = read_measured(run)
    base_params = model_params(settings.model.base_model)
    ref_params = KNOWN_SHAPES[REFERENCE_GPU["model"]].params
    rows = []
    for size in [settings.model.base_model, *sizes]:
        params = model_params(size)
        here_tps = scale_throughput(measured.tokens_per_second, base_params, params)
        gpu_tps = scale_throughput(REFERENCE_GPU["tokens_per_second"], ref_params, params)
        shape = KNOWN_SHAPES[DEFAULT_SHAPE] if size == DEFAULT_MODEL else resolve_shape(size)
        memory = estimate_memory(shape, METHOD_SETUPS["qlora"], batch_size=batch_size, seq_len=seq_len,
                                 gradient_checkpointing=True).total_gb
        hours_here = training_hours(measured.tokens_trained, here_tps)
        hours_gpu = training_hours(measured.tokens_trained, gpu_tps)
        rows.append({"model": size, "params_b": round(params / 1e9, 3), "qlora_memory_gb": round(memory, 1),
                     "fits_gpu": memory <= b.gpu_memory_gb,
                     "hours_here": round(hours_here, 3), "cost_here": round(hours_here * b.gpu_hour_price, 2),
                     "hours_ref_gpu": round(hours_gpu, 4), "cost_ref_gpu": round(hours_gpu * b.gpu_hour_price, 2),
                     "cost_per_year_ref_gpu": round(hours_gpu * b.gpu_hour_price * b.experiments_per_run
                                                    * (1 + b.retrain_per_year), 2)})
    return pd.DataFrame(rows)


def plot_cost_breakdown(items: dict[str, float], title: str = "Where the money goes (one year)") -> Any:
    """A horizontal bar chart of cost items, largest first, with each item's share."""
    from matplotlib.figure import Figure

    ordered = sorted(items.items(), key=lambda kv: kv[1])
    total = sum(items.values()) or 1.0
    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    bars = ax.barh([k for k, _ in ordered], [v for _, v in ordered], color="tab:blue")
    for bar, (_, value) in zip(bars, ordered):
        ax.annotate(f" {value:,.0f} ({value / total:.0%})", (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    va="center", fontsize=8)
    ax.set_xlabel("cost (your currency)")
    ax.set_title(f"{title}: total {total:,.0f}")
    ax.margins(x=0.25)
    fig.tight_layout()
    return fig


def plot_size_comparison(table: Any, column: str = "cost_per_year_ref_gpu") -> Any:
    """Bars of a cost column per model size (log scale), marking sizes that do not fit the planned GPU."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    colors = ["tab:green" if fit else "tab:red" for fit in table["fits_gpu"]]
    ax.bar(table["model"].astype(str), table[column].clip(lower=1e-3), color=colors)
    ax.set_yscale("log")
    ax.set_ylabel(column.replace("_", " "))
    ax.set_title("Compute cost per model size (green: QLoRA fits the planned GPU, red: it does not)")
    fig.tight_layout()
    return fig


__all__ = ["Measured", "REFERENCE_GPU", "compare_model_sizes", "count_examples", "flops_per_token", "model_params",
           "planned_tokens", "plot_cost_breakdown", "plot_size_comparison", "rating_hours", "read_measured", "scale_throughput",
           "total_cost_of_ownership", "training_cost", "training_hours"]


def planned_tokens(run: RunDir, settings: Settings) -> int:
    """Tokens one training run will process: the encoded training split times the epochs (or the step budget)."""
    from ..model.chat_format import encode_example
    from ..model.loading import load_tokenizer
    from ..sft.trainer import training_examples

    t = settings.train
    examples = training_examples(run, settings)
    if not examples:
        raise ValueError(f"{run.need('train_split')} has no examples; rerun notebook 01")
    tokenizer = load_tokenizer(settings.model.base_model, settings.model.trust_remote_code)
    per_epoch = sum(len(encode_example(tokenizer, ex, settings.data.max_length)["input_ids"]) for ex in examples)
    if t.max_steps:
        per_example = per_epoch / len(examples)
        return int(t.max_steps * t.batch_size * t.grad_accum * per_example)  # max_steps overrides epochs
    return int(per_epoch * t.epochs)
