"""Every notebook declares one exercise the benchmark can run: valid overrides or code that compiles."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from benchmarks.exercises import checks_may_fail, exercise_of, failed_cells, with_code
from helpers.cli.course import find_notebooks
from helpers.core.config import load_settings

NOTEBOOKS = find_notebooks(Path(__file__).resolve().parents[2] / "notebooks")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_declares_one_runnable_exercise(path):
    spec = exercise_of(nbformat.read(path, as_version=4))
    if "overrides" in spec:
        load_settings("cpu-demo", spec["overrides"])  # SettingsError names a field that does not exist
    else:
        compile(spec["code"], f"{path.name} exercise", "exec")


def test_an_exercise_is_declared_once_and_of_one_kind():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Exercise")]
    with pytest.raises(ValueError, match="0 cells declare"):
        exercise_of(nb)
    nb.cells[0].metadata["exercise"] = {"overrides": {}, "code": "1"}
    with pytest.raises(ValueError, match="either"):
        exercise_of(nb)
    nb.cells[0].metadata["exercise"] = {"code": "print(1)"}
    assert with_code(nb, "print(1)").cells[-1].metadata["tags"] == ["exercise"]


def test_failed_checks_are_recorded_not_fatal():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("# Check: it learned\nassert 1 == 2, 'no'"), nbformat.v4.new_code_cell("x = 1")]
    checks_may_fail(nb)
    assert nb.cells[1].source == "x = 1"
    printed = []
    exec(nb.cells[0].source, {"print": lambda *a: printed.append(" ".join(map(str, a)))})  # the assert is caught
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed[0])]
    assert failed_cells(nb) == ["# Check: it learned"]


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["06_evaluation", "07_cost_and_iteration"])
def test_exercises_that_reuse_stored_answers_run_and_pass_their_checks(ci_course, tmp_path, stem):
    from benchmarks.exercises import time_exercise

    ci_course.notebook(stem)  # the course reached this notebook
    result = time_exercise(NOTEBOOKS[0].parent / f"{stem}.ipynb", ci_course.root, tmp_path)
    assert result["failed_checks"] == [], result
    assert not (tmp_path / stem / ci_course.root.name).exists(), "the run's copy stays on disk after the exercise"
    assert (tmp_path / stem / f"{stem}.executed.ipynb").exists()
