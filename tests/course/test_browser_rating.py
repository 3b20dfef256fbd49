"""End to end: JupyterLab on localhost, Debian's Chromium driven by Playwright, a rating made by clicking.

The planted answer carries markup and a script: it must be shown as text and never run.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
PLANT = "<script>window.__pwned=1</script><b>bold</b>"
TOKEN = "rating-browser-test"

CELL = """\
from helpers.rating.items import RatingItem
from helpers.rating.store import RatingStore
from helpers.rating.widget import RatingApp
items = [RatingItem(f"planted-{{k}}", "What does <i>this</i> do?", {{"wattage_w": 650}}, "base", "sft",
                    {{"base": {plant!r}, "sft": {plant!r} + " (sft)"}}, product="VX-PS-4471") for k in range(2)]
app = RatingApp(RatingStore({db!r}, "browser"), items)
app
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("jupyter lab did not answer /api/status in time")


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on a free port serving tmp_path/root, with cell windowing off."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does this)")
    root, settings = tmp_path / "root", tmp_path / "lab-settings"
    root.mkdir()
    for plugin, values in {"notebook-extension/tracker": {"windowingMode": "none"},
                           "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}
                           }.items():
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    db = tmp_path / "ratings.sqlite"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL.format(plant=PLANT, db=str(db)))]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "rate.ipynb")
    port = _free_port()
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"), "PYTHONPATH": str(REPO)}
    jupyter = Path(sys.executable).parent / "jupyter"
    log = open(tmp_path / "lab.log", "w")
    command = [str(jupyter), "lab", "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}", "--ServerApp.ip=127.0.0.1"]
    if os.geteuid() == 0:  # containers and CI often run as root
        command.append("--allow-root")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_server(port, proc)
        yield {"url": f"http://127.0.0.1:{port}/lab/tree/rate.ipynb?token={TOKEN}", "db": db}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(tmp_path / "rt", ignore_errors=True)


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
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(lab["url"])
            editor = page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first
            editor.wait_for(timeout=90_000)
            page.get_by_text(re.compile(r"^Python 3 .*\| Idle$")).first.wait_for(timeout=90_000)  # kernel connected
            editor.click()
            page.keyboard.press("Shift+Enter")
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
