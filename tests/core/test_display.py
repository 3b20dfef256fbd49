"""Tables of untrusted text render as text: no customer or model markup reaches the page."""
from __future__ import annotations

import pandas as pd

from helpers.core.display import NO_MATHJAX, text_table

ATTACK = '<img src=x onerror="alert(1)">'


def test_text_table_escapes_cells_labels_and_containers() -> None:
    df = pd.DataFrame({ATTACK: [ATTACK, {"wrong": [ATTACK]}, 0.123456], "n": [1, 2, 3]}, index=[ATTACK, "b", "c"])
    html = text_table(df, wrap=True).to_html()
    assert "<img" not in html and html.count("&lt;img") == 4
    assert NO_MATHJAX in html and "pre-wrap" in html and "0.1235" in html
    assert text_table(df).data.equals(df.map(lambda v: v if isinstance(v, (str, int, float)) else str(v)))


FORMULA = "$\\frac{$ bundle"  # a label that matplotlib would typeset as math, and fail to parse
"""A label made from data: a category, an intent, a removal reason."""


def _drawn(fig) -> list[str]:
    """Every text of a figure as matplotlib draws it (after its own math parsing)."""
    import io

    fig.savefig(io.BytesIO(), format="png")  # raises on a formula it cannot parse
    return [t._preprocess_math(t.get_text())[0] for t in fig.findobj(lambda o: hasattr(o, "_preprocess_math"))]


def test_plot_labels_from_data_are_drawn_as_text() -> None:
    from helpers.data.card import Funnel, counts_figure, funnel_figure
    from helpers.eval.plots import plot_category_accuracy, plot_confusion

    funnel = Funnel()
    funnel.step("quality", "ticket", 3, {FORMULA: 1, "costs $5 or $10": 1})
    figures = [funnel_figure(funnel), counts_figure({FORMULA: 2, "b": 1}, "per intent"),
               plot_confusion(pd.DataFrame([[1, 0], [0, 1]], index=[FORMULA, "b"], columns=[FORMULA, "b"]), FORMULA),
               plot_category_accuracy({"sft": {"category": {FORMULA: {"accuracy": 0.5}}}})]
    for fig in figures:
        drawn = _drawn(fig)
        assert any(FORMULA in text for text in drawn), drawn
    assert any("costs $5 or $10" in text for text in _drawn(figures[0]))
