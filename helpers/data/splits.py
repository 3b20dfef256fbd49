"""Train/validation/test splits: seeded, stratified, near-duplicates kept together, checked for leakage."""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Any

from ..core.examples import question
from .dedup import minhashes, normalize

SPLITS = ("train", "val", "test")


def _rank(seed: int, key: str) -> str:
    """A seeded, stable pseudo-random order key."""
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def stratum(example: dict[str, Any]) -> str:
    """What a split is stratified by: the intent for routing, the product for product questions."""
    meta = example["meta"]
    return meta.get("intent") or meta.get("product") or "none"


def assign_by_group(examples: list[dict[str, Any]], val_fraction: float, test_fraction: float,
                    seed: int) -> list[str]:
    """A split per example: within each stratum, whole groups go to test, val or train in seeded order."""
    groups: dict[str, list[str]] = defaultdict(list)
    for ex in examples:
        key = stratum(ex)
        if ex["meta"]["group"] not in groups[key]:
            groups[key].append(ex["meta"]["group"])
    where: dict[str, str] = {}
    for key, names in groups.items():
        ordered = sorted(names, key=lambda g: _rank(seed, g))
        for i, g in enumerate(ordered):
            pos = (i + 0.5) / len(ordered)
            where[g] = "test" if pos < test_fraction else "val" if pos < test_fraction + val_fraction else "train"
    return [where[ex["meta"]["group"]] for ex in examples]


def content_hash(examples: list[dict[str, Any]]) -> str:
    """SHA-256 of a split's examples (order-independent), to tell at a glance whether two runs used the same data."""
    lines = sorted(json.dumps(ex, sort_keys=True, ensure_ascii=False) for ex in examples)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def leakage_report(splits: dict[str, list[dict[str, Any]]], threshold: float) -> dict[str, int]:
    """Counts of every kind of leakage between training and held-out splits (all zero when clean).

    shared_groups: a near-duplicate group in two splits; shared_questions: the same normalized
    question in train and a held-out split; near_duplicate_questions: a held-out question whose
    MinHash Jaccard with some training question reaches ``threshold``; seen_test_phrasings: a
    catalog phrasing (template) of the test split that also occurs in training.
    """
    from datasketch import MinHashLSH

    from .dedup import NUM_PERM

    group_splits: dict[str, set[str]] = defaultdict(set)
    for name, exs in splits.items():
        for ex in exs:
            group_splits[ex["meta"]["group"]].add(name)
    train_q = {normalize(question(ex)) for ex in splits["train"]}
    held = [ex for name in ("val", "test") for ex in splits[name]]
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    train_texts = [question(ex) for ex in splits["train"]]
    train_hashes = minhashes(train_texts)
    for i, mh in enumerate(train_hashes):
        lsh.insert(i, mh)
    near = 0
    for mh in minhashes([question(ex) for ex in held]):
        near += any(train_hashes[j].jaccard(mh) >= threshold for j in lsh.query(mh))
    train_phrasings = {ex["meta"]["phrasing"] for ex in splits["train"] if ex["meta"]["source"] == "catalog"}
    return {"shared_groups": sum(len(s) > 1 for s in group_splits.values()),
            "shared_questions": sum(normalize(question(ex)) in train_q for ex in held),
            "near_duplicate_questions": near,
            "seen_test_phrasings": sum(ex["meta"]["phrasing"] in train_phrasings for ex in splits["test"]
                                       if ex["meta"]["source"] == "catalog")}
