"""Planning the next iteration from notebook 06's error analysis, and promoting a run to the regression baseline.

``eval/breakdown.json`` (notebook 06) holds per-category accuracy and per-intent F1 of the best model:
``{"category": {name: {"accuracy": x, "n": n}}, "intent": {name: {"f1": x, "n": n}}}``. The weakest
products and intents get a suggested action: *more data* when there are few test examples of it (the
training set probably has few too), *better data* when there are enough and the model still fails.
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


def weak_spots(breakdown: dict[str, Any], max_score: float = 0.7, min_n: int = 8) -> Any:
    """Categories (accuracy) and intents (F1) scoring below ``max_score``, weakest first, with a suggested action."""
    import pandas as pd

    rows = []
    for kind, metric in (("category", "accuracy"), ("intent", "f1")):
        for name, block in (breakdown.get(kind) or {}).items():
            if not isinstance(block, dict) or metric not in block:
                raise ValueError(f"breakdown.json: {kind} '{name}' has no '{metric}'")
            score, n = float(block[metric]), int(block.get("n", 0))
            if score < max_score:
                action = (f"more data: only {n} test examples, write or collect more" if n < min_n
                          else "better data: enough examples but still wrong; check labels, facts and phrasing")
                rows.append({"kind": kind, "name": name, "score": score, "n": n, "action": action})
    table = pd.DataFrame(rows, columns=["kind", "name", "score", "n", "action"])
    return table.sort_values(["score", "n"]).reset_index(drop=True)


def promote_commands(run: RunDir) -> list[str]:
    """The two equivalent commands that make this run's metrics the regression baseline of its profile."""
    return [f"make baseline RUN={shlex.quote(run.name)}   # when the run lives in the repository's runs/ folder",
            f"{shlex.quote(sys.executable)} -m helpers.eval.regression promote {shlex.quote(str(run.root))}"]


__all__ = ["promote_commands", "read_breakdown", "weak_spots"]
