"""Run every numbered notebook in order, headless, into one run directory (``make run``).

    python -m helpers.cli.course --profile ci --run smoke
    python -m helpers.cli.course --profile ci --run kitchen --param source_dir=data_samples/hearthline

Each notebook is executed by papermill with ``interactive=False`` into ``runs/<name>/executed/``. Settings
(``--set group.field=value``) reach every notebook; a notebook's own parameter (``--param name=value``, e.g.
notebook 01's ``source_dir``) reaches the notebooks whose parameters cell declares it, and a name that no
notebook declares fails before any runs. A ``--param`` value naming a file or folder that exists from where
the command runs is passed as an absolute path (the notebooks run in ``notebooks/``). The runner stops at the
first failing notebook, printing the failing cell's error and the executed notebook's path, and ends with the
headline metrics from ``runs/<name>/metrics.json``.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..core import record
from ..core.disk import COURSE_RUN_BYTES, NotEnoughDisk, require_free
from ..core.paths import COURSE_DIR
from ..core.config import (DEFAULT_CPU_PROFILE, PROFILES, SettingsError, default_profile, load_settings,
                           parse_assignment, seed_overrides)
from ..core.record import HEADLINE
from ..core.runs import open_run

COLUMNS = (*HEADLINE, "n")  # the headline metrics and how many answers they rest on
RUNNER_PARAMETERS = ("run_name", "runs_dir", "profile", "overrides", "interactive")
"""Parameters the runner sets itself (from --run, --runs-dir, --profile and --set)."""


class NotebookFailed(RuntimeError):
    """A notebook raised; the message holds the cell's error and the executed notebook's path."""


@dataclass
class NotebookResult:
    """How one notebook went."""

    name: str
    seconds: float
    output: Path


def find_notebooks(folder: Path, only: Sequence[str] = ()) -> list[Path]:
    """The numbered notebooks (NN_*.ipynb) of ``folder`` in order, optionally only those whose number is listed."""
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if only:
        found = [p for p in found if p.name[:2] in set(only)]
    if not found:
        raise FileNotFoundError(f"no numbered notebooks (NN_name.ipynb) in {folder}")
    return found


def declared_parameters(notebook: Path) -> set[str]:
    """The names that the notebook's cell tagged ``parameters`` assigns."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cell = next((c for c in nb.get("cells", []) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return set()
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    return {t.id for node in ast.parse(source).body if isinstance(node, (ast.Assign, ast.AnnAssign))
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)}


def notebook_parameters(notebooks: Sequence[Path], params: dict[str, Any]) -> dict[Path, dict[str, Any]]:
    """Each notebook's share of ``params`` (those its parameters cell declares); ValueError for a name that
    none of them declares or that the runner sets itself. Values naming an existing path become absolute."""
    taken = sorted(set(params) & set(RUNNER_PARAMETERS))
    if taken:
        raise ValueError(f"--param {', '.join(taken)}: set by the runner; use --run, --runs-dir, --profile or --set")
    declared = {nb: declared_parameters(nb) for nb in notebooks}
    unknown = sorted(set(params) - set().union(*declared.values()))
    if unknown:
        known = sorted(set().union(*declared.values()) - set(RUNNER_PARAMETERS))
        raise ValueError(f"--param {', '.join(unknown)}: no notebook run declares it; their parameters: "
                         f"{', '.join(known)}")
    resolved = {k: str(Path(v).resolve()) if isinstance(v, str) and v and Path(v).exists() else v
                for k, v in params.items()}
    return {nb: {k: v for k, v in resolved.items() if k in names} for nb, names in declared.items()}


def _cell_error(exc: Exception) -> str:
    """A short account of the failing cell from papermill's exception."""
    ename, evalue = getattr(exc, "ename", type(exc).__name__), getattr(exc, "evalue", str(exc))
    index = getattr(exc, "exec_count", None)
    return f"cell {index}: {ename}: {evalue}" if index is not None else f"{ename}: {evalue}"


