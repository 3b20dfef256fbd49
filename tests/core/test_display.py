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
