"""Planning the next iteration from notebook 06's error analysis, and promoting a run to the regression baseline.

``eval/breakdown.json`` (notebook 06) holds, for the model the course ships, what went wrong per product
(outcome counts) and per intent (F1, unparsed answers, confusions), each with its number of training
examples. A weak product or intent gets the action its errors call for, never one read off the test-set size:

* few training examples (under half the median of its kind): **more data**;
* a product whose answers state wrong values: **more passes** over that product's facts;
* a product whose answers state no value (or loop): **teach the answer**: check that its reference answers
  state the value, and give it more phrasings;
* an intent whose answers name no known label: **list the labels or constrain decoding**;
* an intent mixed up with another: **contrast the two** with examples of both, and check their labels.
"""
from __future__ import annotations

import json
import shlex
import sys
from typing import Any

from ..core.runs import RunDir


def read_breakdown(run: RunDir) -> dict[str, Any] | None:
    """The run's eval/breakdown.json, or None when notebook 06 has not written it yet."""
    path = run.path("eval_breakdown")
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON (line {exc.lineno}): {exc.msg}; rerun notebook 06") from exc


def _median(values: list[int]) -> float:
    """The median of a list (0 for an empty one)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def product_action(block: dict[str, Any], few: float) -> str:
    """The action a weak product's errors call for (see the module docstring)."""
    silent = block["no_answer"] + block["degenerate"]
    if block["train_examples"] < few:
        return f"more data: only {block['train_examples']} training examples; add phrasings or curated tickets"
    if block["contradicts"] >= silent:
        return (f"more passes: {block['contradicts']} of {block['n']} answers state a wrong value; train longer "
                "on this product's facts before adding data")
    return (f"teach the answer: {silent} of {block['n']} answers state no value; check its reference answers "
            "state the value, and add phrasings")


def intent_action(block: dict[str, Any], few: float) -> str:
    """The action a weak intent's errors call for (see the module docstring)."""
    wrong = block["n"] - round(block["f1"] * block["n"])
    confused = dict(block.get("confused_with") or {})
    if block["train_examples"] < few:
        return f"more data: only {block['train_examples']} training utterances"
    if block["unparsed"] and block["unparsed"] >= sum(confused.values()):
        return (f"list the labels or constrain decoding: {block['unparsed']} answers named no known intent "
                "(see notebook 06's constrained decoding)")
    if confused:
        other, times = max(confused.items(), key=lambda kv: kv[1])
        return f"contrast with {other} ({times} mix-ups): add examples of both and check their labels"
    return f"better data: {wrong} misses with no single cause; check the labels"


def weak_spots(breakdown: dict[str, Any], max_score: float = 0.7) -> Any:
    """Products (accuracy) and intents (F1) scoring below ``max_score``, weakest first, each with an action."""
    import pandas as pd

    rows = []
    for kind, score_of, action_of in (("product", lambda b: b["correct"] / b["n"] if b["n"] else 0.0, product_action),
                                      ("intent", lambda b: b["f1"], intent_action)):
        blocks = breakdown.get(kind) or {}
        for name, block in blocks.items():
            needed = ("n", "correct", "contradicts", "no_answer", "degenerate", "train_examples") if kind == "product" \
                else ("n", "f1", "unparsed", "train_examples")
            missing = [k for k in needed if not isinstance(block, dict) or k not in block]
            if missing:
                raise ValueError(f"breakdown.json: {kind} '{name}' lacks {', '.join(missing)}; rerun notebook 06")
        few = _median([int(b["train_examples"]) for b in blocks.values()]) / 2
        for name, block in blocks.items():
            score = float(score_of(block))
            if score < max_score:
                rows.append({"kind": kind, "name": name, "score": round(score, 3), "test_n": int(block["n"]),
                             "train_examples": int(block["train_examples"]), "action": action_of(block, few)})
    table = pd.DataFrame(rows, columns=["kind", "name", "score", "test_n", "train_examples", "action"])
    return table.sort_values(["score", "name"]).reset_index(drop=True)


def promote_commands(run: RunDir) -> list[str]:
    """The two equivalent commands that make this run's metrics the regression baseline of its profile."""
    return [f"make baseline RUN={shlex.quote(run.name)}   # when the run lives in the repository's runs/ folder",
            f"{shlex.quote(sys.executable)} -m helpers.eval.regression promote {shlex.quote(str(run.root))}"]


__all__ = ["promote_commands", "read_breakdown", "weak_spots"]
