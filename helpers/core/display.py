"""Showing results in a notebook: figures as images in every kernel, and tables of untrusted text as text.

Helpers draw on ``matplotlib.figure.Figure`` objects (never pyplot's global state). IPython only knows
how to render such a figure once pyplot's inline backend has been loaded; otherwise ``display(fig)``
prints ``<Figure size ...>``. Importing :mod:`helpers` inside a kernel registers a PNG formatter for
figures, so ``display(fig)``, a figure as a cell's last value and ``handle.update(fig)`` all show the image.

Customer messages and model answers are untrusted: a pandas ``Styler`` renders cell text as HTML, so a ticket
holding ``<img src=x onerror=...>`` would run its script in JupyterLab. :func:`text_table` is the one way
notebooks show such a table: every cell, row label and column name is HTML-escaped and MathJax is off (so
``$12.99 ... $15`` stays text too). Plot labels made from data (categories, intents, reasons) go through
:func:`plain`: matplotlib typesets text between dollar signs as math, and an unbalanced formula stops the plot.
"""
from __future__ import annotations

import io
import sys
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

NO_MATHJAX = 'class="tex2jax_ignore mathjax_ignore"'
"""Table attributes that keep Jupyter's MathJax from typesetting text between dollar signs."""


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


def plain(text: Any) -> str:
    """Text for a matplotlib label, shown as it is: '$5 or $10' is never typeset (nor fails to parse) as math."""
    return str(text).replace("$", r"\$")


def _cell_text(value: Any) -> Any:
    """A cell as the Styler escapes it: containers (dicts, lists) as their text; strings and numbers as they are."""
    return value if value is None or isinstance(value, (str, int, float)) else str(value)


def text_table(df: "pd.DataFrame", wrap: bool = False, precision: int = 4) -> "Styler":
    """A table of untrusted text shown as text: cells, row labels and column names HTML-escaped, no MathJax;
    ``wrap`` keeps line breaks and aligns text left (for long messages)."""
    styler = (df.map(_cell_text).style.format(escape="html", precision=precision).format_index(escape="html", axis=0)
              .format_index(escape="html", axis=1).set_table_attributes(NO_MATHJAX))
    return styler.set_properties(**{"white-space": "pre-wrap", "text-align": "left"}) if wrap else styler
