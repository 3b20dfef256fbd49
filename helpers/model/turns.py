"""GPU turns on one shared GPU: how much of the GPU is yours, and a first-come queue before a model loads.

Ten to thirty participants share one GPU server (see :mod:`helpers.workshop` for the rest of the room):

* **A plan and a memory cap.** :func:`plan_seats` splits the GPU: every participant's process pays
  a CUDA context, a share is kept free (allocator caches, estimate error), the rest is divided into
  K training slots; the per-process cap is one slot. :func:`check_fit` compares the planned training
  (the estimator of :mod:`helpers.model.memory`) with the cap before any model loads, and names a
  smaller setting that fits when it does not. The cap (``torch.cuda.set_per_process_memory_fraction``)
  limits only PyTorch's own allocator: it is cooperative, not isolation (MIG or MPS isolate).
* **GPU slots.** :func:`gpu_slot` takes one of K slot locks (``filelock``) in a shared folder before a
  model loads; the others wait in a first-come queue and see their position. :func:`gpu_turn` (the fit
  check, then a slot) is how every GPU step takes its turn: training, rating candidates, DPO, evaluation
  and the baselines.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import math
import os
import re
import socket
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ..core.config import Settings, SettingsError, load_settings, with_overrides
from ..core.names import participant_name
from .memory import LINEAR_NAMES, ModelShape, TrainSetup, estimate_memory, shape_from_config

SLOT_PREFIX = "slot-"
MAX_PID = 2**22  # Linux's largest pid_max; beyond it a "pid" is not a process
QUEUE_DIR = "queue"
LINE_LOCK = "line.lock"  # held while a ticket is made or the line is read (see _line)
SHARED = 0o666  # with JupyterHub each participant is another user: all open every lock and rewrite status files
DTYPE_BYTES = {"auto": 2, "bfloat16": 2, "float16": 2, "float32": 4}  # "auto" on a GPU is bf16 or fp16


class WorkshopFitError(SettingsError):
    """The planned training does not fit the participant's share of the GPU; the message names a smaller setting."""


# ---------------------------------------------------------------- the plan: seats, slots and the cap
@dataclass(frozen=True)
class SeatPlan:
    """How one GPU is shared: usable memory, training slots and the per-process cap, in GB."""

    gpu_gb: float
    seats: int
    need_gb: float
    usable_gb: float
    slots: int
    cap_gb: float

    @property
    def fits(self) -> bool:
        """At least one training job fits, within the cap."""
        return self.slots >= 1 and self.need_gb <= self.cap_gb

    @property
    def fraction(self) -> float:
        """The cap as a share of the whole GPU (for ``torch.cuda.set_per_process_memory_fraction``)."""
        return min(1.0, self.cap_gb / self.gpu_gb)

    def text(self) -> str:
        """One plain sentence about the plan."""
        return (f"{self.gpu_gb:g} GB GPU, {self.seats} seat(s): {self.usable_gb:.1f} GB usable after CUDA contexts "
                f"and headroom; {self.slots} training job(s) at once, each capped at {self.cap_gb:.1f} GB; "
                f"one job needs about {self.need_gb:.1f} GB.")


def plan_seats(gpu_gb: float, seats: int, need_gb: float, context_gb: float = 0.5, headroom: float = 0.1,
               slots: int | None = None) -> SeatPlan:
    """Split a GPU among ``seats`` participants whose training needs ``need_gb`` each; ``slots`` None = as many as fit.

    usable = gpu x (1 - headroom) - seats x context; slots = min(seats, usable // need); cap = usable / slots.
    """
    if gpu_gb <= 0 or seats < 1 or need_gb <= 0:
        raise ValueError(f"gpu_gb and need_gb must be positive and seats at least 1 (got {gpu_gb}, {need_gb}, {seats})")
    usable = gpu_gb * (1 - headroom) - seats * context_gb
    if slots is None:
        slots = min(seats, math.floor(usable / need_gb)) if usable > 0 else 0
    cap = usable / slots if slots and usable > 0 else max(usable, 0.0)
    return SeatPlan(gpu_gb, seats, need_gb, max(usable, 0.0), slots, cap)


