"""A simulated GPU for a workshop rehearsal: one shared ledger of the memory every participant's jobs hold.

The rehearsal (``make rehearsal``, :mod:`helpers.cli.rehearsal`) runs a whole room on a machine without a GPU.
Each GPU job holds in this ledger what the course's estimator says it needs, under a file lock, with the rules
of the real cap and of a real GPU:

* a job over its share (the plan's cap, :func:`helpers.model.turns.workshop_plan`) is refused with the message a
  participant reads from the fit check (:class:`~helpers.model.turns.WorkshopFitError`);
* every process that has used the GPU pays its CUDA context (``workshop.context_gb``) until it exits;
* more than the whole GPU in use is a simulated out-of-memory error, which the slot queue must prevent;
* a process that dies frees its memory, as the driver does when a kernel is killed.

The ledger keeps the peak in use and a timeline of the memory in use (``timeline.jsonl``) for the report's plot.
"""
from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from ..core.config import Settings
from ..core.runs import append_jsonl, read_log, write_json
from ..model.memory import ModelShape
from ..model.turns import WorkshopFitError, check_fit, workshop_plan


class SimulatedOutOfMemory(RuntimeError):
    """More memory than the simulated GPU has was asked for: on a real GPU, a CUDA out-of-memory error."""


def _alive(pid: int) -> bool:
    """Is this process running (a zombie has already exited and freed its GPU memory)?"""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def in_use_gb(state: dict[str, Any]) -> float:
    """Memory in use in a ledger state: every holding job plus the CUDA context of every process that used the GPU."""
    return sum(c["gb"] for c in state["contexts"].values()) + sum(j["gb"] for j in state["jobs"].values())


@dataclass(frozen=True)
class GpuLedger:
    """The simulated GPU of one rehearsal: ``gpu.json`` (state) and ``timeline.jsonl`` in ``folder``."""

    folder: Path
    gpu_gb: float

    @property
    def path(self) -> Path:
        """The ledger's state file."""
        return Path(self.folder) / "gpu.json"

    @property
    def timeline_path(self) -> Path:
        """One line per change: time and memory in use."""
        return Path(self.folder) / "timeline.jsonl"

    def read(self) -> dict[str, Any]:
        """The state: contexts and jobs by pid, the peak in use (GB) and when it was reached."""
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"gpu_gb": self.gpu_gb, "contexts": {}, "jobs": {}, "peak_gb": 0.0, "peak_at": None}

    def _update(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Apply ``change`` to the state under the ledger's lock, after freeing the memory of dead processes."""
        from filelock import FileLock

        Path(self.folder).mkdir(parents=True, exist_ok=True)
        with FileLock(str(Path(self.folder) / "gpu.lock")):
            state = self.read()
            for group in ("contexts", "jobs"):
                state[group] = {pid: v for pid, v in state[group].items() if _alive(int(pid))}
            change(state)
            now, used = time.time(), in_use_gb(state)
            if used > state["peak_gb"]:
                state["peak_gb"], state["peak_at"] = used, now
            write_json(self.path, state)
            append_jsonl(self.timeline_path, {"t": now, "in_use_gb": round(used, 3), "jobs": len(state["jobs"])})
        return state

    @contextlib.contextmanager
    def hold(self, settings: Settings, participant: str, shape: ModelShape | None = None) -> Iterator[float]:
        """Hold this process's job in the ledger while the block runs; yields the GB held.

        Raises WorkshopFitError (the fit check's message) for a job over its share, SimulatedOutOfMemory when the
        GPU has not that much free.
        """
        plan = workshop_plan(settings, shape)
        if plan is None:
            raise ValueError("the rehearsal's GPU has no size: set workshop.gpu_memory_gb")
        if not plan.fits:
            raise WorkshopFitError(check_fit(settings, shape).message)
        pid = str(os.getpid())

        def take(state: dict[str, Any]) -> None:
            context = 0.0 if pid in state["contexts"] else settings.workshop.context_gb
            used = in_use_gb(state)
            if used + context + plan.need_gb > self.gpu_gb:
                raise SimulatedOutOfMemory(
                    f"CUDA out of memory (simulated): {participant} asked for {plan.need_gb:.1f} GB with "
                    f"{used:.1f} GB of the {self.gpu_gb:g} GB GPU already in use")
            state["contexts"].setdefault(pid, {"participant": participant, "gb": settings.workshop.context_gb})
            state["jobs"][pid] = {"participant": participant, "gb": plan.need_gb, "since": time.time()}

        self._update(take)
        try:
            yield plan.need_gb
        finally:
            self._update(lambda state: state["jobs"].pop(pid, None))

    def timeline(self) -> list[dict[str, Any]]:
        """The recorded (time, memory in use) points, oldest first."""
        return read_log(self.timeline_path)


__all__ = ["GpuLedger", "SimulatedOutOfMemory", "in_use_gb"]
