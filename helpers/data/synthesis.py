"""Catalog-grounded question and answer examples in several phrasings, and routing examples from Bitext.

Every phrasing (template) has a role: most are for training, others only ever appear in the validation,
feedback or test split, so the held-out splits ask about known facts in words the model was never trained
on. How many questions each fact gets per role is a setting (``data.phrasings``): a whole number, or a
fraction for "this share of the facts". The field's name in a question (``{noun}``), the reference answer
and one extra training phrasing come from the catalog's schema (:mod:`helpers.catalog`).
"""
from __future__ import annotations

import random
from typing import Any

from ..core.examples import ROUTING_INSTRUCTION, routing_answer
from .catalog import LABEL_FORMS, Catalog, Product
from .splits import seeded_key

ROLES = ("train", "val", "feedback", "test")
GENERIC = {
    "train": ["What is the {noun} of the {label}?", "Tell me the {noun} of the {label}.",
              "{label}: what is its {noun}?", "I need the {noun} for the {label}.",
              "What {noun} does the {label} have?", "Can you give me the {noun} of the {label}?"],
    "val": ["Please state the {noun} of the {label}.", "Looking at the {label} - what's the {noun}?"],
    "feedback": ["Do you know the {noun} of the {label}?", "A customer asks about the {label}: what {noun} does it have?",
                 "For the {label}, what would the {noun} be?"],
    "test": ["Could you look up the {noun} for the {label}, please?",
             "I'm comparing options. Which {noun} does the {label} come with?",
             "Quick question on the {label}: its {noun}?"],
}
"""Question templates by role; a role's templates never appear in another role."""


def templates(catalog: Catalog, field: str) -> dict[str, list[tuple[str, str]]]:
    """(template id, text) of every phrasing of a field, by role (the schema's own question trains)."""
    out = {role: [(f"{role}-{i}", t) for i, t in enumerate(texts)] for role, texts in GENERIC.items()}
    specific = catalog.fields[field].question
    if specific:
        out["train"].append(("train-specific", specific.replace("{product}", "{label}")))
    return out


def answer(catalog: Catalog, product: Product, field: str, form: str = "name_code") -> str:
    """The short reference answer stating one fact, from the field's answer template.

    The answer names the product by both name and code whatever the question called it, so every fact is taught beside
    both of the product's names: a question giving the code alone otherwise never pairs that code with its product,
    and the tuned model answered such questions with another product's name or value (measured in the README).
    ``form`` puts the name or the code first (``catalog.LABEL_FORMS``).
    """
    spec = catalog.fields[field]
    return spec.answer.format(product=product.labelled(form), value=spec.format(product.facts[field]),
                              label=spec.label)


def qa_example(catalog: Catalog, product: Product, field: str, question: str, phrasing: str,
               source: str, form: str = "name_code") -> dict[str, Any]:
    """One product_qa example in the shared format (the id is set later)."""
    reply = answer(catalog, product, field, form) if source == "catalog" else ""
    return {"id": "", "task": "product_qa",
            "messages": [{"role": "user", "content": question}, {"role": "assistant", "content": reply}],
            "meta": {"product": product.code, "category": product.category,
                     "fields": {field: product.facts[field]}, "intent": None, "group": "",
                     "source": source, "phrasing": phrasing}}


def hash_draw(seed: int, key: str) -> float:
    """A uniform number in [0, 1) fixed by the seed and key, drawn apart from any random stream."""
    return int(seeded_key(seed, key)[:8], 16) / 16 ** 8


def role_counts(counts: dict[str, float], key: str, seed: int) -> dict[str, int]:
    """Questions per role for one fact: the whole part of each count, plus one more with the fractional part's chance."""
    out = {}
    for role in ROLES:
        whole, frac = divmod(float(counts.get(role, 0)), 1.0)
        out[role] = int(whole) + (hash_draw(seed, f"{role}:{key}") < frac)
    return out


