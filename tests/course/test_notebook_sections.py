"""Every notebook teaches in the same shape: what you will learn, inputs, outputs, a measured time, a check cell,
a short recap and one exercise (issue 21)."""
import re

import nbformat
import pytest

from conftest import NOTEBOOKS

NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
RECAP_WORDS = 120


def _markdown(nb: nbformat.NotebookNode) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.name)
def test_the_first_cell_says_what_you_learn_need_and_get(path):
    intro = nbformat.read(path, as_version=4).cells[0].source.lower()
    assert intro.startswith(f"# {path.stem[:2]} "), f"{path.name}: the first cell is the notebook's title"
    for part in ("you will learn", "outputs"):
        assert part in intro, f"{path.name}: the first cell lacks '{part}'"
    assert "you need" in intro or "inputs" in intro, f"{path.name}: the first cell does not name its inputs"


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.name)
def test_the_time_is_printed_from_a_measured_run_not_typed(path):
    nb = nbformat.read(path, as_version=4)
    setup = [c.source for c in nb.cells if c.cell_type == "code" and "start(" in c.source]
    assert setup and f'notebook="{path.stem}"' in setup[0], f"{path.name}: the setup cell must name the notebook"
    typed = re.findall(r"time\W+(?:about|under)\s[^.\n]*minute", nb.cells[0].source,
                       flags=re.IGNORECASE)
    assert not typed, f"{path.name}: a typed time goes stale; the setup cell prints the measured one ({typed})"


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.name)
def test_a_check_a_short_recap_and_one_exercise(path):
    nb = nbformat.read(path, as_version=4)
    checks = [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith("# Check")
              and "assert" in c.source]
    assert checks, f"{path.name}: no check cell ('# Check: ...' with an assert)"
    recaps = [s for s in _markdown(nb) if "## Recap" in s]
    assert len(recaps) == 1, f"{path.name}: one '## Recap' expected, found {len(recaps)}"
    recap = recaps[0].split("## Recap")[1].split("## Exercise")[0]
    assert len(recap.split()) <= RECAP_WORDS, f"{path.name}: the recap has {len(recap.split())} words"
    exercises = [s for s in _markdown(nb) if "## Exercise" in s]
    assert len(exercises) == 1, f"{path.name}: one '## Exercise' expected"
