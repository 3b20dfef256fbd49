"""Comparing two runs: what changed (base model, data, settings) and what moved in ``metrics.json``.

The settings and data hashes of a run come from its adapter's ``train/adapter/metadata.json`` (written
by training); data hashes are recomputed from ``data/*.jsonl`` when the adapter is missing, with the
same :meth:`~helpers.core.runs.RunDir.split_hashes` training records, so the two sources agree.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..core.record import improved
from ..core.runs import RunDir



def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}; lists stay values."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Keys (dotted) whose values differ between two nested dicts: {key: (value in a, value in b)}."""
    fa, fb = flatten(a), flatten(b)
    return {k: (fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)}


def _read_json(path: Any) -> dict[str, Any]:
    """A JSON file as a dict, or a ValueError naming the file."""
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc


@dataclass
class RunRecord:
    """What defines a run: base model, settings, data hashes, metrics."""

    name: str
    base_model: str
    settings: dict[str, Any]
    data: dict[str, str]
    metrics: dict[str, Any]


def read_record(run: RunDir) -> RunRecord:
    """The run's base model, settings, data hashes and metrics (empty parts where a notebook has not run)."""
    meta_path = run.path("train_adapter") / "metadata.json"
    meta = _read_json(meta_path) if meta_path.exists() else {}
    metrics = _read_json(run.metrics_path) if run.metrics_path.exists() else {}
    settings = meta.get("settings", {})
    base = meta.get("base_model") or metrics.get("base_model") or settings.get("model", {}).get("base_model", "?")
    return RunRecord(run.name, str(base), settings, meta.get("split_hashes") or run.split_hashes(), metrics)


@dataclass
class RunComparison:
    """Differences between run A and run B."""

    a: RunRecord
    b: RunRecord
    model_changed: bool
    data_changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    settings_changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def summary(self) -> str:
        """A few lines saying what changed between the runs."""
        lines = [f"Run A = {self.a.name}, run B = {self.b.name}"]
        lines.append(f"base model: {self.a.base_model} -> {self.b.base_model}" if self.model_changed
                     else f"base model: same ({self.a.base_model})")
        lines.append("data: " + (", ".join(f"{k} {va} -> {vb}" for k, (va, vb) in self.data_changed.items())
                                 if self.data_changed else "same splits (identical hashes)"))
        if self.settings_changed:
            lines += [f"setting {k}: {va!r} -> {vb!r}" for k, (va, vb) in self.settings_changed.items()]
        else:
            lines.append("settings: identical")
        return "\n".join(lines)

    def metrics_table(self) -> Any:
        """A DataFrame of every numeric metric in either run: A, B, B - A and whether B is better.

        "B better" follows the direction in helpers.core.record's table of metrics; it is empty for numbers
        without one (counts, for example) and when nothing changed.
        """
        import pandas as pd

        fa, fb = flatten(self.a.metrics), flatten(self.b.metrics)
        rows = []
        for key in sorted(set(fa) | set(fb)):
            va, vb = fa.get(key), fb.get(key)
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (va, vb) if v is not None):
                continue
            delta = vb - va if va is not None and vb is not None else None
            better = None if delta is None else improved(key, delta)
            rows.append({"metric": key, "A": va, "B": vb, "B - A": delta, "B better": better})
        return pd.DataFrame(rows, columns=["metric", "A", "B", "B - A", "B better"])


def compare_runs(a: RunDir, b: RunDir) -> RunComparison:
    """What changed between two runs (model, data hashes, settings) and, via metrics_table(), what moved."""
    ra, rb = read_record(a), read_record(b)
    return RunComparison(ra, rb, ra.base_model != rb.base_model, diff(ra.data, rb.data), diff(ra.settings, rb.settings))


__all__ = ["RunComparison", "RunRecord", "compare_runs", "diff", "flatten", "read_record"]
