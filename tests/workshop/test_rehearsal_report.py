"""The rehearsal's report on hand-made events: out-of-turn service is found, dead waiters are skipped, lost ratings
and crashes of survivors are named, and the text says PASS only when the room held."""
import pytest

from helpers.workshop.rehearsal_report import (KEYS, Job, build_report, fifo_violations, jobs_from_events,
                                               plot_occupancy, report_text)

STEPS = ["training", "dpo"]


def _turn(name, step, asked, served, released, slot=0):
    return [{"t": asked - 0.01, "event": "ask", "step": step},
            {"t": served, "event": "served", "step": step, "slot": slot, "asked": asked, "served": served},
            {"t": released, "event": "released", "step": step, "slot": slot}]


def test_a_job_served_before_an_older_live_waiter_is_a_violation():
    jobs = [Job("ada", "training", asked=1.0, served=5.0), Job("bo", "training", asked=2.0, served=3.0)]
    (violation,) = fifo_violations(jobs, deaths={})
    assert violation["served"] == "bo" and violation["passed_over"] == "ada"
    assert fifo_violations([Job("ada", "training", 1.0, 3.0), Job("bo", "training", 2.0, 5.0)], {}) == []


def test_a_dead_waiter_is_skipped_but_one_killed_after_being_passed_over_is_not():
    never_served = Job("ada", "training", asked=1.0)
    bo = Job("bo", "training", asked=2.0, served=3.0)
    assert fifo_violations([never_served, bo], deaths={"ada": 2.5}) == []  # ada died before bo's turn
    assert len(fifo_violations([never_served, bo], deaths={"ada": 4.0})) == 1  # ada was alive and waiting


def test_a_refused_turn_never_joined_the_queue_and_a_killed_waiter_asked_when_its_ticket_says():
    events = {"dee": [{"t": 1.0, "event": "ask", "step": "training"},
                      {"t": 1.1, "event": "refused", "step": "training", "message": "Planned training needs ..."},
                      *_turn("dee", "training", 2.0, 2.5, 3.0)],
              "eli": [{"t": 1.5, "event": "ask", "step": "training"}]}
    jobs = jobs_from_events(events, kills=[{"participant": "eli", "state": "waiting", "asked": 1.6, "t": 4.0}])
    assert [(j.participant, j.asked, j.served) for j in jobs] == [("dee", 2.0, 2.5), ("eli", 1.6, None)]


def _room():
    return {"started": 0.0, "finished": 20.0, "gpu_gb": 24.0, "seconds_per_minute": 0.5, "model": "7B",
            "plan": "2 slots", "participants": 3}


def _events():
    return {"ada": [{"t": 0.1, "event": "start"}, *_turn("ada", "training", 1.0, 1.0, 4.0),
                    {"t": 5.0, "event": "rated", "item_id": "q1"}, {"t": 6.0, "event": "rated", "item_id": "q2"},
                    {"t": 9.0, "event": "done"}],
            "bo": [{"t": 0.1, "event": "start"}, *_turn("bo", "training", 1.5, 4.1, 7.0),
                   {"t": 8.0, "event": "rated", "item_id": "q1"}, {"t": 9.0, "event": "done"}],
            "cy": [{"t": 0.1, "event": "start"}, {"t": 2.0, "event": "ask", "step": "training"}]}


def test_the_report_has_its_keys_and_passes_when_the_room_held(tmp_path):
    host = [{"event": "kill", "participant": "cy", "state": "waiting", "step": "training", "asked": 2.0, "t": 3.0}]
    report = build_report(_room(), _events(), host, {"ada": 0, "bo": 0, "cy": -9}, {"ada": 2, "bo": 1, "cy": 0},
                          {"peak_gb": 12.5}, STEPS)
    assert set(KEYS) <= set(report)
    assert (report["participants"], report["ratings_written"], report["ratings_stored"], report["crashes"],
            report["fifo_violations"], report["peak_memory_gb"]) == (3, 3, 3, 0, 0, 12.5)
    assert report["killed"] == [{"participant": "cy", "state": "waiting", "step": "training", "at_seconds": 3.0}]
    training = report["steps"]["training"]
    assert training["order_asked"] == ["ada", "bo", "cy"] and training["order_served"] == ["ada", "bo"]
    assert training["wait_seconds"]["max"] == pytest.approx(2.6) and training["wait_minutes_of_the_day"]["max"] == 5.2
    text = report_text(report)
    assert text.endswith("PASS: the room held.") and "killed: 1 (1 waiting)" in text
    fig = plot_occupancy(report, [{"t": 1.0, "in_use_gb": 6.0}, {"t": 4.0, "in_use_gb": 0.5}], slots=2)
    fig.savefig(tmp_path / "occupancy.png")
    assert (tmp_path / "occupancy.png").stat().st_size > 10_000


def test_a_lost_rating_a_crash_and_memory_beyond_the_gpu_each_fail_the_rehearsal():
    events = _events()
    events["bo"] = events["bo"][:-1] + [{"t": 8.5, "event": "error", "error": "OperationalError: database is locked"}]
    stopped = [{"event": "timeout", "participant": "cy", "seconds": 20.0}]
    report = build_report(_room(), events, stopped, {"ada": 0, "bo": 1, "cy": -9}, {"ada": 1, "bo": 1, "cy": 0},
                          {"peak_gb": 30.0}, STEPS)
    assert report["crashes"] == 2  # bo's error, and cy never finished
    assert report["crash_details"][1]["error"] == "still running when the rehearsal stopped at 20 s"
    assert report["lost_ratings"] == {"ada": {"written": 2, "stored": 1}}
    text = report_text(report)
    assert "FAIL" in text and "bo: OperationalError" in text and "ratings lost for ada" in text
    assert "exceeds the 24 GB GPU" in text
