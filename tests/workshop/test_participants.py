"""Participants: their own run folder and rater name, and as separate processes their own caps and fit decisions."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.core.config import load_settings
from helpers.core.names import participant_name
from helpers.model.memory import KNOWN_SHAPES, estimate_memory
from helpers.model.turns import train_setup
from helpers.workshop.participants import participant_session

REPO = Path(__file__).resolve().parents[2]
LLAMA_7B = KNOWN_SHAPES["Llama-2-7B"]


def test_participant_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PARTICIPANT", "ada")
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    settings, run = participant_session(load_settings("workshop"), "demo", tmp_path)
    assert settings.rating.rater == "ada" and run.root == tmp_path / "ada" / "demo"
    assert participant_name(load_settings("workshop", {"workshop": {"participant": "team-3"}})) == "team-3"
    _, solo = participant_session(load_settings("ci"), "demo", tmp_path)  # not a workshop: the usual folder
    assert solo.root == tmp_path / "demo"
    monkeypatch.setenv("COURSE_PARTICIPANT", "../etc")
    with pytest.raises(Exception, match="workshop.participant"):
        participant_name()


PARTICIPANT = """
import json, sys
from helpers.core.config import load_settings
from helpers.model.memory import KNOWN_SHAPES
from helpers.model.turns import check_fit
from helpers.workshop.participants import participant_session
settings = load_settings("workshop", json.loads(sys.argv[1]))
settings, run = participant_session(settings, "demo", sys.argv[2])
check = check_fit(settings, KNOWN_SHAPES["Llama-2-7B"])
print(json.dumps({"rater": settings.rating.rater, "run": str(run.root), "cap": check.plan.cap_gb,
                  "need": check.plan.need_gb, "slots": check.plan.slots, "fits": check.fits,
                  "suggestion": check.suggestion}))
"""



def test_participants_as_separate_processes_get_their_caps_and_decisions(tmp_path):
    room = {"workshop": {"gpu_memory_gb": 24.0, "seats": 4}}
    own = {"ada": {}, "bo": {}, "cy": {"train": {"batch_size": 2}},
           "dee": {"train": {"batch_size": 16}, "data": {"max_length": 1024}}}
    procs = {name: subprocess.Popen([sys.executable, "-c", PARTICIPANT, json.dumps({**room, **extra}), str(tmp_path)],
                                    cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env={**os.environ, "COURSE_PARTICIPANT": name})
             for name, extra in own.items()}
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results[name] = json.loads(out.strip().splitlines()[-1])

    standard = estimate_memory(LLAMA_7B, train_setup(load_settings("workshop", room))).total_gb
    usable = 24 * 0.9 - 4 * 0.5
    slots = min(4, int(usable // standard))
    for name, r in results.items():
        assert r["rater"] == name and r["run"] == str(tmp_path / name / "demo")
        assert r["slots"] == slots and r["cap"] == pytest.approx(usable / slots)
    assert all(results[n]["fits"] for n in ("ada", "bo", "cy"))
    assert not results["dee"]["fits"] and results["dee"]["need"] > results["dee"]["cap"]
    assert results["dee"]["suggestion"]["train.batch_size"] < 16
