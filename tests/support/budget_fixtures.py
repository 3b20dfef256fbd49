"""Fake-but-plausible run directories for the cost and run-comparison tests and the notebook 07 test."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from helpers.core.runs import RunDir, open_run, write_json, write_jsonl

SUMMARY = {"tokens_per_second": 50.0, "tokens_trained": 36000, "wall_seconds": 720.0, "peak_memory_mb": 4680.7,
           "device": "cpu", "best_val_loss": 0.41, "first_val_loss": 1.51, "stopped_early": False, "steps": 90}
METRICS = {"profile": "ci", "base_model": "default",
           "models": {"base": {"factual_accuracy": 0.20, "hallucination_rate": 0.50, "rouge_l": 0.15, "n": 48},
                      "sft": {"factual_accuracy": 0.55, "hallucination_rate": 0.25, "rouge_l": 0.35, "n": 48}},
           "training": {"sft": {k: SUMMARY[k] for k in ("tokens_per_second", "peak_memory_mb", "wall_seconds",
                                                        "best_val_loss", "first_val_loss", "stopped_early")}}}
def _product(n: int, correct: int, contradicts: int, no_answer: int, train: int) -> dict[str, Any]:
    return {"category": "routers", "n": n, "correct": correct, "contradicts": contradicts, "no_answer": no_answer,
            "degenerate": n - correct - contradicts - no_answer, "train_examples": train}


BREAKDOWN = {"product": {"RT-100": _product(12, 4, 7, 1, 40),   # states wrong values: more passes
                         "RT-200": _product(10, 2, 1, 6, 38),   # states no value: teach the answer
                         "RT-300": _product(10, 5, 4, 1, 6),    # few training examples: more data
                         "SW-100": _product(20, 17, 2, 1, 44)},  # fine
             "intent": {"track_order": {"f1": 0.9, "n": 15, "unparsed": 0, "confused_with": {}, "train_examples": 8},
                        "warranty_claim": {"f1": 0.3, "n": 10, "unparsed": 6, "confused_with": {"setup_help": 1},
                                           "train_examples": 8},
                        "setup_help": {"f1": 0.55, "n": 12, "unparsed": 0, "confused_with": {"get_refund": 5},
                                       "train_examples": 8},
                        "get_refund": {"f1": 0.6, "n": 9, "unparsed": 1, "confused_with": {}, "train_examples": 2}}}


def _example(i: int, split: str) -> dict[str, Any]:
    return {"id": f"{split}-{i}", "task": "qa", "question": f"Question {i}?", "answer": f"Answer {i}."}


def make_run(runs_dir: Path, name: str = "r1", n_train: int = 40, settings: dict[str, Any] | None = None,
             summary: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None,
             ratings: int = 6, breakdown: bool = True) -> RunDir:
    """A run with data splits, train summary and adapter metadata, metrics, a ratings store and an eval breakdown."""
    run = open_run(name, runs_dir)
    for split, n in (("train", n_train), ("val", 5), ("test", 5)):
        write_jsonl(run.data / f"{split}.jsonl", [_example(i, split) for i in range(n)])
    summary = {**SUMMARY, **(summary or {})}
    write_json(run.train / "summary.json", summary)
    from helpers.core.config import load_settings

    write_json(run.train / "adapter" / "metadata.json",
               {"base_model": "default", "split_hashes": run.split_hashes(),
                "settings": load_settings("ci", settings or {}).to_dict(), "final_metrics": summary})
    write_json(run.metrics_path, metrics or METRICS)
    if breakdown:
        write_json(run.eval / "breakdown.json", BREAKDOWN)
    if ratings:
        with sqlite3.connect(run.ratings / "ratings.sqlite") as conn:
            conn.execute("CREATE TABLE ratings (rater TEXT, item_id TEXT, skipped INTEGER, simulated INTEGER, "
                         "created_at TEXT, updated_at TEXT)")
            # a human rater: one rating a minute, then a 2-hour break, then two more a minute apart
            stamps = [f"2025-01-01T10:0{i}:00+00:00" for i in range(ratings - 2)] + \
                     ["2025-01-01T12:30:00+00:00", "2025-01-01T12:31:00+00:00"]
            conn.executemany("INSERT INTO ratings VALUES ('ana', ?, 0, 0, ?, ?)",
                             [(f"i{i}", s, s) for i, s in enumerate(stamps)])
            conn.executemany("INSERT INTO ratings VALUES ('sim-1', ?, 0, 1, ?, ?)",
                             [(f"i{i}", s, s) for i, s in enumerate(stamps)])
    return run
