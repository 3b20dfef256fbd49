"""The table of metrics and the one writer of metrics.json (safe when two processes write at once)."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.core import record
from helpers.core.runs import open_run

REPO = Path(__file__).resolve().parents[2]

WRITER = """
import sys, time
from pathlib import Path
from helpers.core import record
from helpers.core.runs import open_run
run = open_run(sys.argv[1], sys.argv[2])
while not (run.root / "go").exists():  # both writers start together
    time.sleep(0.01)
for i in range(int(sys.argv[4])):
    record.update(run, {"training": {sys.argv[3]: {f"k{i}": i}}})
"""


def test_two_processes_writing_different_keys_at_once_lose_none(tmp_path):
    run = open_run("shared", tmp_path)
    record.update(run, {"profile": "ci"})
    n = 150
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, "shared", str(tmp_path), who, str(n)], cwd=REPO,
                              stderr=subprocess.PIPE, text=True) for who in ("sft", "dpo")]
    time.sleep(3)  # both processes have imported and wait
    (run.root / "go").touch()
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    data = json.loads(run.metrics_path.read_text())
    assert data["profile"] == "ci"
    for who in ("sft", "dpo"):
        assert len(data["training"][who]) == n, f"{n - len(data['training'][who])} of {who}'s keys were lost"


def test_update_merges_nested_blocks(tmp_path):
    run = open_run("r", tmp_path)
    record.update(run, {"profile": "ci", "models": {"base": {"rouge_l": 0.2}}})
    merged = record.update(run, {"models": {"sft": {"rouge_l": 0.5}, "base": {"n": 10}}})
    assert merged == json.loads(run.metrics_path.read_text()) == {
        "profile": "ci", "models": {"base": {"rouge_l": 0.2, "n": 10}, "sft": {"rouge_l": 0.5}}}


def test_the_table_gives_direction_tolerance_and_headline():
    assert record.HEADLINE == ("factual_accuracy", "hallucination_rate", "rouge_l", "intent_macro_f1")
    assert set(record.TOLERANCES) == set(record.HEADLINE)
    assert record.metric_for("models.sft.hallucination_rate").higher_is_better is False
    assert record.metric_for("course.notebook_seconds.00_setup").name == "notebook_seconds"
    assert record.metric_for("data.train") is None
    assert record.improved("models.dpo.hallucination_rate", -0.1) is True
    assert record.improved("training.sft.tokens_per_second", -5) is False
    assert record.improved("models.sft.n", 3) is None and record.improved("models.sft.rouge_l", 0) is None


@pytest.mark.parametrize("module", ["eval/evaluation.py", "eval/regression.py", "cli/course.py",
                                    "budget/run_comparison.py", "eval/pilot.py"])
def test_the_users_of_the_table_keep_no_list_of_their_own(module):
    source = (REPO / "helpers" / module).read_text()
    for copy in ('("factual_accuracy", "hallucination_rate", "rouge_l", "intent_macro_f1"', "LOWER_IS_BETTER =",
                 "HIGHER_IS_BETTER =", "TOLERANCES = {", '"loss", "seconds"'):
        assert copy not in source, f"helpers/{module} keeps its own metric list ({copy}); use helpers.core.record"