def seats_per_gpu(gpu_gb: float, need_gb: float, context_gb: float = 0.5, headroom: float = 0.1) -> int:
    """How many participants can all train at once on one GPU (the largest seats whose plan gives every seat a slot)."""
    return max(0, math.floor(gpu_gb * (1 - headroom) / (need_gb + context_gb)))


# ---------------------------------------------------------------- this participant's planned training
def model_shape(settings: Settings) -> ModelShape:
    """The base model's shape, read from its config (no weights loaded; the default model is prepared if needed)."""
    from transformers import AutoConfig

    from .loading import resolve_model

    name = settings.model.base_model
    config = AutoConfig.from_pretrained(resolve_model(name), trust_remote_code=settings.model.trust_remote_code)
    return shape_from_config(config, name=Path(name).name)


def train_setup(settings: Settings) -> TrainSetup:
    """The estimator's description of the training these settings run."""
    t = settings.train
    targets = LINEAR_NAMES if t.target_modules == ["all-linear"] else tuple(
        m for m in t.target_modules if m in LINEAR_NAMES) or LINEAR_NAMES
    return TrainSetup(method="qlora" if settings.model.quantize_4bit else "lora", batch_size=t.batch_size,
                      seq_len=settings.data.max_length, dtype_bytes=DTYPE_BYTES[settings.model.compute_dtype],
                      optimizer="adamw", gradient_checkpointing=t.gradient_checkpointing, lora_r=t.lora_r,
                      lora_targets=targets, lora_dropout=t.lora_dropout > 0)


def gpu_memory_gb(settings: Settings) -> float | None:
    """The GPU's size: workshop.gpu_memory_gb, else read from the first CUDA device; None on a CPU-only machine."""
    if settings.workshop.gpu_memory_gb:
        return settings.workshop.gpu_memory_gb
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_properties(0).total_memory / 1e9
    return None


def workshop_plan(settings: Settings, shape: ModelShape | None = None) -> SeatPlan | None:
    """This participant's plan on this GPU; None without a GPU (and no workshop.gpu_memory_gb).

    The slots are a room-wide decision: workshop.gpu_slots, else as many as fit of the profile's own
    training of the same base model, so one participant's larger batch cannot claim a bigger share.
    """
    gpu = gpu_memory_gb(settings)
    if gpu is None:
        return None
    w, m = settings.workshop, settings.model
    shape = shape or model_shape(settings)
    slots = w.gpu_slots
    if not slots:
        room = load_settings(settings.profile, {"workshop": dataclasses.asdict(w), "model": {
            "base_model": m.base_model, "trust_remote_code": m.trust_remote_code}})
        slots = plan_seats(gpu, w.seats, estimate_memory(shape, train_setup(room)).total_gb, w.context_gb,
                           w.headroom).slots
    need = estimate_memory(shape, train_setup(settings)).total_gb
    return plan_seats(gpu, w.seats, need, w.context_gb, w.headroom, slots)


@dataclass
class FitCheck:
    """Whether the planned training fits the participant's cap, and a smaller setting when it does not."""

    fits: bool
    message: str
    plan: SeatPlan | None = None
    suggestion: dict[str, Any] = field(default_factory=dict)


def _smaller(settings: Settings) -> Iterator[dict[str, Any]]:
    """Ever smaller overrides, cumulative: halve the batch (same effective batch), checkpoint, 4-bit, shorter texts."""
    t, changes = settings.train, {}
    batch, accum = t.batch_size, t.grad_accum
    while batch > 1:
        batch, accum = batch // 2, accum * 2
        changes.update({"train.batch_size": batch, "train.grad_accum": accum})
        yield dict(changes)
    if not t.gradient_checkpointing:
        changes["train.gradient_checkpointing"] = True
        yield dict(changes)
    if not settings.model.quantize_4bit:
        changes["model.quantize_4bit"] = True
        yield dict(changes)
    length = settings.data.max_length
    while length > 128:
        length //= 2
        changes["data.max_length"] = length
        yield dict(changes)