def ipc_kernel_manager() -> type:
    """A kernel manager that talks to its kernel over local sockets (IPC) instead of TCP ports.

    The runner's kernels live on this machine only; over TCP, ipykernel warns at every start that the traffic is
    unencrypted ("Kernel is running over TCP without encryption"). Over IPC there is no port to listen on.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"

    return IPCKernelManager


KERNEL_START_SECONDS = 300
"""How long a kernel may take to start: papermill's 60 s failed a course whose kernel started while two others
trained on a 2-core machine (measured); a workshop server starting many kernels at once is slower still."""
CELL_TIMEOUT_SECONDS = 7200
"""How long one cell may run: room for the default CPU profile's training cell on a slow or busy machine (590-681 s
at 240 steps on 2 cores here; at 400 steps it passed 1800 s, the former limit, while the host ran matmuls at half its
usual speed), yet a hung kernel still stops within a CI job."""


def execute_notebook(notebook: Path, output: Path, parameters: dict[str, Any], timeout: int,
                     cwd: Path | None = None) -> float:
    """Execute one notebook with papermill (in ``cwd``, default its own folder); seconds taken, or NotebookFailed."""
    import papermill

    start = time.perf_counter()
    try:
        papermill.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name="python3",
                                   cwd=str(cwd or notebook.parent), execution_timeout=timeout, progress_bar=False,
                                   log_output=False, kernel_manager_class=ipc_kernel_manager(),
                                   start_timeout=KERNEL_START_SECONDS)
    except Exception as exc:  # papermill raises PapermillExecutionError, timeouts and kernel deaths
        raise NotebookFailed(f"{notebook.name} failed at {_cell_error(exc)}\n"
                             f"executed notebook: {output}") from exc
    return time.perf_counter() - start


def run_course(profile: str, run_name: str, runs_dir: Path, notebooks_dir: Path = COURSE_DIR / "notebooks",
               only: Sequence[str] = (), overrides: dict[str, Any] | None = None,
               timeout: int = CELL_TIMEOUT_SECONDS, echo: bool = True,
               notebook_params: dict[str, Any] | None = None) -> list[NotebookResult]:
    """Execute the notebooks in order into ``runs_dir/run_name``; raises NotebookFailed at the first failure.

    ``notebook_params`` go to the notebooks that declare them (see :func:`notebook_parameters`). NotEnoughDisk,
    before any notebook starts, when ``runs_dir`` has too little free space for a run."""
    from tqdm import tqdm

    notebooks = find_notebooks(notebooks_dir, only)
    own = notebook_parameters(notebooks, notebook_params or {})
    require_free(runs_dir, COURSE_RUN_BYTES, f"A course run ({run_name})")
    run = open_run(run_name, runs_dir)
    os.environ.pop("MPLBACKEND", None)  # a CI-wide backend must not leak into the kernels
    params = {"run_name": run_name, "runs_dir": str(run.root.parent), "profile": profile,
              "overrides": overrides or {}, "interactive": False}
    results: list[NotebookResult] = []
    bar = tqdm(notebooks, desc=f"{run_name} [{profile}]", unit="notebook", file=sys.stdout,
               disable=not echo, ascii=True, dynamic_ncols=False, ncols=80)
    began = time.perf_counter()
    for nb in bar:
        bar.set_postfix_str(nb.stem)
        out = run.executed / nb.name
        seconds = execute_notebook(nb, out, {**params, **own[nb]}, timeout)
        results.append(NotebookResult(nb.stem, seconds, out))
        record.update(run, {"course": {"notebook_seconds": {nb.stem: round(seconds, 1)}}})
        if echo:
            bar.write(f"  {nb.stem:<32} {seconds:7.1f} s")
    if not only:  # the whole course: its wall-clock time, every notebook included
        record.update(run, {"course": {"wall_seconds": round(time.perf_counter() - began, 1)}})
    return results


def metrics_table(metrics: dict[str, Any]) -> str:
    """The headline metrics of each model as a plain-text table."""
    models = metrics.get("models", {})
    if not models:
        return "(no model metrics yet: notebook 06 writes them)"
    rows = [["model", *COLUMNS]]
    for name, values in models.items():
        rows.append([name] + [_fmt(values.get(key)) for key in COLUMNS])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) for r in rows)


def _fmt(value: Any) -> str:
    """Numbers to 3 decimals, missing values as '-'."""
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _parameter(text: str) -> tuple[str, Any]:
    """'use_tokenizer=false' -> ('use_tokenizer', False); values are read as JSON when they parse, else as text."""
    name, sep, raw = text.partition("=")
    if not sep or not name.isidentifier():
        raise ValueError(f"--param expects name=value, got {text!r}")
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; exit code 0 on success, 1 when a notebook failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="",
                        help=f"one of {', '.join(PROFILES)} (default: gpu if CUDA, else {DEFAULT_CPU_PROFILE})")
    parser.add_argument("--run", default="demo", help="run name: results go to RUNS_DIR/RUN")
    parser.add_argument("--runs-dir", default=str(COURSE_DIR / "runs"))
    parser.add_argument("--notebooks", default=str(COURSE_DIR / "notebooks"))
    parser.add_argument("--only", default="", help="comma-separated notebook numbers, e.g. 00,01")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT_SECONDS, help="seconds allowed per cell")
    parser.add_argument("--set", action="append", default=[], metavar="GROUP.FIELD=VALUE",
                        help="override a setting in every notebook, e.g. --set train.max_steps=40 (repeatable)")
    parser.add_argument("--seed", type=int, default=None,
                        help="one seed for every random choice (phrasings, splits, adapter init, data order, rating "
                             "draws, bootstraps); a --set of one group's seed wins over it")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a notebook's own parameter, given to the notebooks that declare it, e.g. "
                             "--param source_dir=data_samples/hearthline (repeatable)")
    args = parser.parse_args(argv)
    profile = args.profile or default_profile()
    if profile not in PROFILES:
        parser.error(f"unknown profile '{profile}'; choose one of {', '.join(PROFILES)}")
    only = [x.strip().zfill(2) for x in args.only.split(",") if x.strip()]
    try:
        overrides = {**(seed_overrides(args.seed) if args.seed is not None else {}),
                     **dict(parse_assignment(a) for a in args.set)}
        load_settings(profile, overrides)  # a wrong field fails here, before any notebook starts
        params = dict(_parameter(a) for a in args.param)
        notebook_parameters(find_notebooks(Path(args.notebooks), only), params)  # so does an unknown parameter
    except (SettingsError, ValueError) as exc:
        parser.error(str(exc))
    start = time.perf_counter()
    try:
        run_course(profile, args.run, Path(args.runs_dir), Path(args.notebooks), only, overrides, timeout=args.timeout,
                   notebook_params=params)
    except (NotebookFailed, NotEnoughDisk) as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    run = open_run(args.run, args.runs_dir)
    print(f"\nDone in {time.perf_counter() - start:.0f} s. Results in {run.root}\n")
    print(metrics_table(run.read_metrics()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
