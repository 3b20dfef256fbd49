"""Exact and near-duplicate detection with MinHash and locality-sensitive hashing (datasketch).

Near-duplicates are texts whose sets of 5-character shingles have a Jaccard similarity of at
least ``threshold`` (0.8 by default). MinHash estimates that similarity from 128 hash values
per text, and MinHashLSH finds candidate pairs without comparing every pair. At 0.8, a one-word
typo or a changed punctuation mark in a ticket of a few sentences stays above the line, while two
different questions about the same product (which share the product name) fall below it.
"""
from __future__ import annotations

import hashlib
import re

from datasketch import MinHash, MinHashLSH

NUM_PERM = 128
SHINGLE = 5


def normalize(text: str) -> str:
    """Lower case, punctuation removed, whitespace collapsed: the key for exact duplicates."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w<>\s]", " ", (text or "").lower())).strip()


def exact_key(text: str) -> str:
    """A short hash of the normalized text."""
    return hashlib.sha1(normalize(text).encode("utf-8")).hexdigest()


def _shingles(text: str) -> list[bytes]:
    """Character 5-grams of the normalized text (the whole text when shorter)."""
    norm = normalize(text)
    if len(norm) <= SHINGLE:
        return [norm.encode("utf-8")]
    return list({norm[i:i + SHINGLE].encode("utf-8") for i in range(len(norm) - SHINGLE + 1)})


def minhashes(texts: list[str], seed: int = 1) -> list[MinHash]:
    """One MinHash per text (computed in bulk)."""
    return MinHash.bulk([_shingles(t) for t in texts], num_perm=NUM_PERM, seed=seed)


def near_duplicate_clusters(texts: list[str], threshold: float) -> list[int]:
    """Cluster index per text: texts linked by estimated Jaccard >= threshold share an index (union-find)."""
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    hashes = minhashes(texts)
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    for i, mh in enumerate(hashes):
        for j in lsh.query(mh):
            if hashes[j].jaccard(mh) >= threshold:
                parent[root(i)] = root(j)
        lsh.insert(i, mh)
    return [root(i) for i in range(len(texts))]


def deduplicate(texts: list[str], threshold: float) -> tuple[list[int], dict[int, tuple[str, int]]]:
    """Indices to keep (first of each duplicate set) and, for the others, (reason, index of the kept copy)."""
    keep, removed, seen = [], {}, {}
    for i, text in enumerate(texts):
        key = exact_key(text)
        if key in seen:
            removed[i] = ("exact duplicate", seen[key])
        else:
            seen[key] = i
    candidates = [i for i in range(len(texts)) if i not in removed]
    clusters = near_duplicate_clusters([texts[i] for i in candidates], threshold)
    first: dict[int, int] = {}
    for i, cluster in zip(candidates, clusters):
        if cluster in first:
            removed[i] = ("near duplicate", first[cluster])
        else:
            first[cluster] = i
            keep.append(i)
    return keep, removed