def check_fit(settings: Settings, shape: ModelShape | None = None) -> FitCheck:
    """Does the planned training fit the per-participant cap? If not, the first smaller setting that does."""
    shape = shape or (model_shape(settings) if gpu_memory_gb(settings) else None)
    plan = workshop_plan(settings, shape)
    if plan is None:
        return FitCheck(True, "No GPU: training runs on the CPU and no GPU memory cap applies.")
    if plan.fits:
        return FitCheck(True, f"Fits: {plan.text()}", plan)
    w = settings.workshop
    if plan.usable_gb <= 0:
        return FitCheck(False, f"{plan.seats} seats' CUDA contexts ({w.context_gb:g} GB each) and the headroom "
                               f"({w.headroom:.0%}) leave nothing of the {plan.gpu_gb:g} GB GPU: give it fewer "
                               "seats (workshop.seats).", plan)
    here = (f"Planned training needs about {plan.need_gb:.1f} GB but your share is {plan.cap_gb:.1f} GB "
            f"({plan.gpu_gb:g} GB GPU, {plan.seats} seats, {plan.slots} training slot(s))")
    for overrides in _smaller(settings):
        smaller = workshop_plan(with_overrides(settings, overrides), shape)
        if smaller is not None and smaller.fits:
            shown = ", ".join(f"{k}={v}" for k, v in overrides.items())
            return FitCheck(False, f"{here}. Try {shown} (about {smaller.need_gb:.1f} GB).", plan, overrides)
    alone = seats_per_gpu(plan.gpu_gb, plan.need_gb, w.context_gb, w.headroom)
    return FitCheck(False, f"{here}. No smaller setting fits: choose a smaller model.base_model, or give this GPU "
                           f"fewer seats (this training fits {alone} at once).", plan)


def require_fit(settings: Settings) -> FitCheck | None:
    """In a workshop (seats > 1): raise WorkshopFitError, naming a smaller setting, when the plan exceeds the cap."""
    if settings.workshop.seats <= 1:
        return None
    check = check_fit(settings)
    if not check.fits:
        raise WorkshopFitError(check.message)
    return check


def apply_memory_cap(settings: Settings) -> float | None:
    """Cap PyTorch's allocator in this process at the participant's share; the fraction set, or None on CPU."""
    import torch

    if not torch.cuda.is_available() or settings.workshop.seats <= 1:
        return None
    plan = workshop_plan(settings)
    if plan is None or plan.slots == 0:
        return None
    torch.cuda.set_per_process_memory_fraction(plan.fraction)
    return plan.fraction


# ---------------------------------------------------------------- GPU slots: a first-come queue of file locks
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_info(path: Path) -> dict[str, Any] | None:
    """A slot or ticket file's {participant, pid, host, ...}; None when it is unreadable or not of that shape.

    Anyone in the room can write to the shared lock folder, so nothing in it is trusted: a file holding a
    list, a pid that is text, negative or beyond any real pid, or a participant that is not text is ignored.
    """
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict):
        return None
    pid, who, host = info.get("pid"), info.get("participant"), info.get("host")
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid <= MAX_PID or not isinstance(who, str) \
            or not isinstance(host, str):
        return None
    return info


def _live(info: dict[str, Any] | None) -> bool:
    """Is the process that wrote ``info`` still running (unknowable on another host: assumed yes)?"""
    return info is not None and (info["host"] != socket.gethostname() or _pid_alive(info["pid"]))


def _shared_folder(path: Path) -> None:
    """Create a folder of the queue writable by the whole room; one that exists (the host's) stays as it is."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):  # another participant made it a moment ago, and shares it
        os.chmod(path, 0o777)


def _write_shared(path: Path, text: str) -> None:
    """Write a status file that any participant may overwrite later, whatever their umask.

    The status only informs (the locks decide): when a stray folder or link sits in its place, it is left out.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), SHARED)
    except OSError:
        return
    with contextlib.suppress(PermissionError):  # someone else's file: already shared
        os.fchmod(fd, SHARED)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


