"""End to end: JupyterLab on localhost, Debian's Chromium driven by Playwright, a rating made by clicking.

The planted answer carries markup and a script: it must be shown as text and never run.
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, jupyter_lab, run_first_cell

pytestmark = pytest.mark.browser

PLANT = "<script>window.__pwned=1</script><b>bold</b>"

CELL = """\
from helpers.rating.items import RatingItem
from helpers.rating.store import RatingStore
from helpers.rating.widget import RatingApp
items = [RatingItem(f"planted-{{k}}", "What does <i>this</i> do?", {{"wattage_w": 650}}, "base", "sft",
                    {{"base": {plant!r}, "sft": {plant!r} + " (sft)"}}, product="VX-PS-4471") for k in range(2)]
app = RatingApp(RatingStore({db!r}, "browser"), items)
app
"""


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on a notebook that opens the rating app on a fresh database."""
    db = tmp_path / "ratings.sqlite"
    with jupyter_lab(tmp_path, [CELL.format(plant=PLANT, db=str(db))], "rate.ipynb") as url:
        yield {"url": url, "db": db}


def _stored_row(db: Path, timeout: float = 30) -> dict | None:
    """The browser rater's row once it has a choice (polls: the kernel saves asynchronously)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if db.exists():
            conn = sqlite3.connect(db)
            conn.row_factory = sqlite3.Row
            try:
                row = conn.execute("SELECT * FROM ratings WHERE rater = 'browser' AND item_id = 'planted-0' "
                                   "AND choice IS NOT NULL AND acc_a IS NOT NULL").fetchone()
            except sqlite3.OperationalError:
                row = None
            conn.close()
            if row:
                return dict(row)
        time.sleep(0.5)
    return None


def test_rating_by_clicking_lands_in_sqlite_and_markup_stays_text(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            run_first_cell(page, lab["url"])
            app = page.locator(".rating-app")
            app.wait_for(timeout=90_000)

            answers = [page.locator(".rate-answer-a"), page.locator(".rate-answer-b")]
            assert all(PLANT in a.inner_text() for a in answers)  # shown literally
            assert sum(a.locator("b").count() for a in answers) == 0  # no markup rendered
            assert page.evaluate("window.__pwned") is None  # the script never ran

            page.locator(".rate-help-a button", has_text="4").click()
            page.locator(".rate-keys input").fill("5")  # keyboard path: scores the next scale, accuracy A
            page.locator(".rate-choice-b").click()
            row = _stored_row(lab["db"])
            page.screenshot(path=str(lab["db"].parent / "rated.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(lab["db"].parent / "failure.png"))  # kept in pytest's tmp folder
            raise
        finally:
            browser.close()
    assert row is not None, "no rating with a choice reached SQLite"
    assert (row["help_a"], row["acc_a"], row["choice"]) == (4, 5, "B")
    assert {row["shown_a"], row["shown_b"]} == {"base", "sft"}
