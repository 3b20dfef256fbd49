"""The course's folder is found from the package, not from where the code runs."""
import subprocess
import sys

from helpers.core.paths import COURSE_DIR, SAMPLES_DIR


def test_course_dir_holds_the_course() -> None:
    for name in ("helpers", "notebooks", "baselines", "benchmarks"):
        assert (COURSE_DIR / name).is_dir(), name
    assert (SAMPLES_DIR / "voltaris" / "catalog.json").is_file()


def test_course_dir_is_the_same_from_another_folder(tmp_path) -> None:
    out = subprocess.run([sys.executable, "-c", "from helpers.core.paths import COURSE_DIR; print(COURSE_DIR)"],
                         cwd=tmp_path, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(COURSE_DIR), "PATH": ""})
    assert out.stdout.strip() == str(COURSE_DIR)
