"""The rehearsal's report: waits per GPU step, first come first served among live waiters, memory, ratings, crashes.

Built from what the rehearsal's processes wrote (see :mod:`helpers.cli.rehearsal`): each participant's event log,
the host's log of kills and stray files, the simulated GPU's ledger and the shared ratings store. Pure functions of
those records, so every rule is tested on hand-made events:

* **First come, first served among live waiters.** A job is served out of order when another job asked earlier
  (its ticket is older), was still waiting when this one got its slot, and was alive then. A waiter that died
  (killed, crashed) before that moment is skipped: the queue is right to pass over it.
* **No lost rating.** For every participant who was not killed, the ratings they saw saved (written) must all be
  in the shared store (stored).
* **Crashes** are participants who were not killed but exited with an error or never finished.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Sequence

KEYS = ("participants", "ratings_written", "ratings_stored", "crashes", "wait_p95_seconds", "fifo_violations",
        "peak_memory_gb", "gpu_gb", "killed")


@dataclass
class Job:
    """One GPU turn of one participant: when it asked (its ticket), got its slot and let it go (epoch seconds)."""

    participant: str
    step: str
    asked: float
    served: float | None = None
    released: float | None = None
    slot: int | None = None


def jobs_from_events(events: dict[str, list[dict[str, Any]]], kills: Sequence[dict[str, Any]] = ()) -> list[Job]:
    """Every GPU turn asked for, from the participants' 'ask', 'served', 'released' and 'refused' events.

    A refused turn never joined the queue and is left out. A waiter's time of asking is the ticket time the host
    read from the queue when it killed the waiter, else the participant's own 'ask' event.
    """
    asked_at_kill = {k["participant"]: k["asked"] for k in kills if k.get("state") == "waiting" and k.get("asked")}
    jobs = []
    for name, records in events.items():
        current: Job | None = None
        for r in records:
            kind = r.get("event")
            if kind == "ask":
                current = Job(name, r["step"], r["t"])
                jobs.append(current)
            elif kind == "refused" and current is not None:
                jobs.remove(current)
                current = None
            elif kind == "served" and current is not None:
                current.asked = r.get("asked") or current.asked
                current.served, current.slot = r["served"], r["slot"]
            elif kind == "released" and current is not None:
                current.released = r["t"]
                current = None
        if current is not None and current.served is None and name in asked_at_kill:
            current.asked = asked_at_kill[name]
    return jobs


def fifo_violations(jobs: Sequence[Job], deaths: dict[str, float]) -> list[dict[str, Any]]:
    """Each job served while an older job was still waiting and its participant alive (dead waiters are skipped)."""
    out = []
    for job in sorted((j for j in jobs if j.served is not None), key=lambda j: j.served):
        passed = [w for w in jobs if w is not job and w.asked < job.asked
                  and (w.served is None or w.served > job.served)
                  and deaths.get(w.participant, float("inf")) > job.served]
        if passed:
            older = min(passed, key=lambda w: w.asked)
            out.append({"served": job.participant, "step": job.step, "at": job.served, "asked": job.asked,
                        "passed_over": older.participant, "their_step": older.step, "they_asked": older.asked,
                        "waiting_passed_over": len(passed)})
    return out


def percentiles(values: Iterable[float]) -> dict[str, float | None]:
    """p50, p95 and max of some waits (None when there are none)."""
    import numpy as np

    data = np.asarray(list(values), dtype=float)
    if not data.size:
        return {"p50": None, "p95": None, "max": None}
    return {"p50": round(float(np.percentile(data, 50)), 2), "p95": round(float(np.percentile(data, 95)), 2),
            "max": round(float(data.max()), 2)}


def step_report(jobs: Sequence[Job], steps: Sequence[str], violations: Sequence[dict[str, Any]],
                seconds_per_minute: float) -> dict[str, dict[str, Any]]:
    """Per GPU step: waits (seconds of the rehearsal and minutes of the day), the order asked and the order served."""
    out = {}
    for step in steps:
        mine = [j for j in jobs if j.step == step]
        served = [j for j in mine if j.served is not None]
        waits = percentiles(j.served - j.asked for j in served)
        out[step] = {"asked": len(mine), "served": len(served), "wait_seconds": waits,
                     "wait_minutes_of_the_day": {k: None if v is None else round(v / seconds_per_minute, 1)
                                                 for k, v in waits.items()},
                     "order_asked": [j.participant for j in sorted(mine, key=lambda j: j.asked)],
                     "order_served": [j.participant for j in sorted(served, key=lambda j: j.served)],
                     "fifo_violations": sum(v["step"] == step for v in violations)}
    return out


def build_report(room: dict[str, Any], events: dict[str, list[dict[str, Any]]], host: Sequence[dict[str, Any]],
                 exits: dict[str, int | None], stored: dict[str, int], ledger: dict[str, Any],
                 steps: Sequence[str]) -> dict[str, Any]:
    """The rehearsal's report (see the module docstring); ``stored`` is finished ratings per rater in the store."""
    kills = [h for h in host if h.get("event") == "kill"]
    stopped = {h["participant"]: h["seconds"] for h in host if h.get("event") == "timeout"}
    killed = {k["participant"]: k["t"] for k in kills}
    deaths = dict(killed)
    crashes = []
    for name, records in events.items():
        errors = [r for r in records if r.get("event") == "error"]
        finished = any(r.get("event") == "done" for r in records)
        if name in killed:
            continue
        if errors or not finished or exits.get(name) != 0:
            last = records[-1]["t"] if records else room["started"]
            deaths[name] = errors[0]["t"] if errors else last
            reason = (f"still running when the rehearsal stopped at {stopped[name]:g} s" if name in stopped
                      else "never finished")
            crashes.append({"participant": name, "exit_code": exits.get(name),
                            "error": errors[0].get("error") if errors else reason})
    jobs = jobs_from_events(events, kills)
    violations = fifo_violations(jobs, deaths)
    written = {name: len({r["item_id"] for r in records if r.get("event") == "rated"}) for name, records in events.items()}
    survivors = [name for name in events if name not in killed]
    lost = {name: {"written": written[name], "stored": stored.get(name, 0)} for name in survivors
            if stored.get(name, 0) != written[name]}
    waits = percentiles(j.served - j.asked for j in jobs if j.served is not None)
    start = room["started"]
    return {
        "participants": len(events),
        "ratings_written": sum(written[n] for n in survivors),
        "ratings_stored": sum(stored.get(n, 0) for n in survivors),
        "crashes": len(crashes),
        "wait_p95_seconds": waits["p95"],
        "fifo_violations": len(violations),
        "peak_memory_gb": round(ledger.get("peak_gb", 0.0), 2),
        "gpu_gb": room["gpu_gb"],
        "killed": [{"participant": k["participant"], "state": k["state"], "step": k.get("step"),
                    "at_seconds": round(k["t"] - start, 1)} for k in kills],
        "wall_seconds": round(room["finished"] - start, 1),
        "room": dict(room),
        "waits_seconds": waits,
        "steps": step_report(jobs, steps, violations, room["seconds_per_minute"]),
        "fifo_details": violations,
        "crash_details": crashes,
        "lost_ratings": lost,
        "ratings_per_participant": {n: {"written": written[n], "stored": stored.get(n, 0), "killed": n in killed}
                                    for n in sorted(events)},
        "refused": [{"participant": name, "step": r["step"], "message": r["message"], "retried_with": r.get("retry")}
                    for name, records in events.items() for r in records if r.get("event") == "refused"],
        "stray_files": [f for h in host if h.get("event") == "stray" for f in h["files"]],
        "kills_not_done": [h for h in host if h.get("event") == "kill_not_done"],
        "jobs": [asdict(j) for j in jobs],
    }


