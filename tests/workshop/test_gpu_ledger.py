"""The rehearsal's simulated GPU: the real cap's rules, contexts, out of memory, and the memory of dead processes freed."""
import os
import subprocess
import sys

import pytest

from helpers.core.config import load_settings
from helpers.core.runs import append_jsonl, read_log, write_json
from helpers.model.memory import KNOWN_SHAPES
from helpers.model.turns import WorkshopFitError, check_fit, workshop_plan
from helpers.workshop.gpu_ledger import GpuLedger, SimulatedOutOfMemory

LLAMA_7B = KNOWN_SHAPES["Llama-2-7B"]


def _room(**extra):
    return load_settings("workshop", {"workshop": {"gpu_memory_gb": 24.0, "seats": 4, "lock_dir": ""}, **extra})


def test_a_job_holds_its_estimate_and_the_process_its_context_until_it_exits(tmp_path):
    settings = _room()
    need = workshop_plan(settings, LLAMA_7B).need_gb
    ledger = GpuLedger(tmp_path, 24.0)
    with ledger.hold(settings, "ada", LLAMA_7B) as held:
        assert held == pytest.approx(need)
        state = ledger.read()
        assert state["jobs"][str(os.getpid())]["gb"] == pytest.approx(need)
    state = ledger.read()
    assert state["jobs"] == {} and state["contexts"][str(os.getpid())]["gb"] == 0.5  # this process still lives
    assert state["peak_gb"] == pytest.approx(need + 0.5)
    assert [p["jobs"] for p in ledger.timeline()] == [1, 0]


def test_a_job_over_its_share_is_refused_with_the_fit_checks_message(tmp_path):
    greedy = _room(train={"batch_size": 32}, data={"max_length": 1024})
    with pytest.raises(WorkshopFitError) as refused:
        with GpuLedger(tmp_path, 24.0).hold(greedy, "dee", LLAMA_7B):
            pass
    assert str(refused.value) == check_fit(greedy, LLAMA_7B).message and "Try train.batch_size=" in str(refused.value)
    assert GpuLedger(tmp_path, 24.0).read()["jobs"] == {}


def test_more_than_the_gpu_is_a_simulated_out_of_memory_and_a_dead_process_frees_its_memory(tmp_path):
    settings = _room()
    ledger = GpuLedger(tmp_path, 24.0)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = dead.stdout.strip()
    parent = str(os.getppid())  # alive for the whole test
    write_json(ledger.path, {"gpu_gb": 24.0, "peak_gb": 0.0, "peak_at": None,
                             "contexts": {parent: {"participant": "bo", "gb": 0.5}},
                             "jobs": {parent: {"participant": "bo", "gb": 20.0, "since": 0}}})
    with pytest.raises(SimulatedOutOfMemory, match="ada asked for .* GB with 20.5 GB of the 24 GB GPU already in use"):
        with ledger.hold(settings, "ada", LLAMA_7B):
            pass
    write_json(ledger.path, {"gpu_gb": 24.0, "peak_gb": 0.0, "peak_at": None,
                             "contexts": {dead_pid: {"participant": "bo", "gb": 0.5}},
                             "jobs": {dead_pid: {"participant": "bo", "gb": 20.0, "since": 0}}})
    with ledger.hold(settings, "ada", LLAMA_7B):  # bo's kernel was killed: the driver freed its memory
        assert set(ledger.read()["jobs"]) == {str(os.getpid())}


def test_a_log_keeps_every_whole_line_a_killed_writer_left(tmp_path):
    log = tmp_path / "events.jsonl"
    append_jsonl(log, {"event": "ask"})
    with open(log, "a") as fh:
        fh.write('{"event": "ser')  # killed mid-write
    assert read_log(log) == [{"event": "ask"}] and read_log(tmp_path / "missing.jsonl") == []
