"""The prompted baseline: the best prompt a careful practitioner would write before reaching for fine-tuning.

It gets what prompting can give: the vendor, the answer format with units, an instruction not to guess, the
exact list of routing labels, and worked examples of both tasks from the training split. What prompting cannot
give is the catalog's values themselves: those live in the weights only after training (or in the prompt, with
retrieval, which this course does not cover).
"""
from __future__ import annotations

import random
from typing import Any, Sequence

from ..core.examples import question, reference_answer, system_prompt
from ..data.catalog import Catalog


def intent_labels(*splits: Sequence[dict[str, Any]]) -> list[str]:
    """Every routing intent seen in the given splits, sorted."""
    return sorted({ex["meta"]["intent"] for split in splits for ex in split
                   if ex["task"] == "routing" and ex["meta"].get("intent")})


def prompted_system(catalog: Catalog, labels: Sequence[str]) -> str:
    """The prompt-engineered system message: format, units, no guessing, and every routing label."""
    units = sorted({spec.unit for spec in catalog.fields.values() if spec.unit})
    return (f"{system_prompt(catalog.vendor)} Answer questions about {catalog.vendor or 'our'} products in one short "
            "sentence that names the product with its model code and states the asked specification with its "
            f"unit ({', '.join(units)}). If you do not know the value, say so: never guess a number and never "
            "invent a model code. For a support ticket, reply with exactly one line 'Intent: <label>', where "
            f"<label> is one of: {', '.join(labels)}.")


def few_shot(train: Sequence[dict[str, Any]], qa: int = 2, routing: int = 3, seed: int = 0) -> list[tuple[str, str]]:
    """(question, reference answer) pairs from the training split: ``qa`` product questions about different
    fields and ``routing`` tickets of different intents."""
    rng = random.Random(seed)
    shots: list[tuple[str, str]] = []
    for task, n, key in (("product_qa", qa, "fields"), ("routing", routing, "intent")):
        pool = [ex for ex in train if ex["task"] == task and ex["meta"].get(key)]
        rng.shuffle(pool)
        seen: set[str] = set()
        for ex in pool:
            kind = str(sorted(ex["meta"]["fields"])) if task == "product_qa" else ex["meta"]["intent"]
            if kind not in seen and len(seen) < n:
                seen.add(kind)
                shots.append((question(ex), reference_answer(ex)))
    return shots


__all__ = ["few_shot", "intent_labels", "prompted_system"]
