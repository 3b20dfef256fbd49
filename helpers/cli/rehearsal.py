"""Rehearse a workshop on one machine: a room of participant processes through every GPU step, with faults.

    make rehearsal PARTICIPANTS=30 GPU_GB=80 CHAOS=1            # the room's model (PROFILES["workshop"])
    python -m helpers.cli.rehearsal --participants 30 --gpu-gb 80 --chaos --model 7B

What is real: every participant is its own process with its own run folder and rater name (``session.start``,
the call every notebook makes, with the ``workshop`` profile and the room's settings); every GPU step takes its
turn through the real slot queue (``gpu_turn``: the fit check, then ``gpu_slot`` in a shared lock folder); the
memory each job declares is the course's estimator for the participant's settings; ratings go into the real
shared SQLite store through the real rating app, clicked by the course's simulated rater against the catalog.
What is simulated: the GPU (a shared ledger, :mod:`helpers.workshop.gpu_ledger`) and time: each step holds its
slot for its minutes of the day (``STEPS``, with a person's reading time between steps and a minute per rated
item) scaled down to ``--seconds-per-minute``; nothing loads a model.

With ``--chaos``: participants are SIGKILLed at random moments while holding a slot, waiting in line and rating;
stray and malformed files are dropped into the lock folder; the last participant starts with an over-budget
setting, reads the fit check's refusal and continues with the smaller setting it names.

The report goes to ``<out>/report.json``, ``report.txt`` and ``occupancy.png`` (:mod:`helpers.workshop.rehearsal_report`).
Exit code 0 when the room held (no crash of a surviving participant, no lost rating, no one served out of turn,
peak memory within the GPU), 1 otherwise.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from ..core.config import Settings, load_settings
from ..core.paths import SAMPLES_DIR
from ..core.runs import RunDir, append_jsonl, deep_merge, read_log, write_json, write_jsonl
from ..data.catalog import Catalog
from ..model.memory import KNOWN_SHAPES, SIZE_CLASSES
from ..model.turns import SLOT_PREFIX, WorkshopFitError, check_fit, gpu_turn, queue_status, workshop_plan
from ..rating import RatingStore, items_to_rate, load_items, rater_name, read_ratings, store_path
from ..session import start
from ..workshop.gpu_ledger import GpuLedger
from ..workshop.rehearsal_report import build_report, plot_occupancy, report_text, verdict

RUN_NAME = "rehearsal"
CATALOG = SAMPLES_DIR / "voltaris" / "catalog.json"
ARRIVAL_MINUTES = 2.0          # participants open the notebook within the first minutes
THINK_MINUTES = (1.0, 3.0)     # reading a notebook's cells before its GPU step
JITTER = (0.8, 1.2)            # each participant's step takes this share of its minutes
GREEDY = {"train": {"batch_size": 64}, "data": {"max_length": 2048}}  # the over-budget participant's setting
PRELOAD = ["transformers.models.llama.configuration_llama", "helpers.rating.widget", "helpers.rating.simulated",
           "helpers.data.fact_check", "psutil"]  # what participants import, imported once before they are forked


@dataclass(frozen=True)
class Step:
    """One step of the day: the notebook it is in and its minutes on the GPU (0: no GPU, the rating)."""

    name: str
    notebook: str
    minutes: float


# Minutes on a shared GPU per step (assumed for a 7B QLoRA workshop; the rating takes rating_minutes_per_item).
STEPS = (Step("baselines", "02_base_model_and_budget", 3), Step("training", "03_qlora_training", 10),
         Step("candidates", "04_human_rating", 3), Step("rating", "04_human_rating", 0),
         Step("dpo", "05_preference_tuning", 5), Step("evaluation", "06_evaluation", 5),
         Step("chat", "08_ship_and_pilot", 2))
GPU_STEPS = [s.name for s in STEPS if s.minutes]


@dataclass(frozen=True)
class Room:
    """One rehearsal: the room's size and GPU, the time scale, the faults, and where everything goes."""

    out: Path
    participants: int = 30
    gpu_gb: float = 80.0
    model: str = ""
    slots: int = 0
    seconds_per_minute: float = 1.5
    items: int = 0
    poll_seconds: float = 0.25
    chaos: bool = False
    seed: int = 0
    base_model: str = ""  # model.base_model the room uses ('' = the workshop profile's); set from ``model``

    @property
    def locks(self) -> Path:
        """The shared lock folder of the slot queue."""
        return self.out / "locks"

    @property
    def store(self) -> Path:
        """The room's shared ratings database."""
        return self.out / "shared" / "ratings.sqlite"

    @property
    def runs(self) -> Path:
        """The participants' runs folder (runs/<participant>/rehearsal)."""
        return self.out / "runs"

    @property
    def events(self) -> Path:
        """One event log per participant."""
        return self.out / "events"

    def overrides(self) -> dict[str, Any]:
        """The room's settings on top of the ``workshop`` profile, as the host sets them."""
        room: dict[str, Any] = {
            "workshop": {"gpu_memory_gb": self.gpu_gb, "seats": self.participants, "gpu_slots": self.slots,
                         "lock_dir": str(self.locks), "poll_seconds": self.poll_seconds},
            "rating": {"store_path": str(self.store)}}
        return deep_merge(room, {"model": {"base_model": self.base_model}}) if self.base_model else room


