"""The review widget, driven without a kernel: clicks record and save decisions."""
from __future__ import annotations

from pathlib import Path

from helpers.data.review import ReviewWidget, decide, load_decisions, rule_decision

ITEMS = [{"id": "T-1", "status": "corrected", "product": "VX-PS-1000", "question": "Wattage?",
          "original": "It is rated at 750 W.", "proposed": "It is rated at 650 W.", "wrong": {"wattage_w": ["750"]}},
         {"id": "T-2", "status": "contradiction", "product": "VX-PS-1000", "question": "Successor?",
          "original": "Replaced by the VX-PS-9999.", "proposed": "Replaced by the VX-PS-9999.",
          "wrong": {"model code": ["VX-PS-9999"]}},
         {"id": "T-3", "status": "corrected", "product": "VX-PS-1000", "question": "Price?",
          "original": "It costs $10.00.", "proposed": "It costs $12.99.", "wrong": {"price_usd": ["10.0"]}}]


def test_rule_approves_corrections_and_rejects_the_rest() -> None:
    assert [rule_decision(i)["decision"] for i in ITEMS] == ["approve", "reject", "approve"]
    assert decide(ITEMS, {"T-1": {"decision": "reject", "text": "", "by": "human"}})["T-1"]["by"] == "human"


def test_clicks_save_decisions_and_resume(tmp_path: Path) -> None:
    path = tmp_path / "review.json"
    app = ReviewWidget(ITEMS, path)
    assert "T-1" in app.header.value and app.text.value == "It is rated at 650 W."
    app.approve.click()
    assert load_decisions(path)["T-1"] == {"decision": "approve", "text": "It is rated at 650 W.", "by": "human"}
    app.text.value = "It costs nothing."  # the reviewer edits the second item, then rejects it anyway
    app.reject.click()
    resumed = ReviewWidget(ITEMS, path)
    assert resumed.index == 2 and "T-3" in resumed.header.value
    resumed.text.value = "It costs $12.99 including tax."
    resumed.edit.click()
    saved = load_decisions(path)
    assert saved["T-2"]["decision"] == "reject" and saved["T-3"] == {
        "decision": "edit", "text": "It costs $12.99 including tax.", "by": "human"}
    assert resumed.approve.disabled and "All 3" in resumed.header.value
    assert "review-approve" in resumed.approve._dom_classes


def test_the_widget_shows_item_text_as_text(tmp_path: Path) -> None:
    attack = '<img src=x onerror="alert(1)">'
    item = dict(ITEMS[0], id=attack, question=attack, original=attack, wrong={"wattage_w": [attack]})
    app = ReviewWidget([item], tmp_path / "review.json")
    assert "&lt;img" in app.header.value and "<img" not in app.header.value + app.original.value
    app.approve.click()
    assert "<img" not in app.header.value
