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
    sample = dict(item, id=f"redaction:{attack}", note=attack, where=f"{attack}.csv:2", original_label=attack)
    app = ReviewWidget([item, sample], tmp_path / "review.json")
    assert "&lt;img" in app.header.value and "<img" not in app.header.value + app.original.value
    app.approve.click()
    assert "<img" not in app.header.value + app.original.value and app.header.value.count("&lt;img") == 4


HEARTHLINE = Path(__file__).resolve().parents[2] / "data_samples" / "hearthline"


def test_samples_cover_every_placeholder_type_and_removal_reason() -> None:
    from helpers.data.review import redaction_items, removal_items
    from helpers.data.sources import load_tickets

    tickets = load_tickets(HEARTHLINE).tickets
    redactions = redaction_items(tickets, per_type=2, seed=1)
    shown = [t for it in redactions for t in it["note"][len("redacted: "):].split(", ")]
    assert set(shown) == {"EMAIL", "PHONE", "IBAN", "CARD", "ADDRESS", "ORDER", "NAME"}
    assert all(it["original"] != it["proposed"] and "<" in it["proposed"] for it in redactions)
    assert redactions == redaction_items(tickets, per_type=2, seed=1)  # the same sample every time
    removed = [{"source": "ticket", "id": t.id, "stage": "quality", "reason": reason}
               for t, reason in zip(tickets[:9], ["spam", "not English (de)", "not English (fr)"] * 3)]
    removals = removal_items(removed + [{"source": "ticket", "id": tickets[9].id, "stage": "grounding",
                                         "reason": "reply states no catalog fact"}], tickets, per_reason=2)
    assert sorted(it["note"].split(" (")[0] for it in removals) == ["not English", "not English", "spam", "spam"]


def test_sample_decisions_change_the_next_curation(tmp_path: Path) -> None:
    """Edit a redaction, reject another ticket's redaction, keep a ticket deduplication removed."""
    from helpers.core.config import load_settings
    from helpers.core.examples import question
    from helpers.data.catalog import Catalog
    from helpers.data.fact_check import FactChecker
    from helpers.data.grounding import ground
    from helpers.data.pipeline import curate
    from helpers.data.review import redaction_key, removal_items, removal_key
    from helpers.data.sources import load_tickets
    from helpers.data.splits import SPLITS

    settings = load_settings("ci", {"data.max_products": 0, "data.routing_per_intent": 2}).data
    base = curate(HEARTHLINE, tmp_path / "a", settings)
    kept = {ex["id"][3:]: question(ex) for s in SPLITS for ex in base.splits[s] if ex["meta"]["source"] == "ticket"}
    edited_id, dropped_id = [i for i, q in kept.items() if "<ORDER>" in q][:2]
    checker = FactChecker(Catalog.load(HEARTHLINE / "catalog.json"))
    twins = removal_items([r for r in base.removed if r["reason"] == "near duplicate"], load_tickets(HEARTHLINE).tickets,
                          per_reason=100)
    item = next(it for it in twins if ground(checker, it["question"], it["original"]).status == "ok")
    twin, asked_again = item["id"][len("removal:"):], item["proposed"] + " (asked again)"
    decisions = {
        redaction_key(edited_id, "message"): {"decision": "edit", "text": kept[edited_id] + " (checked)", "by": "me"},
        redaction_key(dropped_id, "message"): {"decision": "reject", "text": "", "by": "me"},
        removal_key(twin): {"decision": "edit", "text": asked_again, "by": "me"}}
    again = curate(HEARTHLINE, tmp_path / "b", settings, decisions=decisions)
    questions = {ex["id"][3:]: question(ex) for s in SPLITS for ex in again.splits[s]
                 if ex["meta"]["source"] == "ticket"}
    removed = {r["id"]: r["reason"] for r in again.removed}
    assert questions[edited_id] == kept[edited_id] + " (checked)"
    assert removed[dropped_id] == "redaction rejected in review" and dropped_id not in questions
    assert twin not in removed and questions[twin] == asked_again
    assert all(r["reconciles"] for r in again.card["reconciliation"].values())
