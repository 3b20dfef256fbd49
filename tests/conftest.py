"""Shared fixtures: the repository paths and a papermill runner for notebook tests."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture
def run_notebook(tmp_path: Path) -> Callable[..., nbformat.NotebookNode]:
    """Execute notebooks/<name>.ipynb headless (profile ci) into tmp_path; returns the executed notebook."""
    from helpers.run_all import execute_notebook

    def _run(name: str, run_name: str = "t", runs_dir: Path | None = None, timeout: int = 900,
             **params: Any) -> nbformat.NotebookNode:
        runs = runs_dir or tmp_path / "runs"
        parameters = {"run_name": run_name, "runs_dir": str(runs), "profile": "ci", "overrides": {},
                      "interactive": False, **params}
        out = tmp_path / f"{name}.executed.ipynb"
        execute_notebook(NOTEBOOKS / f"{name}.ipynb", out, parameters, timeout)
        return nbformat.read(out, as_version=4)

    return _run
