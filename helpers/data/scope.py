"""Fit the curated data to a profile's budget: a slice of the catalog and a cap on routing examples per intent.

On a laptop CPU a few minutes of training cannot teach 72 products' worth of facts: each fact needs several
passes. The ``cpu-demo`` and ``ci`` profiles therefore teach a slice of the catalog (``data.max_products``,
taken in turn from every category) and fewer routing utterances per intent in training
(``data.routing_train_per_intent``). Held-out routing utterances are kept, so routing is measured on as many
as before. Every example removed here is listed with its reason, like every other stage's.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from .catalog import Catalog

OUT_OF_SCOPE = "product outside this profile's slice of the catalog (data.max_products)"
OVER_CAP = "over the per-intent cap for training (data.routing_train_per_intent)"


def scope_products(catalog: Catalog, max_products: int) -> list[str]:
    """Model codes of the first ``max_products`` products taken in turn from each category (0 = all)."""
    if not max_products or max_products >= len(catalog.products):
        return [p.code for p in catalog.products]
    by_category: dict[str, list[str]] = defaultdict(list)
    for p in sorted(catalog.products, key=lambda p: p.code):
        by_category[p.category].append(p.code)
    chosen: list[str] = []
    rank = 0
    while len(chosen) < max_products:
        for category in sorted(by_category):
            if rank < len(by_category[category]) and len(chosen) < max_products:
                chosen.append(by_category[category][rank])
        rank += 1
    return chosen


def narrow(splits: dict[str, list[dict[str, Any]]], products: list[str],
           routing_train_per_intent: int) -> tuple[dict[str, list[dict[str, Any]]], list[tuple[dict[str, Any], str]]]:
    """Splits without product questions outside ``products`` and with at most the cap of training utterances per intent.

    Returns the narrowed splits and each removed example with its reason.
    """
    keep = set(products)
    seen: dict[str, int] = defaultdict(int)
    out: dict[str, list[dict[str, Any]]] = {}
    removed: list[tuple[dict[str, Any], str]] = []
    for name, examples in splits.items():
        out[name] = []
        for ex in examples:
            meta = ex["meta"]
            if ex["task"] == "product_qa" and meta["product"] not in keep:
                removed.append((ex, OUT_OF_SCOPE))
                continue
            if ex["task"] == "routing" and name == "train" and routing_train_per_intent:
                seen[meta["intent"]] += 1
                if seen[meta["intent"]] > routing_train_per_intent:
                    removed.append((ex, OVER_CAP))
                    continue
            out[name].append(ex)
    return out, removed
