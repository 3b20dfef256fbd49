"""End to end: notebook 03, run from JupyterLab's Run menu in Chromium (Playwright) on the ci course's curated data
with a few real training steps, shows its live loss plot updating in place: new frames replace the image while
training runs, and one image stays."""
from __future__ import annotations

import shutil
import time

import pytest
from browser_support import chromium_page, course_notebook, jupyter_lab, run_all_cells

pytestmark = pytest.mark.browser


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
