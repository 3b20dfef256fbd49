"""Grounding agent replies in the catalog: find the product, check every stated value, correct or drop."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog
from .fact_check import FactChecker


@dataclass
class Grounded:
    """The outcome of checking one reply against the catalog.

    status: 'ok' (every stated value agrees), 'corrected' (wrong values replaced from the catalog),
    'contradiction' (wrong and not correctable, or an invented model code), 'no_product',
    'no_fact' (the reply states nothing the catalog can confirm).
    """

    status: str
    code: str | None
    answer: str
    fields: dict[str, Any] = field(default_factory=dict)
    wrong: dict[str, list[Any]] = field(default_factory=dict)


REASONS = {"no_product": "no catalog product mentioned", "no_fact": "reply states no catalog fact",
           "contradiction": "contradicts the catalog (not correctable)"}
"""Removal reason per grounding status that drops the example."""


def product_of(catalog: Catalog, hint: str, *texts: str) -> str | None:
    """The product an exchange is about: the export's product field, else the first code or name mentioned."""
    if hint in catalog:
        return hint
    for text in texts:
        codes = catalog.find_codes(text) or catalog.find_names(text)
        if codes:
            return codes[0]
    return None


def ground(checker: FactChecker, message: str, reply: str, hint: str = "") -> Grounded:
    """Check a cleaned reply against the catalog entry of the product the exchange is about."""
    catalog = checker.catalog
    code = product_of(catalog, hint, message, reply)
    if code is None:
        return Grounded("no_product", None, reply)
    check = checker.check(reply, code)
    facts = catalog.get(code).facts
    if check.unknown_codes or check.wrong_products:
        return Grounded("contradiction", code, reply,
                        wrong={"model code": check.unknown_codes + check.wrong_products})
    if check.wrong_fields:
        corrected, left = checker.correct(reply, code)
        if left:
            return Grounded("contradiction", code, reply, wrong=check.wrong_fields)
        fixed = checker.check(corrected, code)
        return Grounded("corrected", code, corrected, {f: facts[f] for f in fixed.correct_fields}, check.wrong_fields)
    if not check.correct_fields:
        return Grounded("no_fact", code, reply)
    return Grounded("ok", code, reply, {f: facts[f] for f in check.correct_fields})
