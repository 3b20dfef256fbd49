"""Run every numbered notebook in order, headless, into one run directory (``make run``).

    python -m helpers.cli.course --profile ci --run smoke

Each notebook is executed by papermill with ``interactive=False`` into ``runs/<name>/executed/``. The
runner stops at the first failing notebook, printing the failing cell's error and the executed
notebook's path, and ends with the headline metrics from ``runs/<name>/metrics.json``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..core import record
from ..core.config import PROFILES, SettingsError, default_profile, load_settings, parse_assignment
from ..core.record import HEADLINE
from ..core.runs import open_run

REPO = Path(__file__).resolve().parents[2]
COLUMNS = (*HEADLINE, "n")  # the headline metrics and how many answers they rest on


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


def execute_notebook(notebook: Path, output: Path, parameters: dict[str, Any], timeout: int) -> float:
    """Execute one notebook with papermill; seconds taken, or NotebookFailed."""
    import papermill

    start = time.perf_counter()
    try:
        papermill.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name="python3",
                                   cwd=str(notebook.parent), execution_timeout=timeout, progress_bar=False,
                                   log_output=False, kernel_manager_class=ipc_kernel_manager())
    except Exception as exc:  # papermill raises PapermillExecutionError, timeouts and kernel deaths
        raise NotebookFailed(f"{notebook.name} failed at {_cell_error(exc)}\n"
                             f"executed notebook: {output}") from exc
    return time.perf_counter() - start


def run_course(profile: str, run_name: str, runs_dir: Path, notebooks_dir: Path = REPO / "notebooks",
               only: Sequence[str] = (), overrides: dict[str, Any] | None = None,
               timeout: int = 1800, echo: bool = True) -> list[NotebookResult]:
    """Execute the notebooks in order into ``runs_dir/run_name``; raises NotebookFailed at the first failure."""
    from tqdm import tqdm

    run = open_run(run_name, runs_dir)
    os.environ.pop("MPLBACKEND", None)  # a CI-wide backend must not leak into the kernels
    params = {"run_name": run_name, "runs_dir": str(run.root.parent), "profile": profile,
              "overrides": overrides or {}, "interactive": False}
    results: list[NotebookResult] = []
    notebooks = find_notebooks(notebooks_dir, only)
    bar = tqdm(notebooks, desc=f"{run_name} [{profile}]", unit="notebook", file=sys.stdout,
               disable=not echo, ascii=True, dynamic_ncols=False, ncols=80)
    began = time.perf_counter()
    for nb in bar:
        bar.set_postfix_str(nb.stem)
        out = run.executed / nb.name
        seconds = execute_notebook(nb, out, params, timeout)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; exit code 0 on success, 1 when a notebook failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="", help=f"one of {', '.join(PROFILES)} (default: gpu if CUDA, else cpu-demo)")
    parser.add_argument("--run", default="demo", help="run name: results go to RUNS_DIR/RUN")
    parser.add_argument("--runs-dir", default=str(REPO / "runs"))
    parser.add_argument("--notebooks", default=str(REPO / "notebooks"))
    parser.add_argument("--only", default="", help="comma-separated notebook numbers, e.g. 00,01")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--set", action="append", default=[], metavar="GROUP.FIELD=VALUE",
                        help="override a setting in every notebook, e.g. --set train.max_steps=40 (repeatable)")
    args = parser.parse_args(argv)
    profile = args.profile or default_profile()
    if profile not in PROFILES:
        parser.error(f"unknown profile '{profile}'; choose one of {', '.join(PROFILES)}")
    only = [x.strip().zfill(2) for x in args.only.split(",") if x.strip()]
    try:
        overrides = dict(parse_assignment(a) for a in args.set)
        load_settings(profile, overrides)  # a wrong field fails here, before any notebook starts
    except SettingsError as exc:
        parser.error(str(exc))
    start = time.perf_counter()
    try:
        run_course(profile, args.run, Path(args.runs_dir), Path(args.notebooks), only, overrides, timeout=args.timeout)
    except NotebookFailed as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        return 1
    run = open_run(args.run, args.runs_dir)
    print(f"\nDone in {time.perf_counter() - start:.0f} s. Results in {run.root}\n")
    print(metrics_table(run.read_metrics()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
