"""Figures show as images in every kernel, papermill included, without pyplot's inline backend.

Helpers draw on ``matplotlib.figure.Figure`` objects (never pyplot's global state). IPython only knows
how to render such a figure once pyplot's inline backend has been loaded; otherwise ``display(fig)``
prints ``<Figure size ...>``. Importing :mod:`helpers` inside a kernel registers a PNG formatter for
figures, so ``display(fig)``, a figure as a cell's last value and ``handle.update(fig)`` all show the image.
"""
from __future__ import annotations

import io
import sys

from matplotlib.figure import Figure


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure rendered as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def register_figure_formatter() -> bool:
    """Teach the running IPython kernel to render Figures as PNG; False outside IPython."""
    ipython_module = sys.modules.get("IPython")
    shell = ipython_module.get_ipython() if ipython_module is not None else None
    if shell is None:
        return False
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
    return True
