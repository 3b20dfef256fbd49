"""JupyterLab on localhost and Debian's Chromium for the browser tests: a server on a free port serving one notebook."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
TOKEN = "course-browser-test"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


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


@contextmanager
def jupyter_lab(tmp_path: Path, cells: list[str], name: str = "test.ipynb") -> Iterator[str]:
    """A JupyterLab server (cell windowing off) on a notebook of ``cells``; yields the notebook's URL."""
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
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / name)
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


def run_first_cell(page, url: str) -> None:
    """Open the notebook, wait for the kernel, and run its first cell."""
    import re

    page.goto(url)
    editor = page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first
    editor.wait_for(timeout=90_000)
    page.get_by_text(re.compile(r"^Python 3 .*\| Idle$")).first.wait_for(timeout=90_000)  # kernel connected
    editor.click()
    page.keyboard.press("Shift+Enter")
