"""Notebook 00's first look: ask the base model catalog questions and check its answers against the catalog."""
from __future__ import annotations

import random
from typing import Any

from ..core.examples import SYSTEM_PROMPT
from ..data.catalog import Catalog, format_value
from ..model.generation import generate_answers

QUESTIONS = {
    "wattage_w": "What is the power rating of the {label}?",
    "warranty_years": "How many years of warranty does the {label} come with?",
    "price_usd": "How much does the {label} cost?",
    "capacity_va": "What is the VA capacity of the {label}?",
    "length_m": "How long is the {label}?",
}


def catalog_questions(catalog: Catalog, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` questions about different products, each asking one field that the catalog knows."""
    rng = random.Random(seed)
    products = rng.sample(catalog.products, k=min(n, len(catalog.products)))
    out = []
    for product in products:
        field = rng.choice([f for f in QUESTIONS if f in product.facts])
        out.append({"code": product.code, "field": field, "truth": product.facts[field],
                    "question": QUESTIONS[field].format(label=product.label)})
    return out


def verdict(catalog: Catalog, answer: str, code: str, field: str) -> str:
    """'correct', 'wrong value', 'invented product code' or 'no value given' for one answer."""
    check = catalog.check_answer(answer, code)
    if check.unknown_codes:
        return "invented product code"
    if field in check.wrong_fields:
        return "wrong value"
    return "correct" if field in check.correct_fields else "no value given"


def first_look(model: Any, tokenizer: Any, catalog: Catalog, n: int = 6, seed: int = 0,
               max_new_tokens: int = 60) -> list[dict[str, Any]]:
    """The base model's answers to catalog questions, each with the true value and a verdict."""
    questions = catalog_questions(catalog, n, seed)
    examples = [{"messages": [{"role": "system", "content": SYSTEM_PROMPT},
                              {"role": "user", "content": q["question"]}]} for q in questions]
    answers = generate_answers(model, tokenizer, examples, max_new_tokens=max_new_tokens, progress=False)
    return [{"question": q["question"], "catalog says": format_value(q["field"], q["truth"]),
             "model answered": a.answer, "verdict": verdict(catalog, a.answer, q["code"], q["field"])}
            for q, a in zip(questions, answers)]
