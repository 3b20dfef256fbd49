"""End to end: notebook 03's live loss plot, fed by the training callback notebook 03 uses, updates in place in
JupyterLab (Chromium via Playwright): new frames replace the image while training runs, and one image stays."""
from __future__ import annotations

import time

import pytest
from browser_support import chromium_page, jupyter_lab, run_first_cell

pytestmark = pytest.mark.browser

CELL = """\
import time
from types import SimpleNamespace
from helpers.core.live_plot import LivePlot
from helpers.sft.overfit import OverfitDetector
from helpers.sft.trainer import _callback
plot = LivePlot("QLoRA fine-tuning (simulated losses)")
watch = _callback(plot, OverfitDetector(), early_stopping=False, echo=False)
state = SimpleNamespace(global_step=0, is_world_process_zero=True, log_history=[])
for step in range(1, 13):
    state.global_step = step
    watch.on_log(None, state, None, logs={"loss": 2.0 / step})
    if step % 4 == 0:
        watch.on_log(None, state, None, logs={"eval_loss": 1.5 / step})
    time.sleep(1.0)
print("training done")
"""


def test_the_loss_plot_updates_in_place_while_training_runs(tmp_path):
    with jupyter_lab(tmp_path, [CELL], "live.ipynb") as url, chromium_page(tmp_path) as page:
        run_first_cell(page, url)
        image = page.locator(".jp-OutputArea-output img").first
        image.wait_for(timeout=90_000)
        frames = {image.get_attribute("src")}
        deadline = time.time() + 30
        while len(frames) < 3 and time.time() < deadline:  # frames arrive about once a second
            time.sleep(0.7)
            frames.add(image.get_attribute("src"))
        page.locator(".jp-OutputArea-output", has_text="training done").wait_for(timeout=60_000)
        final_images = page.locator(".jp-OutputArea-output img").count()
        page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
    assert len(frames) >= 3, "the plot did not change while training ran"
    assert final_images == 1, f"{final_images} images: each update must replace the frame, not add one"
