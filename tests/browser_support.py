"""JupyterLab on localhost and Debian's Chromium for the browser tests: a server on a free port serving one notebook."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import nbformat
import pytest

from helpers.ship.serve import free_port, wait_until_up

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
TOKEN = "course-browser-test"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def course_notebook(name: str, **parameters) -> nbformat.NotebookNode:
    """A notebook of the course with its parameters injected, as papermill does."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    return parameterize_notebook(load_notebook_node(str(REPO / "notebooks" / f"{name}.ipynb")), parameters)


@contextmanager
def jupyter_lab(tmp_path: Path, notebook: list[str] | nbformat.NotebookNode,
                name: str = "test.ipynb") -> Iterator[str]:
    """A JupyterLab server (cell windowing off) on one notebook (or a list of cell sources); yields its URL."""
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
    if isinstance(notebook, list):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(source) for source in notebook]
    else:
        nb = notebook
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / name)
    port = free_port()
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
        failure = wait_until_up(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", proc, 90)
        if failure:
            raise RuntimeError(f"jupyter lab {failure}; see {tmp_path / 'lab.log'}")
        yield f"http://127.0.0.1:{port}/lab/tree/{name}?token={TOKEN}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(tmp_path / "rt", ignore_errors=True)


@contextmanager
def chromium_page(tmp_path: Path) -> Iterator:
    """A Chromium page driven by Playwright; leaves failure.png in ``tmp_path`` when the block fails, always closes."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            yield page
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))  # kept in pytest's tmp folder
            raise
        finally:
            browser.close()


def open_notebook(page, url: str) -> None:
    """Open the notebook at ``url`` and wait until its kernel is connected and idle."""
    page.goto(url)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=90_000)  # a markdown cell's editor stays hidden
    page.get_by_text(re.compile(r"^Python 3 .*\| Idle$")).first.wait_for(timeout=90_000)


def run_first_cell(page, url: str) -> None:
    """Open the notebook, wait for the kernel, and run its first cell."""
    open_notebook(page, url)
    editor = page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first
    editor.wait_for(timeout=90_000)
    editor.click()
    page.keyboard.press("Shift+Enter")


def run_all_cells(page, url: str) -> None:
    """Open the notebook, wait for the kernel, and run every cell from the Run menu, as a learner would."""
    open_notebook(page, url)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