@contextlib.contextmanager
def _line(lock_dir: Path) -> Iterator[None]:
    """Held while a ticket is made or the line is read, so a ticket not yet made when the line is read gets a later
    name: a ticket's name is taken before its file exists, and under load the two can be far apart.

    A folder or a link in the lock's place (anyone can write there) cannot stop the queue: it goes on without it.
    """
    from filelock import FileLock

    lock = FileLock(str(lock_dir / LINE_LOCK), mode=SHARED)
    try:
        lock.acquire()
        held = True
    except OSError:
        held = False
    try:
        yield
    finally:
        if held:
            lock.release()


def _prune_tickets(queue: Path, mine: Path | None, stale_after: float = 2.0) -> list[Path]:
    """Tickets still waiting, oldest first; a ticket whose lock nobody holds (its owner died) is removed.

    gpu_slot makes every ticket a regular file: a folder or a link named like one is nobody's turn and is passed over.
    """
    from filelock import FileLock, Timeout

    with _line(queue.parent):
        tickets = sorted(queue.glob("*.lock"))
    alive = []
    for ticket in tickets:
        if ticket == mine:
            alive.append(ticket)
            continue
        try:
            status = ticket.lstat()
            if not stat.S_ISREG(status.st_mode):
                continue
            if time.time() - status.st_mtime < stale_after:  # may be a ticket being created right now
                alive.append(ticket)
                continue
            probe = FileLock(str(ticket), blocking=False, mode=SHARED)
            probe.acquire()
        except Timeout:
            alive.append(ticket)
        except FileNotFoundError:
            continue
        else:
            with contextlib.suppress(FileNotFoundError):
                ticket.unlink()
                ticket.with_suffix(".json").unlink()
            probe.release()
    return alive


def slot_count(settings: Settings) -> int:
    """K: workshop.gpu_slots, else from the plan, else 1 (no GPU to plan for)."""
    if settings.workshop.gpu_slots:
        return settings.workshop.gpu_slots
    plan = workshop_plan(settings)
    return max(1, plan.slots) if plan else 1


def queue_status(lock_dir: str | os.PathLike) -> dict[str, list[dict[str, Any]]]:
    """Who holds a slot and who waits, in order (from the slot and ticket files of a lock folder)."""
    lock_dir = Path(lock_dir)
    holders = [{**info, "slot": int(p.stem[len(SLOT_PREFIX):])} for p in sorted(lock_dir.glob(f"{SLOT_PREFIX}*.json"))
               if re.fullmatch("[0-9]+", p.stem[len(SLOT_PREFIX):]) and _live(info := _read_info(p))]
    waiting = [info for p in sorted((lock_dir / QUEUE_DIR).glob("*.json")) if _live(info := _read_info(p))]
    return {"holders": holders, "waiting": waiting}


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


