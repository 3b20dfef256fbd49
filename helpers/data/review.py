"""Reviewing flagged answers: approve, edit or reject each; headless, a rule decides.

A flagged item is a support reply that contradicted the catalog: either corrected from the catalog
(the rule approves the correction) or not correctable (the rule rejects it). Decisions are stored in
``<run>/data/review.json`` and applied by the next curation.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DECISIONS = ("approve", "edit", "reject")


def rule_decision(item: dict[str, Any]) -> dict[str, Any]:
    """The scripted decision: keep an answer fully corrected from the catalog, reject anything else."""
    return {"decision": "approve" if item["status"] == "corrected" else "reject", "text": item["proposed"],
            "by": "rule"}


def load_decisions(path: Path) -> dict[str, dict[str, Any]]:
    """Saved decisions by item id ({} when none were saved yet)."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save_decisions(path: Path, decisions: dict[str, dict[str, Any]]) -> Path:
    """Write decisions as JSON (sorted, readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(decisions, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def decide(items: list[dict[str, Any]], saved: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """A decision for every item: the saved one where a person made it, the rule's otherwise."""
    saved = saved or {}
    return {item["id"]: saved.get(item["id"]) or rule_decision(item) for item in items}


class ReviewWidget:
    """One flagged item at a time, with Approve / Save edit / Reject buttons; every click is saved at once."""

    def __init__(self, items: list[dict[str, Any]], path: Path, reviewer: str = "human"):
        import ipywidgets as w

        self.items, self.path, self.reviewer = items, Path(path), reviewer
        self.decisions = load_decisions(self.path)
        self.index = next((i for i, it in enumerate(items) if it["id"] not in self.decisions), len(items))
        self.header = w.HTML().add_class("review-header")
        self.original = w.HTML().add_class("review-original")
        self.text = w.Textarea(layout=w.Layout(width="100%", height="5em")).add_class("review-text")
        self.approve = w.Button(description="Approve", button_style="success").add_class("review-approve")
        self.edit = w.Button(description="Save edit", button_style="info").add_class("review-edit")
        self.reject = w.Button(description="Reject", button_style="danger").add_class("review-reject")
        self.approve.on_click(lambda _: self.record("approve"))
        self.edit.on_click(lambda _: self.record("edit"))
        self.reject.on_click(lambda _: self.record("reject"))
        self.widget = w.VBox([self.header, self.original, self.text, w.HBox([self.approve, self.edit, self.reject])])
        self.widget.add_class("review-widget")
        self.show()

    def show(self) -> None:
        """Display the current item (or a summary when all are decided)."""
        import html

        done = sum(it["id"] in self.decisions for it in self.items)
        if self.index >= len(self.items):
            self.header.value = (f"<b>All {len(self.items)} flagged answers reviewed</b> "
                                 f"(saved to {html.escape(str(self.path))}).")
            self.original.value, self.text.value = "", ""
            for b in (self.approve, self.edit, self.reject):
                b.disabled = True
            return
        it = self.items[self.index]
        wrong = ", ".join(f"{k}: {v}" for k, v in it["wrong"].items())
        self.header.value = (f"<b>{done}/{len(self.items)} decided</b> · item {html.escape(str(it['id']))} · "
                             f"{html.escape(it['status'])} · "
                             f"wrong: {html.escape(wrong)}<br><i>Q:</i> {html.escape(it['question'])}")
        self.original.value = f"<i>Agent wrote:</i> {html.escape(it['original'])}"
        self.text.value = it["proposed"]

    def record(self, decision: str) -> None:
        """Store a decision for the current item, save the file, and move on."""
        if self.index >= len(self.items):
            return
        it = self.items[self.index]
        self.decisions[it["id"]] = {"decision": decision, "text": self.text.value, "by": self.reviewer}
        save_decisions(self.path, self.decisions)
        self.index += 1
        self.show()