def participant_id(index: int) -> str:
    """The participant's name: p01, p02, ..."""
    return f"p{index + 1:02d}"


def model_folder(model: str, out: Path) -> str:
    """model.base_model for the rehearsal: a size class ('7B') or a known shape ('Llama-2-7B') becomes a folder with
    only that shape's config.json (nothing loads weights); a local path or cached hub id is used as it is."""
    name = SIZE_CLASSES.get(model, model)
    if name not in KNOWN_SHAPES:
        return model
    s = KNOWN_SHAPES[name]
    folder = out / "model" / name
    write_json(folder / "config.json", {
        "model_type": "llama", "num_hidden_layers": s.layers, "hidden_size": s.hidden, "intermediate_size": s.intermediate,
        "num_attention_heads": s.heads, "num_key_value_heads": s.kv_heads, "vocab_size": s.vocab,
        "tie_word_embeddings": s.tied_embeddings})
    return str(folder)


def room_candidates(catalog: Catalog, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` rating candidates from the catalog's feedback questions: the fine-tuned answer states the fact; the base
    model's answer is vague, or (every third item) states another product's value."""
    from ..core.examples import reference_answer
    from ..data.synthesis import answer, catalog_examples
    from ..rating.candidates import build_candidates

    examples, _ = catalog_examples(catalog, {"feedback": 1}, seed)
    chosen = random.Random(seed).sample(examples, min(n, len(examples)))
    base = []
    for i, ex in enumerate(chosen):
        ex["id"] = f"rehearsal-{i:03d}"
        product = catalog.get(ex["meta"]["product"])
        field, value = next(iter(ex["meta"]["fields"].items()))
        other = next((p.facts[field] for p in catalog.products if p.facts.get(field, value) != value), None)
        if i % 3 == 0 and other is not None:
            base.append(answer(catalog, dataclasses.replace(product, facts={**product.facts, field: other}), field))
        else:
            base.append("I'm not sure about that one; please check the product page.")
    return build_candidates(chosen, {"base": base, "sft": [reference_answer(ex) for ex in chosen]})


# ---------------------------------------------------------------- one participant (its own process)
class _CountingStore(RatingStore):
    """The real ratings store; every choice it commits is reported as a rating written."""

    def __init__(self, *args: Any, written: Callable[[str], None], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._written = written

    def set(self, item_id: str, field: str, value: Any, shown: tuple[str, str]) -> Any:
        """Save as the store does; a saved choice is one rating written."""
        row = super().set(item_id, field, value, shown)
        if field == "choice" and row.done:
            self._written(item_id)
        return row


@dataclass
class _Reading:
    """A person reading an answer before judging it: the course's fact checker at a person's pace."""

    checker: Any
    seconds: float

    def check(self, text: str, code: str) -> Any:
        """Read for a while, then check the answer against the catalog."""
        time.sleep(self.seconds)
        return self.checker.check(text, code)


def _quiet(_: str) -> None:
    """Participants print nothing: what they do goes to their event log."""


def _served(settings: Settings, slot: int | None) -> dict[str, Any]:
    """When this turn asked and was served, from the slot's status file (the queue's own record of it)."""
    try:
        info = json.loads((Path(settings.workshop.lock_dir) / f"{SLOT_PREFIX}{slot}.json").read_text())
        if info.get("pid") == os.getpid():
            return {"asked": float(info["asked"]), "served": float(info["since"])}
    except (OSError, ValueError, KeyError, TypeError):  # a stray file overwrote it: the participant's own clock
        pass
    return {"asked": None, "served": time.time()}


def _gpu_step(room: Room, settings: Settings, step: Step, seconds: float, log: Callable[..., None]) -> Settings:
    """One GPU step: queue for a turn, hold the estimator's memory on the simulated GPU for ``seconds``.

    Refused by the fit check, the participant does what the message says (the smaller setting) and asks again.
    """
    ledger = GpuLedger(room.out / "gpu", room.gpu_gb)
    while True:
        log("ask", step=step.name)
        try:
            with gpu_turn(settings, report=_quiet) as slot:
                log("served", step=step.name, slot=slot, **_served(settings, slot))
                with ledger.hold(settings, settings.rating.rater):
                    time.sleep(seconds)
        except WorkshopFitError as refused:
            smaller = check_fit(settings).suggestion
            log("refused", step=step.name, message=str(refused), retry=smaller)
            if not smaller:
                raise
            settings, _ = start(RUN_NAME, "", smaller, room.runs, notebook=step.notebook, say=_quiet)
            continue
        log("released", step=step.name, slot=slot)
        return settings


def _rate(room: Room, settings: Settings, run: RunDir, index: int, log: Callable[..., None]) -> None:
    """Rate the room's items into the shared store through the rating app, at a person's pace."""
    from ..data.fact_check import FactChecker
    from ..rating.simulated import SimulatedRater
    from ..rating.widget import RatingApp

    db = store_path(run, settings)
    items = items_to_rate(db, run.path("candidates"))  # the room's items, registered by the host
    pace = settings.budget.rating_minutes_per_item * room.seconds_per_minute / 2  # two answers per item
    reader = _Reading(FactChecker(Catalog.load(CATALOG)), pace)
    name = rater_name(settings)
    log("rating_start", step="rating")
    with _CountingStore(db, name, simulated=True, written=lambda item: log("rated", item_id=item)) as store:
        rated = SimulatedRater(name, seed=index).rate(RatingApp(store, items, seed=settings.rating.seed), reader)
    log("rating_end", step="rating", rated=rated)


def participant(room: Room, index: int) -> None:
    """One participant's day: the setup call of every notebook, each GPU step in turn, the rating in between."""
    name = participant_id(index)
    os.environ["COURSE_PARTICIPANT"] = name  # as JupyterHub sets $JUPYTERHUB_USER in each participant's server
    path = room.events / f"{name}.jsonl"

    def log(event: str, **fields: Any) -> None:
        append_jsonl(path, {"t": time.time(), "event": event, "pid": os.getpid(), **fields})

    rng = random.Random(f"{room.seed}|{name}")
    minute = room.seconds_per_minute
    log("start")
    try:
        time.sleep(rng.uniform(0, ARRIVAL_MINUTES) * minute)
        own = GREEDY if room.chaos and index == room.participants - 1 else {}
        settings, run = start(RUN_NAME, "workshop", deep_merge(room.overrides(), own), room.runs, notebook="00_setup",
                              say=_quiet)
        for step in STEPS:
            time.sleep(rng.uniform(*THINK_MINUTES) * minute)
            settings, run = start(RUN_NAME, "", {}, room.runs, notebook=step.notebook, say=_quiet)
            if step.minutes:
                settings = _gpu_step(room, settings, step, step.minutes * rng.uniform(*JITTER) * minute, log)
            else:
                _rate(room, settings, run, index, log)
        log("done")
    except BaseException as exc:
        log("error", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()[-3000:])
        raise


# ---------------------------------------------------------------- the host: faults
def drop_strays(lock_dir: Path, round_: int, slots: int, live_pid: int) -> list[str]:
    """Files anyone in the room could leave in the shared lock folder: malformed, misleading or not files at all."""
    here, queue = socket.gethostname(), lock_dir / "queue"
    queue.mkdir(parents=True, exist_ok=True)
    tag = f"{round_:020d}"
    files = {
        f"{SLOT_PREFIX}{slots + round_}.json": "[1, 2]",                                              # a list
        f"{SLOT_PREFIX}{round_ % slots}.json": json.dumps({"participant": "x", "pid": "abc", "host": here}),
        f"{SLOT_PREFIX}{slots + 5}.json": json.dumps({"participant": "big", "pid": 10**30, "host": here}),
        f"{SLOT_PREFIX}x.json": json.dumps({"participant": "v", "pid": live_pid, "host": here}),
        "notes.txt": "bring coffee",
        f"queue/{tag}-1.json": '"a string"',
        f"queue/{tag}-2.json": json.dumps({"participant": "phantom", "pid": live_pid, "host": here}),  # no ticket
        f"queue/{tag}-3.lock": "",  # an unlocked ticket first in line, left by a waiter long gone
    }
    for name, text in files.items():
        (lock_dir / name).write_text(text)
    (queue / f"{tag}-4.lock").mkdir(exist_ok=True)                        # a folder named like a ticket
    (lock_dir / f"{SLOT_PREFIX}{slots + round_}.lock").mkdir(exist_ok=True)  # a folder named like a slot lock
    link = queue / f"{tag}-5.lock"
    if not link.is_symlink():
        link.symlink_to(lock_dir / "nowhere")                              # a dangling link
    old = time.time() - 120
    for name in (f"{tag}-3.lock", f"{tag}-4.lock"):
        os.utime(queue / name, (old, old))
    return [*files, f"queue/{tag}-4.lock/", f"{SLOT_PREFIX}{slots + round_}.lock/", f"queue/{tag}-5.lock ->"]


STATES = {"holding": "holding a slot", "waiting": "waiting in line", "rating": "rating"}  # where kills strike


@dataclass
class _Fault:
    """A fault the host injects once the rehearsal has run ``after`` seconds: a kill in a state, or stray files."""

    kind: str  # "holding", "waiting", "rating" or "stray"
    after: float


class _Chaos:
    """The host's faults: kills at random moments in each state, stray files; every one logged to host.jsonl."""

    def __init__(self, room: Room, slots: int, expected_seconds: float, log: Callable[..., None]):
        rng = random.Random(f"{room.seed}|chaos")
        per_state = max(1, round(room.participants / 15))
        self.room, self.slots, self.log, self.rng = room, slots, log, rng
        self.pending = sorted((_Fault(kind, rng.uniform(0.05, 0.5) * expected_seconds)
                               for kind in STATES for _ in range(per_state)),
                              key=lambda f: f.after)
        self.pending += [_Fault("stray", rng.uniform(0.1, 0.5) * expected_seconds) for _ in range(2)]
        self.spared = participant_id(room.participants - 1)  # the over-budget participant lives to show the retry
        self.killed: set[int] = set()  # a killed process may look alive until it is reaped
        self.rounds = 0

    def strays(self) -> None:
        """Drop a round of stray files into the lock folder."""
        self.rounds += 1
        files = drop_strays(self.room.locks, self.rounds, self.slots, os.getpid())
        self.log("stray", files=files)

    def _victim(self, kind: str, alive: dict[int, str]) -> tuple[int, dict[str, Any]] | None:
        """A live participant in that state now: (pid, what to record), or None."""
        if kind == "rating":
            raters = [pid for pid, name in alive.items()
                      if [e["event"] for e in read_log(self.room.events / f"{name}.jsonl")][-1:] == ["rating_start"]]
            return (self.rng.choice(raters), {}) if raters else None
        status = queue_status(self.room.locks)["holders" if kind == "holding" else "waiting"]
        found = [s for s in status if s["pid"] in alive]
        if not found:
            return None
        pick = self.rng.choice(found)
        return pick["pid"], {"asked": pick.get("asked") if kind == "holding" else pick.get("since")}

    def tick(self, elapsed: float, alive: dict[int, str]) -> None:
        """Inject every fault that is due and possible now."""
        alive = {pid: name for pid, name in alive.items() if name != self.spared and pid not in self.killed}
        for fault in [f for f in self.pending if f.after <= elapsed]:
            if fault.kind == "stray":
                self.strays()
                self.pending.remove(fault)
                continue
            victim = self._victim(fault.kind, alive)
            if victim is None:
                continue
            pid, record = victim
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # it finished a moment ago
                continue
            self.killed.add(pid)
            steps = [e.get("step") for e in read_log(self.room.events / f"{alive[pid]}.jsonl") if e.get("step")]
            self.log("kill", participant=alive.pop(pid), pid=pid, state=fault.kind, step=steps[-1] if steps else None,
                     **record)
            self.pending.remove(fault)

    def not_done(self) -> None:
        """Log the kills that found nobody in their state."""
        for fault in self.pending:
            self.log("kill_not_done", state=fault.kind,
                     reason=f"no participant was {STATES[fault.kind]} after {fault.after:.0f} s to be killed")


# ---------------------------------------------------------------- the host: the rehearsal
def _prepare(out: Path) -> None:
    """An empty output folder: a previous rehearsal's is replaced, any other folder is refused."""
    if out.exists() and any(out.iterdir()):
        if not (out / "room.json").exists():
            raise SystemExit(f"{out} exists and is not a rehearsal's folder: choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def expected_seconds(room: Room, slots: int, items: int, minutes_per_item: float) -> float:
    """Roughly how long the rehearsal takes: one participant's day, or the GPU's queue when that is longer."""
    gpu = sum(s.minutes for s in STEPS)
    alone = ARRIVAL_MINUTES + len(STEPS) * sum(THINK_MINUTES) / 2 + gpu + items * minutes_per_item
    return room.seconds_per_minute * max(alone, room.participants * gpu / max(1, min(slots, room.participants)))


def rehearse(room: Room, timeout: float = 0.0, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the rehearsal and write its report; returns the report. ``timeout`` 0: three times the expected duration
    (at least five minutes); participants still running then are stopped and count as crashed."""
    room = dataclasses.replace(room, out=room.out.resolve())
    _prepare(room.out)
    room = dataclasses.replace(room, base_model=model_folder(room.model, room.out) if room.model else "")
    settings = load_settings("workshop", room.overrides())
    plan = workshop_plan(settings)
    if plan is None or not plan.fits:
        raise SystemExit(f"The room's own training does not fit its GPU: {check_fit(settings).message}")
    items = room.items or settings.rating.n_items
    expected = expected_seconds(room, plan.slots, items, settings.budget.rating_minutes_per_item)
    timeout = timeout or max(300.0, 3 * expected)
    say(f"Rehearsing {room.participants} participants: {plan.text()} Expect about {expected:.0f} s "
        f"(stopped after {timeout:.0f} s).")
    write_jsonl(room.out / "shared" / "candidates.jsonl", room_candidates(Catalog.load(CATALOG), items, room.seed))
    with RatingStore(room.store, "host") as store:  # the instructor registers the room's items before the day
        store.add_items(load_items(room.out / "shared" / "candidates.jsonl", pair=("base", "sft")))
    write_json(room.out / "room.json", {**dataclasses.asdict(room), "out": str(room.out)})
    host_log = room.out / "host.jsonl"

    def log(event: str, **fields: Any) -> None:
        append_jsonl(host_log, {"t": time.time(), "event": event, **fields})

    for module in PRELOAD:  # imported once here; every participant is forked from this process
        importlib.import_module(module)
    ctx = multiprocessing.get_context("fork")
    chaos = _Chaos(room, plan.slots, expected, log) if room.chaos else None
    if chaos:
        chaos.strays()
    started = time.time()
    procs = [ctx.Process(target=participant, args=(room, i), name=participant_id(i)) for i in range(room.participants)]
    for proc in procs:
        proc.start()
    while any(p.is_alive() for p in procs) and time.time() - started < timeout:
        if chaos:
            chaos.tick(time.time() - started, {p.pid: p.name for p in procs if p.is_alive()})
        time.sleep(0.1)
    for proc in procs:
        if proc.is_alive():
            log("timeout", participant=proc.name, seconds=timeout)
            proc.kill()
        proc.join()
    finished = time.time()
    if chaos:
        chaos.not_done()
    _, ratings = read_ratings(room.store)
    stored = {participant_id(i): sum(r.done for r in ratings if r.rater == participant_id(i))
              for i in range(room.participants)}
    ledger = GpuLedger(room.out / "gpu", room.gpu_gb)
    label = room.model or settings.model.base_model
    info = {"participants": room.participants, "gpu_gb": room.gpu_gb, "model": label, "plan": plan.text(),
            "slots": plan.slots, "cap_gb": round(plan.cap_gb, 2), "need_gb": round(plan.need_gb, 2),
            "seconds_per_minute": room.seconds_per_minute, "chaos": room.chaos, "seed": room.seed, "items": items,
            "poll_seconds": room.poll_seconds, "step_minutes": {s.name: s.minutes for s in STEPS},
            "rating_minutes_per_item": settings.budget.rating_minutes_per_item, "started": started,
            "finished": finished}
    events = {participant_id(i): read_log(room.events / f"{participant_id(i)}.jsonl") for i in range(room.participants)}
    report = build_report(info, events, read_log(host_log), {p.name: p.exitcode for p in procs}, stored, ledger.read(),
                          GPU_STEPS)
    write_json(room.out / "report.json", report)
    (room.out / "report.txt").write_text(report_text(report) + "\n")
    plot_occupancy(report, ledger.timeline(), plan.slots).savefig(room.out / "occupancy.png", dpi=110)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Rehearse, print the table; exit code 0 when the room held, 1 when it did not."""
    parser = argparse.ArgumentParser(description="Rehearse a workshop on one machine: simulated participants through "
                                                 "every GPU step, with faults on request (no GPU, no model).")
    parser.add_argument("--participants", type=int, default=30, help="participant processes (default 30)")
    parser.add_argument("--gpu-gb", type=float, default=80.0, help="the simulated GPU's memory in GB (default 80)")
    parser.add_argument("--chaos", action="store_true", help="kill participants, drop stray files, one over-budget")
    parser.add_argument("--model", default="", help="model.base_model: a size class (1B, 7B, 13B, 70B, only its "
                                                    "shape), a local path or a cached hub id; default: the room's")
    parser.add_argument("--slots", type=int, default=0, help="workshop.gpu_slots (default 0: from the plan)")
    parser.add_argument("--seconds-per-minute", type=float, default=1.5, help="rehearsal seconds per minute of the day")
    parser.add_argument("--items", type=int, default=0, help="items to rate (default: the room's rating.n_items)")
    parser.add_argument("--poll", type=float, default=0.25, help="workshop.poll_seconds of the waiters")
    parser.add_argument("--seed", type=int, default=0, help="seed of arrivals, durations, faults and ratings")
    parser.add_argument("--out", default="runs/rehearsal", help="output folder (replaced when it holds a rehearsal)")
    parser.add_argument("--timeout", type=float, default=0.0, help="stop everyone after this many seconds "
                                                                  "(default 0: three times the expected duration)")
    args = parser.parse_args(argv)
    if args.participants < 2:
        parser.error("--participants must be at least 2: a workshop shares the GPU")
    room = Room(Path(args.out), args.participants, args.gpu_gb, args.model, args.slots, args.seconds_per_minute,
                args.items, args.poll, args.chaos, args.seed)
    report = rehearse(room, args.timeout)
    print(report_text(report))
    print(f"\nreport: {room.out / 'report.json'}, table: {room.out / 'report.txt'}, plot: {room.out / 'occupancy.png'}")
    return 1 if verdict(report) else 0


if __name__ == "__main__":
    sys.exit(main())