def catalog_examples(catalog: Catalog, counts: dict[str, float], seed: int, code_only_train: float = 0.0,
                     answer_form: str = "name_code") -> tuple[list[dict[str, Any]], list[str]]:
    """Questions about every fact of every product in distinct phrasings per role; also each example's role.

    A question names its product in one of four ways drawn at random (both names, name, code, name and code); with
    chance ``code_only_train`` a training question names it by its code alone instead, since that is the one way
    whose link to the product the question itself does not show (held-out questions keep the even draw). Every
    answer introduces the product in ``answer_form`` (``catalog.LABEL_FORMS``).
    """
    rng = random.Random(seed)
    examples, roles = [], []
    for product in catalog.products:
        for field in product.facts:
            pool = templates(catalog, field)
            for role, n in role_counts(counts, f"{product.code}:{field}", seed).items():
                for tid, text in rng.sample(pool[role], min(n, len(pool[role]))):
                    label = rng.choice([product.label, product.name, product.code, f"{product.name} {product.code}"])
                    if role == "train" and hash_draw(seed, f"code:{product.code}:{field}:{tid}") < code_only_train:
                        label = product.code
                    question = text.format(label=label, noun=catalog.fields[field].label)
                    examples.append(qa_example(catalog, product, field, question[0].upper() + question[1:],
                                               f"{field}:{tid}", "catalog", answer_form))
                    roles.append(role)
    return examples, roles


def field_nouns(catalog: Catalog, field: str, n: int, seed: int, key: str) -> list[str]:
    """``n`` of the words the schema gives for a field besides its label, drawn by the seed."""
    spec = catalog.fields[field]
    others = sorted({w for w in spec.nouns if w.lower() != spec.label.lower()},
                    key=lambda w: hash_draw(seed, f"noun:{key}:{w}"))
    return others[:n]


def noun_examples(catalog: Catalog, codes: list[str], n: int, seed: int,
                  answer_form: str = "name_code") -> list[dict[str, Any]]:
    """Training questions 'Product: <word>?' naming each fact's field by ``n`` of its other words (the schema's nouns).

    Catalog questions call a field by its label only ('power rating'); customers also write 'wattage', a word the
    training data otherwise shows only in tickets about some products. Each fact gets its own draw of ``n`` words,
    whichever products' tickets use them.
    """
    out = []
    for product in (catalog.get(code) for code in codes):
        for field in product.facts:
            for noun in field_nouns(catalog, field, n, seed, f"{product.code}:{field}"):
                forms = [product.label, product.name, product.code]
                label = forms[int(hash_draw(seed, f"noun-label:{product.code}:{field}:{noun}") * len(forms))]
                ex = qa_example(catalog, product, field, f"{label}: {noun}?", f"{field}:noun", "catalog", answer_form)
                ex["id"] = f"qn-{product.code}-{field}-{len(out):03d}"
                out.append(ex)
    return out


def introduced_as(reply: str, product: Product, form: str) -> str:
    """``reply`` with the product introduced in ``form`` wherever it names it in another of ``LABEL_FORMS``.

    Support agents write 'Quartz Flex (VX-AD-2120)'; under answer_form 'code_name' every catalog answer says
    'VX-AD-2120 (Quartz Flex)', and the tuned model wrote another product's name before the code in the
    agents' form (README). Other mentions (the name or code alone, 'it') are left as the agent wrote them.
    """
    for other in LABEL_FORMS:
        if other != form:
            reply = reply.replace(product.labelled(other), product.labelled(form))
    return reply


def ticket_example(catalog: Catalog, product: Product, question: str, reply: str,
                   fields: dict[str, Any], form: str = "name_code") -> dict[str, Any]:
    """A product_qa example from a cleaned, grounded support exchange, its reply introducing the product in ``form``."""
    ex = qa_example(catalog, product, next(iter(fields)), question, "ticket", "ticket")
    ex["messages"][-1]["content"] = introduced_as(reply, product, form)  # the assistant's turn
    ex["meta"]["fields"] = dict(fields)
    return ex


def routing_example(utterance: str, intent: str) -> dict[str, Any]:
    """A routing example: the utterance to route, and 'Intent: <intent>'."""
    return {"id": "", "task": "routing",
            "messages": [{"role": "user", "content": ROUTING_INSTRUCTION + utterance},
                         {"role": "assistant", "content": routing_answer(intent)}],
            "meta": {"product": None, "category": None, "fields": {}, "intent": intent, "group": "",
                     "source": "bitext", "phrasing": "bitext"}}
