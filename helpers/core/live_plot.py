"""A loss plot redrawn in place while training runs (JupyterLab, classic Jupyter and papermill).

One ``matplotlib.figure.Figure`` (not pyplot, so nothing else draws into it) is shown once with
``display(fig, display_id=True)`` and refreshed with ``handle.update(fig)``: the notebook keeps one
image that changes, and an executed notebook keeps only the final frame.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from matplotlib.figure import Figure


def smooth(values: Sequence[float], weight: float = 0.6) -> list[float]:
    """Exponential moving average (TensorBoard-style, bias-corrected), for a readable training curve."""
    out, avg = [], 0.0
    for i, v in enumerate(values, start=1):
        avg = weight * avg + (1 - weight) * v
        out.append(avg / (1 - weight ** i))
    return out


class LivePlot:
    """Curves by name (e.g. train and validation loss) drawn into one figure and updated in place."""

    def __init__(self, title: str, ylabel: str = "loss", show: bool = True, panels: Sequence[str] = ("loss",)):
        self.fig = Figure(figsize=(8, 3.6 if len(panels) == 1 else 3.2), layout="constrained")
        self.axes = {name: ax for name, ax in zip(panels, self.fig.subplots(1, len(panels), squeeze=False)[0])}
        self.title, self.ylabel = title, ylabel
        self.series: dict[str, tuple[str, list[int], list[float]]] = {}
        self.markers: list[tuple[str, str, int, float, str]] = []
        self.vlines: list[tuple[str, int, str]] = []
        self.handle = None
        if show:
            try:
                from IPython.display import display

                self.handle = display(self.fig, display_id=True)
            except ImportError:  # plain Python: nothing to show
                self.handle = None
        self.redraw()

    def add(self, name: str, step: int, value: float, panel: str = "loss") -> None:
        """Append one point to a curve."""
        self.series.setdefault(name, (panel, [], []))
        self.series[name][1].append(step)
        self.series[name][2].append(value)

    def mark(self, label: str, step: int, value: float, panel: str = "loss", style: str = "*") -> None:
        """Replace the marker of that label (e.g. 'best') with a new point."""
        self.markers = [m for m in self.markers if m[0] != label] + [(label, panel, step, value, style)]

    def vline(self, label: str, step: int, panel: str = "loss") -> None:
        """A vertical line at a step (e.g. where overfitting began)."""
        self.vlines = [v for v in self.vlines if v[0] != label] + [(label, step, panel)]

    def redraw(self) -> None:
        """Draw every curve again and push the new frame to the notebook."""
        for panel, ax in self.axes.items():
            ax.clear()
            ax.set_xlabel("step")
            ax.set_ylabel(self.ylabel if panel == "loss" else panel)
            ax.grid(alpha=0.3)
            for name, (p, steps, values) in self.series.items():
                if p != panel or not steps:
                    continue
                if name.startswith("train"):
                    ax.plot(steps, values, color="tab:blue", alpha=0.25, linewidth=1)
                    ax.plot(steps, smooth(values), color="tab:blue", label=f"{name} (smoothed)")
                else:
                    ax.plot(steps, values, marker="o", color="tab:orange", label=name)
            for label, p, step, value, style in self.markers:
                if p == panel:
                    ax.plot([step], [value], style, color="tab:green", markersize=14, label=label)
            for label, step, p in self.vlines:
                if p == panel:
                    ax.axvline(step, color="tab:red", linestyle="--", label=label)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="upper right", fontsize=8)
        self.fig.suptitle(self.title)
        if self.handle is not None:
            self.handle.update(self.fig)

    def save(self, path: Path) -> Path:
        """Write the current frame as PNG."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fig.savefig(path, dpi=110)
        return path

    def data(self) -> dict[str, Any]:
        """The plotted numbers, for tests and logs."""
        return {name: {"steps": s, "values": v} for name, (_, s, v) in self.series.items()}
