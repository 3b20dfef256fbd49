"""Notebook 00's first look: ask the base model catalog questions and score its answers with the course's one rule."""
from __future__ import annotations

import random
from typing import Any

from ..core.examples import system_prompt
from ..data.catalog import Catalog
from ..data.fact_check import FactChecker
from ..model.generation import generate_answers
from ..data.outcomes import classify


def catalog_questions(catalog: Catalog, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` questions about different products, each asking one numeric field the catalog knows."""
    rng = random.Random(seed)
    products = rng.sample(catalog.products, k=min(n, len(catalog.products)))
    out = []
    for product in products:
        numeric = [f for f in product.facts if catalog.fields[f].numeric] or list(product.facts)
        field = rng.choice(numeric)
        spec = catalog.fields[field]
        text = (spec.question or "What is the {noun} of the {product}?").format(product=product.label,
                                                                                 noun=spec.label)
        out.append({"code": product.code, "field": field, "truth": product.facts[field], "question": text})
    return out


def first_look(model: Any, tokenizer: Any, catalog: Catalog, n: int = 6, seed: int = 0,
               max_new_tokens: int = 60) -> list[dict[str, Any]]:
    """The base model's answers to catalog questions, each with the true value and its outcome."""
    questions = catalog_questions(catalog, n, seed)
    examples = [{"messages": [{"role": "user", "content": q["question"]}]} for q in questions]
    # asked as notebook 06 asks the base model: with the one-line role sentence (it was trained with a system turn)
    answers = generate_answers(model, tokenizer, examples, system_prompt=system_prompt(catalog.vendor),
                               max_new_tokens=max_new_tokens, progress=False)
    checker = FactChecker(catalog)
    return [{"question": q["question"], "catalog says": catalog.format_value(q["field"], q["truth"]),
             "model answered": a.answer, "outcome": classify(a.answer, q["code"], [q["field"]], checker).outcome}
            for q, a in zip(questions, answers)]
