"""The room's shared ratings store: participants rate at once as separate processes, nothing is lost, stats pool."""
import json
import os
import subprocess
import sys
from pathlib import Path

from helpers.rating import RatingStore
from helpers.workshop.room import room_ratings

REPO = Path(__file__).resolve().parents[2]

PARTICIPANT = """
import json, sys
sys.path.insert(0, "tests")
from support.rating_support import FakeChecker, make_items
from helpers.core.config import load_settings
from helpers.rating import RatingStore, store_path
from helpers.rating.simulated import SimulatedRater
from helpers.rating.widget import RatingApp
from helpers.workshop.participants import participant_session
settings = load_settings("workshop", {"rating": {"store_path": sys.argv[1]}})
settings, run = participant_session(settings, "demo", sys.argv[2])
with RatingStore(store_path(run, settings), settings.rating.rater) as store:
    app = RatingApp(store, make_items(10), seed=0)
    rated = SimulatedRater(settings.rating.rater, noise=0.2, seed=int(sys.argv[3])).rate(app, FakeChecker())
print(json.dumps({"rater": settings.rating.rater, "rated": rated, "run": str(run.root)}))
"""


def test_participants_rating_at_once_pool_into_one_store_with_nothing_lost(tmp_path):
    shared = tmp_path / "shared" / "ratings.sqlite"
    names = ["ada", "bo", "cy", "dee", "eli", "fay"]
    procs = [subprocess.Popen([sys.executable, "-c", PARTICIPANT, str(shared), str(tmp_path / "runs"), str(i)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "COURSE_PARTICIPANT": name})
             for i, name in enumerate(names)]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["rater"] for r in reports) == names and all(r["rated"] == 10 for r in reports)
    assert all(r["run"] == str(tmp_path / "runs" / r["rater"] / "demo") for r in reports)

    room = room_ratings(shared)
    assert room["items"] == 10 and room["ratings"] == 60
    assert room["per_participant"] == {name: 10 for name in names}
    with RatingStore(shared, "reader") as store:
        rows = store.ratings()
    assert len(rows) == 60 and all(r.choice is not None and r.acc_a and r.acc_b for r in rows)
    agreement = room["agreement"]
    assert agreement["raters"] == names and len(agreement["kappa_accuracy"]) == 15  # every pair of participants
    assert agreement["alpha_accuracy"] is not None and agreement["alpha_accuracy"] > 0.5  # they judge the same facts
