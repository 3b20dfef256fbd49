"""The pilot reviewer without a kernel: clicks make the decision the reviewer's, corrections are kept, text stays text."""
from __future__ import annotations

import pytest
from support.ship_support import toy_checker

from helpers.ship.pilot_log import CHECKER, Review, next_round_examples
from helpers.ship.review import PilotReviewer

PLANT = "<script>window.__pwned=1</script>"


def _reviews():
    return [Review(0, f"Marlow (VX-PS-2290) wattage? {PLANT}", "It is rated at 500 W.", "VX-PS-2290", False, CHECKER,
                   "The Marlow (VX-PS-2290) is rated at 450 W.", "wattage_w said 500 (catalog: 450)"),
            Review(1, "Tessera Pro (VX-PS-4471) wattage?", "650 W", "VX-PS-4471", True, CHECKER)]


def test_clicks_record_the_reviewers_decision_and_correction():
    app = PilotReviewer(_reviews(), "ada")
    assert app.correction.value == "The Marlow (VX-PS-2290) is rated at 450 W."  # the checker's suggestion
    app.correction.value = "The Marlow (VX-PS-2290) delivers 450 W."
    app.buttons["wrong"].click()
    assert app.index == 1
    app.buttons["right"].click()
    first, second = app.reviews
    assert (first.right, first.reviewer, first.correction) == (False, "ada", "The Marlow (VX-PS-2290) delivers 450 W.")
    assert (second.right, second.reviewer, second.correction) == (True, "ada", "")
    [example] = next_round_examples(app.reviews, toy_checker())
    assert example["meta"]["reviewer"] == "ada"
    assert example["messages"][-1]["content"] == "The Marlow (VX-PS-2290) delivers 450 W."


def test_navigation_and_escaping():
    app = PilotReviewer(_reviews(), "ada")
    assert "&lt;script&gt;" in app.question.value and "<script>" not in app.question.value
    assert "catalog checker: wrong (wattage_w said 500 (catalog: 450))" in app.checker.value
    app.buttons["next"].click()
    app.buttons["next"].click()
    assert app.index == 1  # clamped at the last item
    app.buttons["back"].click()
    assert app.index == 0 and "1 of 2" in app.status.value


def test_nothing_to_review_is_an_error():
    with pytest.raises(ValueError, match="no conversations"):
        PilotReviewer([], "ada")
