"""Real curated examples for the benchmarks: the sample corpus curated once into benchmarks/scratch/."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.core.runs import read_jsonl

REPO = Path(__file__).resolve().parent.parent
SCRATCH = REPO / "benchmarks" / "scratch"


def curated_dir(scratch: Path = SCRATCH) -> Path:
    """Folder with train/val/test JSONL of the sample corpus, curated with the cpu-demo settings on first use."""
    out = scratch / "data"
    if not (out / "train.jsonl").exists():
        from helpers.core.config import load_settings
        from helpers.data.pipeline import curate

        curate(REPO / "data_samples" / "voltaris", out, load_settings("cpu-demo").data)
    return out


def mixed_tasks(examples: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The first ``n`` examples taking the tasks in turn (file order within a task), so every task is present."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for ex in examples:
        by_task.setdefault(ex["task"], []).append(ex)
    queues = [list(reversed(v)) for _, v in sorted(by_task.items())]
    picked: list[dict[str, Any]] = []
    while len(picked) < n and any(queues):
        for q in queues:
            if q and len(picked) < n:
                picked.append(q.pop())
    if len(picked) < n:
        raise ValueError(f"asked for {n} examples, the split has {len(picked)}")
    return picked


def split_examples(split: str, n: int, scratch: Path = SCRATCH) -> list[dict[str, Any]]:
    """``n`` curated examples of one split (train/val/test), tasks mixed."""
    return mixed_tasks(read_jsonl(curated_dir(scratch) / f"{split}.jsonl"), n)