@contextlib.contextmanager
def gpu_slot(settings: Settings, participant: str | None = None, report: Callable[[str], None] | None = None,
             timeout: float | None = None) -> Iterator[int | None]:
    """Hold one of K GPU slots while the block runs; wait first-come with a visible queue position.

    Yields the slot number, or None when no queue applies (no workshop.lock_dir, or a multi-process
    launch, whose processes own their GPUs). Raises TimeoutError after ``timeout`` seconds of waiting.
    """
    from filelock import FileLock, Timeout

    w = settings.workshop
    if not w.lock_dir or int(os.environ.get("WORLD_SIZE", "1")) > 1:
        yield None
        return
    report = report or (lambda text: print(text, flush=True))
    who = participant or participant_name(settings)
    k = slot_count(settings)
    lock_dir = Path(w.lock_dir).expanduser()
    queue = lock_dir / QUEUE_DIR
    try:
        _shared_folder(lock_dir)
        _shared_folder(queue)
    except OSError as exc:
        raise SettingsError(f"workshop.lock_dir {str(lock_dir)!r} cannot be used ({exc.strerror}): ask the host to "
                            "create it writable for all participants, or set workshop.lock_dir='' to train "
                            "without the queue") from exc
    with _line(lock_dir):
        asked = time.time_ns()  # the place in line: the ticket's name and its "since" say the same moment
        info = {"participant": who, "pid": os.getpid(), "host": socket.gethostname(), "since": asked / 1e9}
        ticket_path = queue / f"{asked:020d}-{os.getpid()}.lock"
        ticket = FileLock(str(ticket_path), mode=SHARED)
        ticket.acquire()
        _write_shared(ticket_path.with_suffix(".json"), json.dumps(info))
    held: tuple[int, Any] | None = None
    start, last = time.monotonic(), ""
    try:
        while held is None:
            waiting = _prune_tickets(queue, ticket_path)
            unusable = []
            if waiting and waiting[0] == ticket_path:
                for i in range(k):
                    path = lock_dir / f"{SLOT_PREFIX}{i}.lock"
                    lock = FileLock(str(path), blocking=False, mode=SHARED)
                    try:
                        lock.acquire()
                    except Timeout:
                        continue
                    except OSError as exc:  # a folder or a link in the slot's place: out of use until removed
                        unusable.append(f"{path.name} ({exc.strerror})")
                        continue
                    held = (i, lock)
                    break
            if held is not None:
                break
            ahead = waiting.index(ticket_path) if ticket_path in waiting else 0
            busy = ", ".join(h["participant"] for h in queue_status(lock_dir)["holders"]) or "starting"
            text = (f"Waiting for a GPU slot: you are {_ordinal(ahead + 1)} in line; all {k} slot(s) are busy "
                    f"({busy}).")
            if unusable:
                text += f" {', '.join(unusable)} cannot be locked: ask the host to remove {'it' if len(unusable) == 1 else 'them'} from {lock_dir}."
            if text != last:
                report(text)
                last = text
            if timeout is not None and time.monotonic() - start > timeout:
                raise TimeoutError(f"no GPU slot became free within {timeout:g} s ({k} slot(s) in {lock_dir})")
            time.sleep(w.poll_seconds)
    finally:
        ticket_path.with_suffix(".json").unlink(missing_ok=True)
        ticket_path.unlink(missing_ok=True)
        ticket.release()
    slot, lock = held
    side = lock_dir / f"{SLOT_PREFIX}{slot}.json"
    _write_shared(side, json.dumps({**info, "asked": info["since"], "since": time.time()}))
    waited = time.monotonic() - start
    report(f"GPU slot {slot + 1} of {k} is yours" + (f" (waited {waited:.0f} s)." if waited >= 1 else "."))
    try:
        yield slot
    finally:
        with contextlib.suppress(OSError):  # gone, or a stray folder in its place
            side.unlink()
        lock.release()
        _free_gpu_cache()


@contextlib.contextmanager
def gpu_turn(settings: Settings, report: Callable[[str], None] | None = None,
             timeout: float | None = None) -> Iterator[int | None]:
    """Every GPU step's turn in a workshop: the fit check, then one of the K GPU slots (a no-op outside a workshop).

    Training, rating candidates, DPO, evaluation and the baselines load their models inside this block, so a
    room running the same notebook together queues instead of running out of GPU memory. Load the model inside
    the block and let it go before the block ends (return from a function called inside it): the slot is
    handed on when the block exits.
    """
    require_fit(settings)  # the planned use must fit the participant's share of the GPU
    with gpu_slot(settings, report=report, timeout=timeout) as slot:
        yield slot


def _free_gpu_cache() -> None:
    """Hand memory the finished job no longer uses back to the GPU for the next participant."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


__all__ = ["FitCheck", "SeatPlan", "WorkshopFitError", "apply_memory_cap", "check_fit", "gpu_memory_gb", "gpu_slot",
           "gpu_turn", "model_shape", "plan_seats", "queue_status", "require_fit", "seats_per_gpu", "slot_count", "train_setup",
           "workshop_plan"]
