"""Shared fixtures: the repository paths and a papermill runner for notebook tests."""
from __future__ import annotations

from dataclasses import dataclass
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
    from helpers.cli.course import execute_notebook

    def _run(name: str, run_name: str = "t", runs_dir: Path | None = None, timeout: int = 900,
             **params: Any) -> nbformat.NotebookNode:
        runs = runs_dir or tmp_path / "runs"
        parameters = {"run_name": run_name, "runs_dir": str(runs), "profile": "ci", "overrides": {},
                      "interactive": False, **params}
        out = tmp_path / f"{name}.executed.ipynb"
        execute_notebook(NOTEBOOKS / f"{name}.ipynb", out, parameters, timeout)
        return nbformat.read(out, as_version=4)

    return _run


@dataclass
class CourseRun:
    """The whole course executed once under the ci profile, shared by the tests that read its results."""

    root: Path
    executed: dict[str, nbformat.NotebookNode]
    failure: str | None

    def notebook(self, stem: str) -> nbformat.NotebookNode:
        """The executed notebook, or a test failure saying which notebook broke the course."""
        if stem not in self.executed:
            pytest.fail(f"notebook {stem} did not run: {self.failure}")
        return self.executed[stem]

    def text(self, stem: str) -> str:
        """Everything the notebook printed or displayed as text."""
        nb = self.notebook(stem)
        return "".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                       for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.fixture(scope="session")
def ci_course(tmp_path_factory: pytest.TempPathFactory) -> CourseRun:
    """Run notebooks 00-07 in order, headless, with the ci profile (once per test session)."""
    from helpers.cli.course import NotebookFailed, run_course

    runs = tmp_path_factory.mktemp("course") / "runs"
    failure = None
    try:
        run_course("ci", "ci", runs, echo=False, timeout=1200)
    except NotebookFailed as exc:
        failure = str(exc)
    executed = {p.stem: nbformat.read(p, as_version=4) for p in sorted((runs / "ci" / "executed").glob("*.ipynb"))}
    return CourseRun(runs / "ci", executed, failure)
