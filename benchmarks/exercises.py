"""Each notebook's exercise, timed on a copy of a finished course run (issue 21: every exercise runs on a CPU
within 5 minutes).

    .venv/bin/python -m benchmarks.exercises --run runs/demo [--only 03 05]

An exercise's markdown cell declares in its metadata what the learner runs:

* ``{"exercise": {"overrides": {...}}}``: run the notebook again with these overrides (timed: the whole notebook);
* ``{"exercise": {"code": "..."}}``: run this code after the notebook (timed: that cell alone).

Each exercise gets its own copy of the run, so one exercise's changes never reach another's; the copy is removed
once timed (the executed notebook stays). A check cell whose assertion fails (an exercise may well train a model
that does not pass the course's checks: that can be its lesson) is recorded, not fatal. The seconds go to ``benchmarks/exercises.json`` with the profile and the machine; nothing
here is a timed test.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import textwrap
from pathlib import Path
from typing import Any

import nbformat

from helpers.cli.course import execute_notebook, find_notebooks
from helpers.core.runs import write_json

from .data import REPO, SCRATCH

RESULTS = REPO / "benchmarks" / "exercises.json"
TARGET_SECONDS = 300
COPIED_OUT = ("executed",)  # what an exercise never reads: the course's executed notebooks


def exercise_of(notebook: nbformat.NotebookNode) -> dict[str, Any]:
    """The exercise a notebook declares (see the module docstring); ValueError naming what is wrong."""
    declared = [c.metadata["exercise"] for c in notebook.cells if "exercise" in c.metadata]
    if len(declared) != 1:
        raise ValueError(f"{len(declared)} cells declare an exercise; exactly one should")
    spec = declared[0]
    if ("overrides" in spec) == ("code" in spec):
        raise ValueError(f"an exercise declares either 'overrides' or 'code': {spec}")
    return spec


def with_code(notebook: nbformat.NotebookNode, code: str) -> nbformat.NotebookNode:
    """The notebook with the exercise's code as a last cell, tagged so its time can be read back."""
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata["tags"] = ["exercise"]
    notebook.cells.append(cell)
    return notebook


CHECK_FAILED = "exercise benchmark: check failed:"


def checks_may_fail(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with each '# Check:' cell's assertion caught and printed (papermill stops at any error)."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.source.lstrip().startswith("# Check:"):
            cell.source = ("try:\n" + textwrap.indent(cell.source, "    ") +
                           f"\nexcept AssertionError as failed:\n    print({CHECK_FAILED!r}, str(failed)[:300])")
    return notebook


def failed_cells(notebook: nbformat.NotebookNode) -> list[str]:
    """The '# Check:' lines of the check cells whose assertion failed."""
    return [c.source.splitlines()[1].strip() for c in notebook.cells if c.cell_type == "code"
            and any(CHECK_FAILED in o.get("text", "") for o in c.get("outputs", []))]


def time_exercise(path: Path, run_root: Path, scratch: Path, timeout: int = 1800) -> dict[str, Any]:
    """Copy the run, do the notebook's exercise in the copy, return its seconds and what was run."""
    notebook = nbformat.read(path, as_version=4)
    spec = exercise_of(notebook)
    work = scratch / path.stem
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(run_root, work / run_root.name, ignore=shutil.ignore_patterns(*COPIED_OUT))
    params = {"run_name": run_root.name, "runs_dir": str(work), "profile": "", "overrides": spec.get("overrides", {}),
              "interactive": False}
    checks_may_fail(notebook)
    source = work / path.name
    nbformat.write(with_code(notebook, spec["code"]) if "code" in spec else notebook, source)
    out = work / f"{path.stem}.executed.ipynb"
    wall = execute_notebook(source, out, params, timeout, cwd=path.parent)
    executed = nbformat.read(out, as_version=4)
    shutil.rmtree(work / run_root.name)  # a run's copy is as large as the run (about 800 MB for cpu-full)
    if "code" in spec:
        cell = next(c for c in executed.cells if "exercise" in c.metadata.get("tags", []))
        seconds = cell.metadata["papermill"]["duration"]
    else:
        seconds = wall
    return {"seconds": round(seconds, 1), "within_target": seconds <= TARGET_SECONDS,
            "failed_checks": failed_cells(executed), **spec}


def main() -> None:
    """Time each notebook's exercise and write benchmarks/exercises.json."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=REPO / "runs" / "demo", help="a finished course run to copy")
    parser.add_argument("--only", nargs="*", default=(), help="notebook numbers, e.g. 03 05 (default: all)")
    args = parser.parse_args()
    run_root = args.run.resolve()
    profile = json.loads((run_root / "settings.json").read_text())["settings"]["profile"]
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() and args.only else {"exercises": {}}
    results.update({"profile": profile, "source_run": run_root.name, "target_seconds": TARGET_SECONDS,
                    "machine": {"processor": platform.processor() or platform.machine(),
                                "python": platform.python_version()}})
    for path in find_notebooks(REPO / "notebooks", args.only):
        entry = time_exercise(path, run_root, SCRATCH / "exercises")
        results["exercises"][path.stem] = entry
        results["all_within_target"] = all(e["within_target"] for e in results["exercises"].values())
        write_json(RESULTS, results)  # after each exercise: a failure later keeps what was measured
        print(f"{path.stem}: {entry['seconds']:.0f} s ({'within' if entry['within_target'] else 'OVER'} "
              f"{TARGET_SECONDS} s), failed checks: {entry['failed_checks'] or 'none'}", flush=True)
    print(f"-> {RESULTS}")


if __name__ == "__main__":
    main()
