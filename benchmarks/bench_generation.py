"""Benchmark: batched evaluation generation against one example at a time (greedy, same answers expected).

    .venv/bin/python -m benchmarks.bench_generation --examples 24 --out /tmp/generation.json
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch


def timed_answers(model: Any, tokenizer: Any, examples: list[dict[str, Any]], **kw: Any) -> tuple[list[Any], float]:
    """Answers of helpers.model.generation.generate_answers (keywords passed on) and the wall seconds they took."""
    from helpers.model.generation import generate_answers

    start = time.perf_counter()
    answers = generate_answers(model, tokenizer, examples, progress=False, **kw)
    return answers, time.perf_counter() - start


def compare(batched: list[Any], single: list[Any], batched_s: float, single_s: float) -> dict[str, Any]:
    """Tokens per second of each way (generated tokens up to the end of turn), their ratio, agreement of answers."""
    tokens = sum(r.new_tokens for r in batched)
    same = sum(a.answer == b.answer for a, b in zip(batched, single))
    return {"generated_tokens": tokens, "single_generated_tokens": sum(r.new_tokens for r in single),
            "batched_seconds": batched_s, "single_seconds": single_s,
            "batched_tokens_per_second": tokens / batched_s,
            "single_tokens_per_second": sum(r.new_tokens for r in single) / single_s,
            "batched_generation_speedup": (tokens / batched_s) / (sum(r.new_tokens for r in single) / single_s),
            "same_answers": same, "examples": len(batched),
            "differing": [{"batched": a.answer, "single": b.answer} for a, b in zip(batched, single)
                          if a.answer != b.answer][:5]}


def run(n_examples: int = 24) -> dict[str, Any]:
    """Generate answers to ``n_examples`` curated test examples both ways with the cpu-demo evaluation settings."""
    from helpers.core.config import load_settings
    from helpers.model.generation import settings_kwargs
    from helpers.model.loading import load_from_settings

    from .data import split_examples

    settings = load_settings("cpu-demo")
    kw = settings_kwargs(settings.eval)
    model, tokenizer = load_from_settings(settings.model)
    examples = split_examples("test", n_examples)
    timed_answers(model, tokenizer, examples[:2], batch_size=2, max_new_tokens=4)  # warm-up: kernels, threads
    batched, batched_s = timed_answers(model, tokenizer, examples, **kw)
    single, single_s = timed_answers(model, tokenizer, examples, **{**kw, "batch_size": 1})
    return {"benchmark": "generation", "batch_size": kw["batch_size"], "max_new_tokens": kw["max_new_tokens"],
            "task_max_new_tokens": kw["task_max_new_tokens"], "quantized_4bit": settings.model.quantize_4bit,
            "threads": torch.get_num_threads(), **compare(batched, single, batched_s, single_s)}


def main() -> None:
    """Command line: run, print, write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", type=int, default=24)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    res = run(args.examples)
    print(f"generation: batched {res['batched_tokens_per_second']:.1f} tokens/s, one at a time "
          f"{res['single_tokens_per_second']:.1f} tokens/s, {res['batched_generation_speedup']:.2f}x, "
          f"same answers {res['same_answers']}/{res['examples']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
