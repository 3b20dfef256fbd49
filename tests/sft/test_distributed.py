"""Scale-out: `torchrun --nproc_per_node=2 -m helpers.cli.train` as two real processes on CPU (gloo).

Each rank writes RUN/train/ranks/rank-<r>.json: the ids of the examples batched for it and a digest of
its LoRA weights after every optimizer step. Disjoint ids = different shards; equal digests at every
step although the data differed = gradients were averaged across the processes.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.core.runs import read_jsonl
from support.toy_run import make_toy_run

REPO = Path(__file__).resolve().parents[2]


def _torchrun() -> list[str]:
    script = Path(sys.executable).with_name("torchrun")
    return [str(script)] if script.exists() else [shutil.which("torchrun") or "torchrun"]


@pytest.mark.slow
def test_two_processes_train_different_shards_in_step_and_save_one_adapter(tmp_path):
    run = make_toy_run(tmp_path, "ddp")
    sets = ["train.max_steps=4", "train.evals_per_epoch=1", "train.batch_size=2", "train.max_val_examples=4",
            "train.early_stopping=false"]
    # --run-dir, not --run: torchrun's own parser would read --run as an abbreviation of its --run-path
    cmd = _torchrun() + ["--standalone", "--nproc_per_node=2", "-m", "helpers.cli.train", "--profile", "ci",
                         "--run-dir", str(run.root)]
    for s in sets:
        cmd += ["--set", s]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1500,
                          env={**os.environ, "TQDM_DISABLE": "1", "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    reports = [json.loads((run.train / "ranks" / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in reports] == [2, 2]
    train_ids = {e["id"] for e in read_jsonl(run.data / "train.jsonl")}
    seen = [set(r["example_ids"]) for r in reports]
    assert all(s and s <= train_ids for s in seen)
    assert not seen[0] & seen[1], "both ranks trained on the same examples"

    digests = [r["lora_fingerprint_by_step"] for r in reports]
    assert list(digests[0]) == list(digests[1]) == ["1", "2", "3", "4"]
    assert digests[0] == digests[1], "the ranks' weights drifted apart: gradients were not synchronised"
    assert digests[0]["1"] != digests[0]["4"]  # and the weights did change

    adapters = list(run.train.rglob("adapter_config.json"))
    assert adapters == [run.train / "adapter" / "adapter_config.json"]
    assert (run.train / "adapter" / "adapter_model.safetensors").exists()
    summary = json.loads((run.train / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 4 and summary["quantized_4bit"] is True
    assert proc.stdout.count('"tokens_per_second"') == 1  # one summary printed, by rank 0
