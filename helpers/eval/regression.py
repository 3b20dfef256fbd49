"""Regression check: does a run's metrics.json fall behind a committed baseline by more than a tolerance?

```
python -m helpers.eval.regression check runs/smoke                 # against baselines/<profile>.json
python -m helpers.eval.regression check runs/smoke --baseline F    # against another baseline file
python -m helpers.eval.regression promote runs/smoke               # make this run the baseline (make baseline RUN=smoke)
```
A baseline file holds the headline metrics of each model and the absolute tolerance per metric:
```json
{"profile": "ci", "source_run": "smoke",
 "tolerances": {"factual_accuracy": 0.1, "hallucination_rate": 0.1, "rouge_l": 0.05, "intent_macro_f1": 0.1},
 "models": {"sft": {"factual_accuracy": 0.8, "hallucination_rate": 0.05, "rouge_l": 0.7, "intent_macro_f1": 0.9}}}
```
The metrics compared, their direction and default tolerances come from the table of metrics in
:mod:`helpers.core.record`. A metric only fails when it is worse than the baseline by more than its
tolerance; getting better never fails. Baselines live in ``baselines/`` at the repository root and are
promoted on purpose (``make baseline RUN=name``).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..core.paths import COURSE_DIR
from ..core.record import METRICS, TOLERANCES
from ..core.runs import write_json

BASELINES = COURSE_DIR / "baselines"


class BaselineError(ValueError):
    """The baseline or the run's metrics cannot be compared; the message names the file and field."""


@dataclass(frozen=True)
class Row:
    """One metric of one model: baseline, current value and whether it got worse beyond tolerance."""

    model: str
    metric: str
    baseline: float
    current: float | None
    tolerance: float

    @property
    def change(self) -> float | None:
        """current - baseline (None when the run lacks the metric)."""
        return None if self.current is None else self.current - self.baseline

    @property
    def worse_by(self) -> float | None:
        """How much worse than the baseline (negative when better; None when missing)."""
        if self.change is None:
            return None
        return -self.change if METRICS[self.metric].higher_is_better else self.change

    @property
    def status(self) -> str:
        """'ok', 'WORSE' or 'MISSING'."""
        if self.current is None:
            return "MISSING"
        return "WORSE" if self.worse_by > self.tolerance + 1e-9 else "ok"


@dataclass
class RegressionReport:
    """Every compared metric; ``failed`` when any is worse beyond tolerance or missing."""

    rows: list[Row]
    baseline_path: Path | None = None

    @property
    def failures(self) -> list[Row]:
        """Rows that got worse or are missing."""
        return [r for r in self.rows if r.status != "ok"]

    @property
    def failed(self) -> bool:
        """True when any metric regressed or is missing."""
        return bool(self.failures)

    def table(self, only_failures: bool = False) -> str:
        """A fixed-width table of the comparison, readable in a terminal or a test log."""
        rows = self.failures if only_failures else self.rows
        head = ("model", "metric", "baseline", "current", "change", "tolerance", "status")
        body = [(r.model, r.metric + ("" if METRICS[r.metric].higher_is_better else " (lower is better)"),
                 f"{r.baseline:.3f}", "-" if r.current is None else f"{r.current:.3f}",
                 "-" if r.change is None else f"{r.change:+.3f}", f"{r.tolerance:.3f}", r.status) for r in rows]
        widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]

        def line(cells: Sequence[str]) -> str:
            """Cells padded to their column's width."""
            return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

        return "\n".join([line(head), line(["-" * w for w in widths])] + [line(b) for b in body])

    def summary(self) -> str:
        """One line plus, on failure, the table of what got worse."""
        where = f" (baseline {self.baseline_path})" if self.baseline_path else ""
        if not self.failed:
            return f"No regression: {len(self.rows)} metrics within tolerance{where}."
        return (f"REGRESSION: {len(self.failures)} of {len(self.rows)} metrics worse than the baseline beyond "
                f"tolerance{where}:\n{self.table(only_failures=True)}")


