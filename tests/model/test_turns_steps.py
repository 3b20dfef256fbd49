"""Every GPU step takes its turn as training does: baselines (02), training (03), rating candidates (04), DPO (05)
and evaluation (06) wait for a held GPU slot before any model loads, and refuse a plan that does not fit."""
import json
import os
import socket
import threading
import time

import pytest
from filelock import FileLock
from support.toy_run import add_preferences, make_toy_run

from helpers.core.config import load_settings
from helpers.core.runs import write_json
from helpers.data.catalog import Catalog
from helpers.model.turns import WorkshopFitError, queue_status


class Loaded(Exception):
    """Raised where a model would load."""


def _baselines(run, settings):
    from helpers.eval.evaluation import baseline_report
    baseline_report(run, settings, progress=False)


def _training(run, settings):
    from helpers.sft.trainer import train_sft
    train_sft(run, settings, show_plot=False)


def _candidates(run, settings):
    from helpers.rating.candidates import ensure_candidates
    ensure_candidates(run, settings)


def _dpo(run, settings):
    from helpers.dpo.trainer import train_dpo
    train_dpo(run, settings, show_plot=False)


def _evaluation(run, settings):
    from helpers.eval.evaluation import evaluate_run
    evaluate_run(run, settings, progress=False)


STEPS = {"02 baselines": _baselines, "03 training": _training, "04 candidates": _candidates, "05 dpo": _dpo,
         "06 evaluation": _evaluation}


@pytest.fixture
def run(tmp_path, repo, monkeypatch):
    """A toy run with every input of 02-06 (an adapter trained on the default model), and model loading replaced
    by a function that only says it was reached."""
    import helpers.dpo.trainer as dpo
    import helpers.model.loading as loading
    import helpers.sft.trainer as sft

    run = make_toy_run(tmp_path / "runs", "turns")
    add_preferences(run)
    Catalog.load(repo / "data_samples" / "voltaris" / "catalog.json").save(run.data / "catalog.json")
    write_json(run.train / "adapter" / "adapter_config.json", {})
    write_json(run.train / "adapter" / "metadata.json", {"base_model": "default"})

    def load(*args, **kwargs):
        raise Loaded
    monkeypatch.setattr(loading, "load_from_settings", load)
    monkeypatch.setattr(dpo, "load_tokenizer", load)
    monkeypatch.setattr(sft, "prepare_peft_model", load)
    monkeypatch.setattr(sft, "check_train_settings", lambda settings, n: None)  # reads only the model's config
    monkeypatch.setenv("COURSE_PARTICIPANT", "ada")
    return run


@pytest.mark.parametrize("step", STEPS, ids=list(STEPS))
def test_each_gpu_step_waits_for_a_held_slot(run, tmp_path, step):
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir()
    holder = FileLock(str(lock_dir / "slot-0.lock"))
    holder.acquire()
    (lock_dir / "slot-0.json").write_text(json.dumps({"participant": "bo", "pid": os.getpid(),
                                                      "host": socket.gethostname(), "since": time.time()}))
    settings = load_settings("ci", {"workshop": {"lock_dir": str(lock_dir), "gpu_slots": 1, "poll_seconds": 0.05},
                                    "dpo": {"min_pairs": 4}})
    outcome = []

    def work():
        try:
            STEPS[step](run, settings)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        deadline = time.time() + 30
        while not queue_status(lock_dir)["waiting"]:
            assert not outcome, f"{step} did not wait for the GPU slot: {outcome!r}"
            assert time.time() < deadline, f"{step} never queued for the GPU slot"
            time.sleep(0.05)
        time.sleep(0.5)
        assert not outcome, f"{step} went on while the only GPU slot was held: {outcome!r}"
        assert [w["participant"] for w in queue_status(lock_dir)["waiting"]] == ["ada"]
    finally:
        holder.release()
    worker.join(60)
    assert outcome and isinstance(outcome[0], Loaded), f"{step} did not reach its model once the slot was free"


@pytest.mark.parametrize("step", STEPS, ids=list(STEPS))
def test_each_gpu_step_refuses_a_plan_that_does_not_fit(run, step):
    crowded = load_settings("workshop", {"workshop": {"gpu_memory_gb": 8.0, "seats": 30, "lock_dir": ""},
                                         "rating": {"store_path": ""}})
    with pytest.raises(WorkshopFitError, match="fewer seats"):
        STEPS[step](run, crowded)