def verdict(report: dict[str, Any]) -> list[str]:
    """What failed, in plain sentences; empty when the room held."""
    problems = []
    if report["crashes"]:
        problems.append(f"{report['crashes']} surviving participant(s) crashed: "
                        + "; ".join(f"{c['participant']}: {c['error']}" for c in report["crash_details"]))
    if report["lost_ratings"]:
        problems.append(f"ratings lost for {', '.join(report['lost_ratings'])} (written vs stored: "
                        f"{report['ratings_written']} vs {report['ratings_stored']})")
    if report["fifo_violations"]:
        first = report["fifo_details"][0]
        problems.append(f"{report['fifo_violations']} job(s) served out of turn, first: {first['served']} "
                        f"({first['step']}) before {first['passed_over']} ({first['their_step']})")
    if report["peak_memory_gb"] > report["gpu_gb"]:
        problems.append(f"peak simulated memory {report['peak_memory_gb']:g} GB exceeds the {report['gpu_gb']:g} GB GPU")
    return problems


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def report_text(report: dict[str, Any]) -> str:
    """A short plain-text table of the report, ending with PASS or FAIL and the reasons."""
    room = report["room"]
    lines = [f"Workshop rehearsal: {report['participants']} participants, {report['gpu_gb']:g} GB GPU, model "
             f"{room['model']}; {room['plan']}",
             f"Finished in {report['wall_seconds']:g} s (1 minute of the day = {room['seconds_per_minute']:g} s).",
             "",
             f"{'step':<12}{'served':>8}{'wait p50':>10}{'p95':>8}{'max':>8}   {'(minutes of the day)':<22}{'FIFO':>5}"]
    for step, s in report["steps"].items():
        w, m = s["wait_seconds"], s["wait_minutes_of_the_day"]
        lines.append(f"{step:<12}{s['served']:>4}/{s['asked']:<3}{_cell(w['p50']):>10}{_cell(w['p95']):>8}"
                     f"{_cell(w['max']):>8}   {_cell(m['p50']) + ' / ' + _cell(m['p95']) + ' / ' + _cell(m['max']):<22}"
                     f"{s['fifo_violations']:>5}")
    states = [k["state"] for k in report["killed"]]
    lines += ["",
              f"killed: {len(states)} ({', '.join(f'{states.count(s)} {s}' for s in dict.fromkeys(states)) or 'none'})",
              f"crashes of surviving participants: {report['crashes']}",
              f"ratings of surviving raters: written {report['ratings_written']}, stored {report['ratings_stored']}",
              f"FIFO violations among live waiters: {report['fifo_violations']}",
              f"peak simulated memory: {report['peak_memory_gb']:g} GB of {report['gpu_gb']:g} GB",
              f"stray files dropped in the lock folder: {len(report['stray_files'])}"]
    lines += [f"refused: {r['participant']} at {r['step']}: {r['message']}" for r in report["refused"]]
    lines += [f"not done: {k['reason']}" for k in report["kills_not_done"]]
    problems = verdict(report)
    lines += ["", "PASS: the room held." if not problems else "FAIL: " + " | ".join(problems)]
    return "\n".join(lines)


