"""End to end: notebook 03's live loss plot updates in place in JupyterLab (Chromium via Playwright): new frames
replace the image while training runs, and one image stays. Once fed by notebook 03's training callback with
simulated losses (quick, every detail of the update), once by notebook 03 itself, run from the Run menu on the ci
course's curated data with a few real training steps."""
from __future__ import annotations

import shutil
import time

import pytest
from browser_support import chromium_page, course_notebook, jupyter_lab, run_all_cells, run_first_cell

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


def _frames_until(output, finished, timeout_s: float) -> tuple[set[str], int]:
    """The distinct frames of the first image in ``output`` seen until ``finished`` shows; then its image count."""
    image = output.locator("img").first
    image.wait_for(timeout=timeout_s * 1000)
    frames = {image.get_attribute("src")}
    deadline = time.time() + timeout_s
    while finished.count() == 0 and time.time() < deadline:
        time.sleep(0.5)
        frames.add(image.get_attribute("src"))
    finished.first.wait_for(timeout=10_000)
    return frames, output.locator("img").count()


def test_the_loss_plot_updates_in_place_while_training_runs(tmp_path):
    with jupyter_lab(tmp_path, [CELL], "live.ipynb") as url, chromium_page(tmp_path) as page:
        run_first_cell(page, url)
        output = page.locator(".jp-OutputArea").first
        frames, images = _frames_until(output, output.locator(".jp-OutputArea-output", has_text="training done"), 90)
        page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
    assert len(frames) >= 3, "the plot did not change while training ran"
    assert images == 1, f"{images} images: each update must replace the frame, not add one"


def test_notebook_03_shows_its_real_training_live(ci_course, tmp_path):
    runs = tmp_path / "runs"
    (runs / "live").mkdir(parents=True)
    shutil.copytree(ci_course.root / "data", runs / "live" / "data")  # notebook 01's curated splits of the ci course
    shutil.copy(ci_course.root / "settings.json", runs / "live" / "settings.json")
    notebook = course_notebook("03_qlora_training", run_name="live", runs_dir=str(runs), profile="",
                               overrides={"train": {"max_steps": 8, "evals_per_epoch": 4}}, interactive=False)
    with jupyter_lab(tmp_path, notebook, "03_qlora_training.ipynb") as url, chromium_page(tmp_path) as page:
        run_all_cells(page, url)
        training = page.locator(".jp-CodeCell", has_text="result = train_sft(").locator(".jp-OutputArea")
        check = page.locator(".jp-CodeCell", has_text="# Check: the model learned").locator(".jp-OutputArea-output")
        frames, images = _frames_until(training, check, 600)
        training.locator("img").first.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "03.png"))
    assert len(frames) >= 3, "notebook 03's plot did not change while it trained"
    assert images == 1, f"{images} images in notebook 03's training output: updates must replace the frame"
