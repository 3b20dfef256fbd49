"""Train/validation/feedback/test splits: seeded, stratified, near-duplicates kept together, checked for leakage.

* ``train``: what the model is fine-tuned on (notebook 03);
* ``val``: validation loss during training and the choice of the best checkpoint;
* ``feedback``: the questions people rate in notebook 04, whose preferences train DPO in notebook 05;
* ``test``: only ever scored (notebooks 02 and 06), never trained, rated or tuned on.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from itertools import combinations
from typing import Any

from ..core.examples import question
from ..core.runs import SPLITS
from .dedup import minhashes, normalize

HELD_OUT = ("val", "feedback", "test")


def seeded_key(seed: int, key: str) -> str:
    """A seeded, stable pseudo-random order key (hex digest), the data package's one seeded hash."""
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def stratum(example: dict[str, Any]) -> str:
    """What a split is stratified by: the intent for routing, the product for product questions."""
    meta = example["meta"]
    return meta.get("intent") or meta.get("product") or "none"


def assign_by_group(examples: list[dict[str, Any]], fractions: dict[str, float], seed: int) -> list[str]:
    """A split per example: within each stratum, whole groups go to test, feedback, val or train in seeded order.

    ``fractions`` gives the share of groups of each held-out split ({"val": 0.1, "feedback": 0.1, "test": 0.25});
    the rest trains.
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for ex in examples:
        key = stratum(ex)
        if ex["meta"]["group"] not in groups[key]:
            groups[key].append(ex["meta"]["group"])
    bounds, total = [], 0.0
    for name in ("test", "feedback", "val"):
        total += fractions.get(name, 0.0)
        bounds.append((total, name))
    where: dict[str, str] = {}
    for key, names in groups.items():
        ordered = sorted(names, key=lambda g: seeded_key(seed, g))
        for i, g in enumerate(ordered):
            pos = (i + 0.5) / len(ordered)
            where[g] = next((name for bound, name in bounds if pos < bound), "train")
    return [where[ex["meta"]["group"]] for ex in examples]


def content_hash(examples: list[dict[str, Any]]) -> str:
    """SHA-256 of a split's examples (order-independent), to tell at a glance whether two runs used the same data."""
    lines = sorted(json.dumps(ex, sort_keys=True, ensure_ascii=False) for ex in examples)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def near_duplicate_of(texts_a: list[str], texts_b: list[str], threshold: float) -> list[bool]:
    """For each text of ``texts_b``: has it a MinHash Jaccard of at least ``threshold`` with some text of ``texts_a``?"""
    from datasketch import MinHashLSH

    from .dedup import NUM_PERM

    if not texts_a or not texts_b:
        return [False] * len(texts_b)
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    hashes_a = minhashes(texts_a)
    for i, mh in enumerate(hashes_a):
        lsh.insert(i, mh)
    return [any(hashes_a[j].jaccard(mh) >= threshold for j in lsh.query(mh)) for mh in minhashes(texts_b)]


def near_duplicates(texts_a: list[str], texts_b: list[str], threshold: float) -> int:
    """How many texts of ``texts_b`` have a MinHash Jaccard of at least ``threshold`` with some text of ``texts_a``."""
    return sum(near_duplicate_of(texts_a, texts_b, threshold))


def leakage_report(splits: dict[str, list[dict[str, Any]]], threshold: float) -> dict[str, int]:
    """Counts of every kind of leakage between any two splits (all zero when clean).

    shared_groups: a near-duplicate group in two splits; shared_questions: the same normalized question in
    two splits; near_duplicate_questions: a question of the later split whose MinHash Jaccard with a question
    of the earlier split reaches ``threshold``; shared_phrasings: a catalog phrasing (template) of a held-out
    split that also occurs in an earlier split. Splits are compared in the order train, val, feedback, test.
    """
    group_splits: dict[str, set[str]] = defaultdict(set)
    for name, exs in splits.items():
        for ex in exs:
            group_splits[ex["meta"]["group"]].add(name)
    names = [s for s in SPLITS if s in splits]
    shared_q = near = phrasings = 0
    for a, b in combinations(names, 2):
        qa = {normalize(question(ex)) for ex in splits[a]}
        shared_q += sum(normalize(question(ex)) in qa for ex in splits[b])
        near += near_duplicates([question(ex) for ex in splits[a]], [question(ex) for ex in splits[b]], threshold)
        seen = {ex["meta"]["phrasing"] for ex in splits[a] if ex["meta"]["source"] == "catalog"}
        phrasings += sum(ex["meta"]["phrasing"] in seen for ex in splits[b] if ex["meta"]["source"] == "catalog")
    return {"shared_groups": sum(len(s) > 1 for s in group_splits.values()), "shared_questions": shared_q,
            "near_duplicate_questions": near, "shared_phrasings": phrasings}
