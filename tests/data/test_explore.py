"""Notebook 01's tables show customer text as text: a ticket holding HTML cannot run script in JupyterLab."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from pandas.io.formats.style import Styler

from helpers.data.explore import (before_after, files_table, flagged_table, funnel_table, quarantine_table,
                                  raw_preview, redaction_table, removal_table, showcase_ticket)
from helpers.data.sources import FileReport, Quarantined, Ticket

ATTACK = '<img src=x onerror="alert(document.cookie)">'
TICKET = Ticket(f"T-1{ATTACK}", f"{ATTACK}.csv", 2, f"<p>Is the VX-PS-1000 650 W? {ATTACK}</p>",
                f"Hi,\n\nYes, 650 W. {ATTACK}", customer_name=ATTACK)
FLAGGED = {"id": ATTACK, "status": "corrected", "wrong": {"wattage_w": [ATTACK]}, "question": ATTACK,
           "original": ATTACK, "proposed": ATTACK}

TABLES: dict[str, Callable[[], Styler]] = {
    "raw_preview": lambda: raw_preview([TICKET]),
    "before_after": lambda: before_after(TICKET),
    "quarantine_table": lambda: quarantine_table([Quarantined(f"{ATTACK}.jsonl", 3, f"broken JSON ({ATTACK})",
                                                              ATTACK)]),
    "files_table": lambda: files_table([FileReport(f"{ATTACK}.csv", "skipped", f"not an export ({ATTACK})").to_dict()]),
    "flagged_table": lambda: flagged_table([FLAGGED]),
    "funnel_table": lambda: funnel_table([{"source": "ticket", "stage": "load", "in": 1, "out": 0,
                                           "removed": {ATTACK: 1}}]),
    "redaction_table": lambda: redaction_table([dict(FLAGGED, note=f"redacted: {ATTACK}", where=ATTACK)]),
    "removal_table": lambda: removal_table([dict(FLAGGED, note=ATTACK, where=ATTACK)]),
}


@pytest.mark.parametrize("name", TABLES)
def test_every_table_escapes_customer_text(name: str) -> None:
    html = TABLES[name]()._repr_html_()  # what Jupyter renders
    assert "&lt;img" in html and "<img" not in html


def test_notebook_01_styles_no_table_itself(repo: Path) -> None:
    """A Styler made in the notebook (``df.style``) renders its cells as HTML; tables come from the helpers."""
    nb = nbformat.read(repo / "notebooks" / "01_data_curation.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert not [src for src in code if ".style" in src]
    assert not [src for src in code if src.strip().splitlines()[-1].startswith(("pd.DataFrame(", "pd.read_json("))]


def test_the_showcase_ticket_has_markup_and_the_most_kinds_of_personal_data() -> None:
    plain = Ticket("T-2", "a.csv", 3, "Is it 650 W? Call me on +49 30 2345678 or mail ann@mail.example.", "Yes.")
    rich = Ticket("T-3", "a.csv", 4, "<p>Call me on +49 30 2345678 or mail ann@mail.example.</p>", "Yes.")
    assert showcase_ticket([plain, TICKET, rich]) is rich
