"""Notebooks 01 and 04 in JupyterLab (Chromium via Playwright) with planted markup: nothing it holds ever runs.

A customer plants ``<img src=x onerror=...>`` and a ``<script>`` in a chat message, a broken export line and a
file name of the source folder; a model answer carries the same in a rating candidate. Each notebook is opened
and run in the browser, as a learner would; the handlers would set ``window.__pwned``. It must stay undefined, no
planted element may exist in the page, and the planted text must be shown literally.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from browser_support import chromium_page, course_notebook, jupyter_lab, run_all_cells

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
IMG = '<img src=x onerror="window.__pwned=1">'
PAYLOAD = f"{IMG}<script>window.__pwned=2</script>"
FILE_NAME = "<img src=x onerror=window.__pwned=3>.txt"
PLANTED = ("img[src='x']", "script:has-text('__pwned')", "[onerror]")
"""What the page would hold if planted markup were rendered."""


def _plant_source(folder: Path) -> None:
    """The second sample corpus plus planted markup where notebook 01 shows raw text."""
    shutil.copytree(REPO / "data_samples" / "hearthline", folder)
    chat = {"chat_id": "CH-PLANT-1", "customer": {"name": "Mallory Quinn", "email": "mallory@mail.example"},
            "product": "DW-4148-EU", "transcript": [
                {"from": "customer", "text": f"{PAYLOAD} My name is Mallory Quinn. How loud is the DW-4148-EU? Call "
                 "+49 30 2345678 or mail mallory@mail.example, refund to DE89 3704 0044 0532 0130 00, ship to "
                 "Lindenstraße 5, 10115 Berlin. Order HL-2024-12345, card 4111 1111 1111 1111."},
                {"from": "agent", "text": f"The Dill Studio (DW-4148-EU) has a noise level of 60 dB. {PAYLOAD}"}]}
    broken = '{"chat_id": "CH-PLANT-2", "transcript": [{"from": "customer", "text": "' + PAYLOAD
    chats = folder / "chats_2025.jsonl"
    chats.write_text(json.dumps(chat) + "\n" + broken + "\n" + chats.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / FILE_NAME).write_text("a file name is data too\n")


def _seed_rating_run(root: Path) -> None:
    """A run with rating candidates whose prompts and answers carry the payload, rated by two simulated raters."""
    from support.rating_support import seed_run_from_catalog

    from helpers.core.config import load_settings
    from helpers.core.runs import open_run
    from helpers.data.catalog import Catalog
    from helpers.data.fact_check import FactChecker
    from helpers.rating import items_to_rate, store_path
    from helpers.rating.simulated import default_raters, simulate_ratings

    records = seed_run_from_catalog(root, REPO / "data_samples" / "hearthline" / "catalog.json", n=12)
    for record in records:
        record["prompt"] += f" {PAYLOAD}"
        record["answers"] = {k: f"{v} {PAYLOAD}" for k, v in record["answers"].items()}
    candidates = root / "ratings" / "candidates.jsonl"
    candidates.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    settings, run = load_settings("ci"), open_run(root.name, root.parent)
    db = store_path(run, settings)
    items = items_to_rate(db, candidates, pair=("base", "sft"))
    simulate_ratings(db, items, FactChecker(Catalog.load(run.need("catalog"))), default_raters(2, seed=3), seed=3)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """One JupyterLab server whose root holds notebooks 01 and 04, parameterized for a planted folder and run."""
    tmp = tmp_path_factory.mktemp("lab")
    source, runs = tmp / "planted source", tmp / "runs"
    _plant_source(source)
    _seed_rating_run(runs / "rating")
    common = {"runs_dir": str(runs), "profile": "ci", "overrides": {}, "interactive": True}
    notebooks = {"01_data_curation": course_notebook(
        "01_data_curation", run_name="curation", source_dir=str(source), use_tokenizer=False,
        bitext_csv=str(REPO / "data_samples" / "bitext" / "intents_sample.csv"),
        pii_cases=str(REPO / "tests" / "data" / "pii_cases" / "cases.jsonl"), **common),
        "04_human_rating": course_notebook("04_human_rating", run_name="rating", **common)}
    with jupyter_lab(tmp, ["print('the notebooks under test are beside this one')"], "index.ipynb") as url:
        for name, nb in notebooks.items():
            nbformat.write(nb, tmp / "root" / f"{name}.ipynb")
        yield {"url": url, "root": tmp / "root", "shots": tmp}


def _run_in_lab(page, lab: dict, name: str, done: str, timeout_ms: int) -> None:
    """Open a notebook in JupyterLab, run all its cells from the Run menu, and wait until ``done`` is printed."""
    # a workspace of its own, reset: only this notebook is open and active (not one restored from another test)
    run_all_cells(page, lab["url"].replace("/lab/tree/index.ipynb", f"/lab/workspaces/{name[:2]}/tree/{name}.ipynb")
                  + "&reset")
    page.locator(".jp-OutputArea-output", has_text=done).first.wait_for(timeout=timeout_ms)


def _assert_nothing_ran(page, name: str) -> str:
    """The planted handlers did not run, no planted element exists; returns the outputs' text."""
    assert page.evaluate("typeof window.__pwned") == "undefined", f"{name}: planted script ran"
    outputs = page.locator(".jp-OutputArea")
    for selector in PLANTED:
        assert outputs.locator(selector).count() == 0, f"{name}: {selector} rendered"
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert "Traceback" not in " ".join(errors.all_inner_texts()), f"{name}: a cell failed"
    return " ".join(outputs.all_inner_texts())


def test_notebook_01_shows_a_planted_ticket_as_text(lab) -> None:
    with chromium_page(lab["shots"]) as page:
        _run_in_lab(page, lab, "01_data_curation", "data curated:", 600_000)
        text = _assert_nothing_ran(page, "01_data_curation")
        assert IMG in text and "<script>window.__pwned=2</script>" in text  # the raw message, shown literally
        assert FILE_NAME in text  # the folder's file list
        assert page.locator(".review-widget").count() == 1  # the review widget, with the flagged and sampled items
        page.screenshot(path=str(lab["shots"] / "01.png"), full_page=True)


def test_notebook_04_shows_a_planted_answer_as_text(lab) -> None:
    with chromium_page(lab["shots"]) as page:
        _run_in_lab(page, lab, "04_human_rating", "ratings stored, agreement measured", 300_000)
        text = _assert_nothing_ran(page, "04_human_rating")
        answers = [page.locator(".rate-answer-a").inner_text(), page.locator(".rate-answer-b").inner_text()]
        assert all(PAYLOAD in a for a in answers), answers  # the model's answers, shown literally
        assert IMG in text
        page.screenshot(path=str(lab["shots"] / "04.png"), full_page=True)