def plot_occupancy(report: dict[str, Any], timeline: Sequence[dict[str, Any]], slots: int) -> Any:
    """A Figure: who held each GPU slot over time (a bar per turn, coloured by step; x = a kill) above the waiting
    line's length and the simulated memory in use against the GPU."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    start = report["room"]["started"]
    steps = list(report["steps"])
    colours = {step: f"C{i}" for i, step in enumerate(steps)}
    fig = Figure(figsize=(11, 6.5))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [max(2, min(slots, 12)), 2]})
    jobs = [j for j in report["jobs"] if j["served"] is not None]
    end = report["wall_seconds"]
    killed = {k["participant"]: k["at_seconds"] for k in report["killed"]}
    for j in jobs:
        left = j["served"] - start
        right = (j["released"] - start) if j["released"] else killed.get(j["participant"], end)
        top.barh(j["slot"] + 1, right - left, left=left, height=0.8, color=colours[j["step"]], edgecolor="white",
                 linewidth=0.4)
        if not j["released"] and j["participant"] in killed:
            top.plot(right, j["slot"] + 1, "kx", markersize=7)
    legend = [Patch(color=colour, label=step) for step, colour in colours.items()]
    legend.append(Line2D([], [], color="k", marker="x", linestyle="", label="killed holding it"))
    top.set_ylabel("GPU slot")
    top.set_ylim(0.4, slots + 0.6)
    top.set_yticks(range(1, slots + 1) if slots <= 12 else range(1, slots + 1, max(1, slots // 10)))
    top.legend(handles=legend, loc="upper left", fontsize=7, ncol=len(legend))
    top.set_title(f"Slot occupancy: {report['participants']} participants, {slots} slot(s), "
                  f"{report['gpu_gb']:g} GB GPU (rehearsal seconds)")
    moments = sorted({0.0, end, *(j["asked"] - start for j in report["jobs"]),
                      *(j["served"] - start for j in jobs)})
    dead = {k["participant"]: k["at_seconds"] for k in report["killed"]}
    waiting = [sum(j["asked"] - start <= t < ((j["served"] - start) if j["served"] else dead.get(j["participant"], end))
                   for j in report["jobs"]) for t in moments]
    bottom.step(moments, waiting, where="post", color="C3", label="waiting in line")
    bottom.set_ylabel("waiting")
    memory = bottom.twinx()
    memory.step([p["t"] - start for p in timeline], [p["in_use_gb"] for p in timeline], where="post", color="C0",
                label="simulated memory in use (GB)")
    memory.axhline(report["gpu_gb"], color="grey", linestyle="--", linewidth=0.8)
    memory.set_ylim(0, report["gpu_gb"] * 1.05)
    memory.set_ylabel("GB in use")
    bottom.set_xlabel("seconds since the rehearsal started")
    handles = bottom.get_legend_handles_labels()[0] + memory.get_legend_handles_labels()[0]
    bottom.legend(handles, [h.get_label() for h in handles], loc="upper right", fontsize=7)
    fig.tight_layout()
    return fig


__all__ = ["KEYS", "Job", "build_report", "fifo_violations", "jobs_from_events", "percentiles", "plot_occupancy",
           "report_text", "step_report", "verdict"]
