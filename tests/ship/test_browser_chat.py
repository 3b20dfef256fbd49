"""End to end: JupyterLab on localhost, Debian's Chromium via Playwright; a question typed into the chat box,
and an answer seen appearing and growing as the model streams it."""
from __future__ import annotations

import time

import pytest
from browser_support import chromium_page, jupyter_lab, run_first_cell

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELL = """\
from helpers.core.config import load_settings
from helpers.core.runs import open_run
from helpers.ship import chat_box
chat = chat_box(open_run("chat", {runs!r}), load_settings("ci"), max_new_tokens=64)
chat
"""
ANSWER = ".chat-answer-base .chat-assistant .chat-text"


def test_a_typed_question_gets_an_answer_that_streams_in(tmp_path):
    with jupyter_lab(tmp_path, [CELL.format(runs=str(tmp_path / "runs"))], "chat.ipynb") as url, \
            chromium_page(tmp_path) as page:
        run_first_cell(page, url)
        page.locator(".chat-box").wait_for(timeout=180_000)
        page.locator(".chat-input textarea").fill("Tell me a short story about a lighthouse keeper.")
        page.locator(".chat-send").click()
        lengths, deadline = [], time.time() + 180
        while time.time() < deadline:
            texts = page.locator(ANSWER).all_inner_texts()
            if texts and texts[-1].strip():
                lengths.append(len(texts[-1]))
            if lengths and "answered in" in page.locator(".chat-status").inner_text():
                break
            time.sleep(0.05)
        final = page.locator(ANSWER).last.inner_text()
        asked = page.locator(".chat-answer-base .chat-user .chat-text").last.inner_text()
        page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
    assert final.strip(), "no answer appeared"
    assert asked == "Tell me a short story about a lighthouse keeper."
    lengths.append(len(final))  # the last poll can fall between the final chunk and the "answered in" status
    distinct = sorted(set(lengths))
    assert len(distinct) >= 3, f"the answer did not grow while streaming (lengths seen: {distinct})"
    assert lengths == sorted(lengths), "a streaming answer only grows"
    assert distinct[-1] == len(final)
