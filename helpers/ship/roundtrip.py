"""The GGUF round trip: load the exported file back with transformers' GGUF loader and answer the test questions.

The reference is the adapter model's greedy answers from notebook 06 (``eval/generations.jsonl``: base
loaded as in training plus the adapter, unmerged). The GGUF model answers the same examples with the
same generation code and caps, so any difference comes from the weights: merging, the 8-bit rounding,
the tensor layout, the tokenizer or the chat template read back from the file.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..data.fact_check import FactChecker
from ..core.config import Settings
from ..core.runs import MissingInputError, RunDir, read_jsonl
from .judge import judge


@dataclass
class RoundTrip:
    """How the GGUF model's answers compare with the adapter model's on the same questions."""

    model: str                # which adapter model the answers are compared with ('dpo' or 'sft')
    n: int                    # examples answered by both
    agreement: float          # share of identical greedy answers
    n_product: int            # product questions with asked fields (factual accuracy's denominator)
    gguf_factual_accuracy: float
    adapter_factual_accuracy: float
    load_seconds: float
    answer_seconds: float
    differences: list[dict[str, str]] = field(default_factory=list)

    @property
    def accuracy_gap(self) -> float:
        """GGUF minus adapter factual accuracy."""
        return self.gguf_factual_accuracy - self.adapter_factual_accuracy


def adapter_records(run: RunDir, model: str, limit_per_task: int = 0) -> list[dict[str, Any]]:
    """Notebook 06's generation records of ``model`` (optionally the first ``limit_per_task`` of each task)."""
    path = run.need("eval_generations")
    records = [r for r in read_jsonl(path) if r["model"] == model]
    if not records:
        raise MissingInputError(f"{path} has no answers of '{model}': run notebook 06_evaluation after "
                                f"notebook {'05' if model == 'dpo' else '03'} with run_name='{run.name}'")
    if not limit_per_task:
        return records
    kept, seen = [], {}
    for record in records:
        seen[record["task"]] = seen.get(record["task"], 0) + 1
        if seen[record["task"]] <= limit_per_task:
            kept.append(record)
    return kept


def factual_accuracy(records: Sequence[dict[str, Any]], answers: Sequence[str],
                     checker: FactChecker) -> tuple[float, int]:
    """Share of product questions (with asked fields, about a catalog product) whose answer is correct."""
    scored = [judge(a, r["product"], r["fields"], checker).right for r, a in zip(records, answers)
              if r["task"] == "product_qa" and r.get("fields") and r.get("product") in checker.catalog]
    return (sum(scored) / len(scored) if scored else float("nan")), len(scored)


def load_gguf(path: Path) -> tuple[Any, Any]:
    """(model, tokenizer) read from a GGUF file by transformers' GGUF loader, dequantized to the compute dtype
    (float32 on a CPU) on the course's device."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ..model.loading import compute_dtype, device

    path = Path(path)
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=compute_dtype())
    return model.to(device()).eval(), tokenizer


def round_trip(run: RunDir, settings: Settings, gguf_path: Path, model: str, checker: FactChecker,
               limit_per_task: int = 0) -> RoundTrip:
    """Answer notebook 06's examples with the GGUF file and compare with the adapter model's answers."""
    from ..model.generation import generate_answers, settings_kwargs

    records = adapter_records(run, model, limit_per_task)
    by_id = {ex["id"]: ex for ex in read_jsonl(run.need("test_split"))}
    examples = [by_id[r["id"]] for r in records]
    start = time.perf_counter()
    gguf_model, tokenizer = load_gguf(gguf_path)
    loaded = time.perf_counter()
    answers = [g.answer for g in generate_answers(gguf_model, tokenizer, examples, **settings_kwargs(settings.eval),
                                                  progress=False)]
    answered = time.perf_counter()
    same = [a == r["answer"] for r, a in zip(records, answers)]
    gguf_acc, n_product = factual_accuracy(records, answers, checker)
    adapter_acc, _ = factual_accuracy(records, [r["answer"] for r in records], checker)
    differences = [{"id": r["id"], "question": r["prompt"], "adapter": r["answer"], "gguf": a}
                   for r, a, s in zip(records, answers, same) if not s]
    return RoundTrip(model, len(records), sum(same) / len(same), n_product, gguf_acc, adapter_acc,
                     round(loaded - start, 2), round(answered - loaded, 2), differences)


__all__ = ["RoundTrip", "adapter_records", "factual_accuracy", "load_gguf", "round_trip"]
