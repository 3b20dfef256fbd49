"""GPU status for a workshop: total, used and free memory, the processes on the GPU, the slots and the queue.

:func:`gpu_status_widget` reads NVIDIA's management library (``pynvml``); on a CPU it shows a plain message.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..model.turns import queue_status


@dataclass
class GpuStatus:
    """One GPU's memory (bytes) and the processes using it."""

    index: int
    name: str
    total: int
    used: int
    free: int
    processes: list[dict[str, Any]]


def gpu_status() -> tuple[list[GpuStatus], str]:
    """Every NVIDIA GPU's memory and processes via NVML; ([], a plain reason) when there is none."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as exc:  # noqa: BLE001 - no library, no driver or no GPU all mean the same here
        return [], f"No NVIDIA GPU here ({exc}): training runs on the CPU."
    try:
        out = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
            name = pynvml.nvmlDeviceGetName(handle)
            procs = [{"pid": p.pid, "used": p.usedGpuMemory, "name": _process_name(p.pid)}
                     for p in pynvml.nvmlDeviceGetComputeRunningProcesses(handle)]
            out.append(GpuStatus(i, name.decode() if isinstance(name, bytes) else str(name), int(mem.total),
                                 int(mem.used), int(mem.free), procs))
        return out, "" if out else "NVML found no GPU: training runs on the CPU."
    finally:
        pynvml.nvmlShutdown()


def _process_name(pid: int) -> str:
    """'user: command' of a process, or '?' when it is not visible (another container or user)."""
    try:
        import psutil

        proc = psutil.Process(pid)
        return f"{proc.username()}: {proc.name()}"
    except Exception:  # noqa: BLE001 - processes in other namespaces are common on shared hosts
        return "?"


def _gb(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 1e9:.1f} GB"


def gpu_status_html(gpus: list[GpuStatus], reason: str = "", lock_dir: str = "") -> str:
    """The status as small HTML tables: memory per GPU, its processes, then the slots and the queue."""
    import html

    if not gpus:
        parts = [f"<p class='gpu-none'>{html.escape(reason)}</p>"]
    else:
        parts = []
        for g in gpus:
            rows = "".join(f"<tr><td>{p['pid']}</td><td>{html.escape(p['name'])}</td><td>{_gb(p['used'])}</td></tr>"
                           for p in g.processes) or "<tr><td colspan=3>no processes</td></tr>"
            parts.append(f"<p><b>GPU {g.index}: {html.escape(g.name)}</b> - total {_gb(g.total)}, used {_gb(g.used)}, "
                         f"free {_gb(g.free)}</p><table class='gpu-procs'><tr><th>pid</th><th>process</th>"
                         f"<th>memory</th></tr>{rows}</table>")
    if lock_dir and Path(lock_dir).exists():
        q = queue_status(lock_dir)
        held = ", ".join(f"slot {h['slot'] + 1}: {html.escape(h['participant'])}" for h in q["holders"]) or "none"
        waits = ", ".join(html.escape(w["participant"]) for w in q["waiting"]) or "nobody"
        parts.append(f"<p class='gpu-queue'>Training slots in use: {held}. Waiting: {waits}.</p>")
    return "".join(parts)


def gpu_status_widget(lock_dir: str = "") -> Any:
    """A small widget: the GPU status (and slot queue of ``lock_dir``) with a Refresh button."""
    import ipywidgets as widgets

    view = widgets.HTML()
    button = widgets.Button(description="Refresh", icon="refresh")
    button.add_class("gpu-refresh")

    def refresh(_: Any = None) -> None:
        view.value = gpu_status_html(*gpu_status(), lock_dir=lock_dir)

    button.on_click(refresh)
    refresh()
    box = widgets.VBox([view, button])
    box.add_class("gpu-status")
    return box


__all__ = ["GpuStatus", "gpu_status", "gpu_status_html", "gpu_status_widget"]
