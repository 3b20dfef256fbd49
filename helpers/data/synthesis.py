"""Catalog-grounded question and answer examples in several phrasings, and routing examples from Bitext.

Every phrasing (template) has a role: most are for training, a few only ever appear in the
validation split, and a few only in the test split, so the test set asks about known facts in
words the model has never been trained on.
"""
from __future__ import annotations

import random
from typing import Any

from ..core.examples import ROUTING_INSTRUCTION, SYSTEM_PROMPT, routing_answer
from .catalog import Catalog, Product, format_value

NOUNS = {"wattage_w": "wattage", "capacity_va": "VA capacity", "efficiency": "efficiency rating",
         "runtime_min": "battery runtime at half load", "outlets": "number of outlets",
         "surge_joules": "joule rating", "length_m": "length", "connectors": "connector set",
         "dimensions_mm": "size in millimetres", "warranty_years": "warranty period", "price_usd": "price",
         "release_year": "release year", "compatibility": "list of compatible Voltaris products"}
ANSWERS = {"wattage_w": "The {label} is rated at {value}.", "capacity_va": "The {label} has a capacity of {value}.",
           "efficiency": "The {label} is certified {value}.", "runtime_min": "The {label} runs for {value} at half load.",
           "outlets": "The {label} has {value}.", "surge_joules": "The {label} is rated for {value}.",
           "length_m": "The {label} is {value} long.", "connectors": "The {label} has {value}.",
           "dimensions_mm": "The {label} measures {value}.",
           "warranty_years": "The {label} has a warranty of {value}.", "price_usd": "The {label} costs {value}.",
           "release_year": "The {label} was released in {value}.",
           "compatibility": "The {label} works with the {value}."}
GENERIC = {
    "train": ["What is the {noun} of the {label}?", "Tell me the {noun} of the {label}.",
              "{label}: what is its {noun}?", "I need the {noun} for the {label}.",
              "What {noun} does the {label} have?", "Can you give me the {noun} of the {label}?"],
    "val": ["Please state the {noun} of the {label}.", "Looking at the {label} - what's the {noun}?"],
    "test": ["Could you look up the {noun} for the {label}, please?",
             "I'm comparing options. Which {noun} does the {label} come with?",
             "Quick question on the {label}: its {noun}?"],
}
SPECIFIC = {"wattage_w": "How many watts does the {label} deliver?",
            "warranty_years": "How long is the warranty on the {label}?",
            "price_usd": "How much does the {label} cost?", "release_year": "When was the {label} released?",
            "length_m": "How long is the {label}?", "outlets": "How many outlets does the {label} have?",
            "connectors": "Which connectors does the {label} have?",
            "compatibility": "Which products work with the {label}?"}


def templates(field: str) -> list[tuple[str, str, str]]:
    """(template id, role, text) of every phrasing for a field."""
    out = [(f"{role}-{i}", role, t) for role, texts in GENERIC.items() for i, t in enumerate(texts)]
    if field in SPECIFIC:
        out.append(("train-specific", "train", SPECIFIC[field]))
    return out


def answer(product: Product, field: str) -> str:
    """The short reference answer stating one fact."""
    value = format_value(field, product.facts[field])
    if field == "connectors" and len(product.facts[field]) > 1:
        value += " connectors"
    elif field == "connectors":
        value = f"a {value} connector"
    return ANSWERS[field].format(label=product.label, value=value)


def qa_example(product: Product, field: str, question: str, phrasing: str, source: str) -> dict[str, Any]:
    """One product_qa example in the shared format (the id is set later)."""
    return {"id": "", "task": "product_qa",
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": question},
                         {"role": "assistant", "content": answer(product, field) if source == "catalog" else ""}],
            "meta": {"product": product.code, "category": product.category,
                     "fields": {field: product.facts[field]}, "intent": None, "group": "",
                     "source": source, "phrasing": phrasing}}


def catalog_examples(catalog: Catalog, phrasings_per_fact: int, val_fraction: float, test_fraction: float,
                     seed: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Questions about every fact of every product, each in several phrasings; also each example's split role.

    Each phrasing draws its role (train, val or test) with the split fractions, then a template of that role,
    so held-out examples use templates the training split never contains.
    """
    rng = random.Random(seed)
    examples, roles = [], []
    for product in catalog.products:
        for field in product.facts:
            by_role: dict[str, list[tuple[str, str, str]]] = {}
            for t in templates(field):
                by_role.setdefault(t[1], []).append(t)
            used: set[str] = set()
            for _ in range(phrasings_per_fact):
                x = rng.random()
                role = "test" if x < test_fraction else "val" if x < test_fraction + val_fraction else "train"
                choices = [t for t in by_role[role] if t[0] not in used] or by_role[role]
                tid, _, text = rng.choice(choices)
                used.add(tid)
                label = rng.choice([product.label, product.name, product.code, f"{product.name} {product.code}"])
                noun = NOUNS[field]
                question = text.format(label=label, noun=noun)
                examples.append(qa_example(product, field, question[0].upper() + question[1:],
                                           f"{field}:{tid}", "catalog"))
                roles.append(role)
    return examples, roles


def ticket_example(product: Product, question: str, reply: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A product_qa example from a cleaned, grounded support exchange."""
    ex = qa_example(product, next(iter(fields)), question, "ticket", "ticket")
    ex["messages"][2]["content"] = reply
    ex["meta"]["fields"] = dict(fields)
    return ex


def routing_example(utterance: str, intent: str) -> dict[str, Any]:
    """A routing example: the utterance to route, and 'Intent: <intent>'."""
    return {"id": "", "task": "routing",
            "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                         {"role": "user", "content": ROUTING_INSTRUCTION + utterance},
                         {"role": "assistant", "content": routing_answer(intent)}],
            "meta": {"product": None, "category": None, "fields": {}, "intent": intent, "group": "",
                     "source": "bitext", "phrasing": "bitext"}}