def _number(value: Any, where: str) -> float:
    """A metric value as float, or BaselineError naming where it came from."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BaselineError(f"{where} must be a number, got {value!r}")
    return float(value)


def compare_metrics(metrics: dict[str, Any], baseline: dict[str, Any],
                    tolerances: dict[str, float] | None = None) -> RegressionReport:
    """Compare a run's metrics.json dict with a baseline dict (see the module docstring)."""
    if not isinstance(baseline.get("models"), dict) or not baseline["models"]:
        raise BaselineError("baseline has no 'models' block to compare against")
    tol = {**TOLERANCES, **baseline.get("tolerances", {}), **(tolerances or {})}
    current_models = metrics.get("models") or {}
    rows = []
    for model, expected in baseline["models"].items():
        current = current_models.get(model) or {}
        for metric in TOLERANCES:
            if metric not in expected or expected[metric] is None:
                continue
            value = current.get(metric)
            rows.append(Row(model, metric, _number(expected[metric], f"baseline models.{model}.{metric}"),
                            None if value is None else _number(value, f"metrics models.{model}.{metric}"),
                            float(tol.get(metric, 0.0))))
    return RegressionReport(rows)


def _read(path: Path, what: str) -> dict[str, Any]:
    """A JSON file as dict, or BaselineError naming the file."""
    if not path.exists():
        raise BaselineError(f"{what} {path} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{what} {path} is not valid JSON (line {exc.lineno}): {exc.msg}") from exc


def baseline_path(profile: str) -> Path:
    """The committed regression baseline of a profile: baselines/<profile>.json."""
    return BASELINES / f"{profile}.json"


def baseline_path_for(metrics: dict[str, Any], run_dir: Path) -> Path:
    """baselines/<profile>.json for the profile recorded in the run's metrics."""
    profile = metrics.get("profile")
    if not profile:
        raise BaselineError(f"{run_dir / 'metrics.json'} records no 'profile'; pass --baseline FILE")
    return baseline_path(profile)


def check_run(run_dir: str | Path, baseline: str | Path | None = None,
              tolerances: dict[str, float] | None = None) -> RegressionReport:
    """Compare ``run_dir/metrics.json`` with a baseline file (default: the run profile's)."""
    run_dir = Path(run_dir)
    metrics = _read(run_dir / "metrics.json", "run metrics")
    path = Path(baseline) if baseline else baseline_path_for(metrics, run_dir)
    report = compare_metrics(metrics, _read(path, "baseline"), tolerances)
    report.baseline_path = path
    return report


def assert_no_regression(run_dir: str | Path, baseline: str | Path | None = None) -> RegressionReport:
    """check_run, raising AssertionError with the table of what got worse (for the papermill test suite)."""
    report = check_run(run_dir, baseline)
    if report.failed:
        raise AssertionError(report.summary())
    return report


def promote(run_dir: str | Path, baseline: str | Path | None = None) -> Path:
    """Write the run's headline metrics as the baseline of its profile, keeping existing tolerances."""
    run_dir = Path(run_dir)
    metrics = _read(run_dir / "metrics.json", "run metrics")
    models = {name: {m: values[m] for m in TOLERANCES if values.get(m) is not None}
              for name, values in (metrics.get("models") or {}).items() if isinstance(values, dict)}
    models = {name: values for name, values in models.items() if values}
    if not models:
        raise BaselineError(f"{run_dir / 'metrics.json'} has no model metrics yet: run notebook 06_evaluation first")
    path = Path(baseline) if baseline else baseline_path_for(metrics, run_dir)
    previous = _read(path, "baseline") if path.exists() else {}
    baseline = {"profile": metrics.get("profile"), "source_run": run_dir.resolve().name,
                "tolerances": {**TOLERANCES, **previous.get("tolerances", {})}, "models": models}
    for key in ("tolerance_note",):
        if key in previous:
            baseline[key] = previous[key]
    if (metrics.get("course") or {}).get("notebook_seconds"):
        baseline["course"] = metrics["course"]  # the measured times notebooks print (helpers.session)
    return write_json(path, baseline)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``check RUN_DIR [--baseline F]`` (exit 1 on regression) or ``promote RUN_DIR``."""
    parser = argparse.ArgumentParser(prog="python -m helpers.eval.regression", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("check", "compare a run with the baseline; exit 1 when a metric got worse"),
                       ("promote", "make the run's metrics the baseline of its profile")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("run_dir", type=Path)
        cmd.add_argument("--baseline", type=Path, default=None, help="baseline JSON (default baselines/<profile>.json)")
    args = parser.parse_args(argv)
    try:
        if args.command == "promote":
            print(f"baseline written: {promote(args.run_dir, args.baseline)}")
            return 0
        report = check_run(args.run_dir, args.baseline)
    except BaselineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.table())
    print(report.summary())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
