"""Reviewing what curation decided: approve, edit or reject each item; headless, a rule decides.

A **flagged** item is a support reply that contradicted the catalog: either corrected from the catalog
(the rule approves the correction) or not correctable (the rule rejects it). Without a ground truth to score
redaction and filtering against, a person checks **samples** instead, stratified so that every kind shows up:

* a redaction item (``redaction:<ticket id>:<message|reply>``, a few per placeholder type): approve keeps the
  redacted text, edit replaces it (restore a value wrongly redacted, redact one that leaked), reject leaves the
  ticket out of training;
* a removal item (``removal:<ticket id>``, a few per reason of the quality and dedup stages): approve or reject
  leaves it removed, edit keeps the ticket after all, with the edited text as its message (a message the
  language detector misjudged, say); it still has to pass grounding like every other ticket.

Decisions are stored in ``<run>/data/review.json`` and applied by the next curation.
"""
from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from .cleaning import clean_message, clean_reply
from .pii import placeholder_counts, redact
from .sources import Ticket

DECISIONS = ("approve", "edit", "reject")
REVIEWED_STAGES = ("quality", "dedup")
"""Stages whose removals a person can overrule (load rejects are in the quarantine with their raw text; grounding
removals protect the facts: a reply the checker cannot read is fixed in the catalog's schema, not overruled)."""


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


def redaction_key(ticket_id: str, part: str) -> str:
    """The review id of one part ('message' or 'reply') of a ticket as redacted."""
    return f"redaction:{ticket_id}:{part}"


def removal_key(ticket_id: str) -> str:
    """The review id of a removed ticket."""
    return f"removal:{ticket_id}"


def reviewed_text(decisions: dict[str, dict[str, Any]], key: str, text: str) -> str | None:
    """The text after a person's decision on a sample item: their edit, None when rejected, else ``text``."""
    decision = decisions.get(key)
    if decision is None or decision["decision"] == "approve":
        return text
    return decision["text"] if decision["decision"] == "edit" else None


def kept_by_review(decisions: dict[str, dict[str, Any]], ticket_id: str) -> str | None:
    """The message a person kept a removed ticket with (their edit of a removal item), or None."""
    decision = decisions.get(removal_key(ticket_id))
    return decision["text"] if decision and decision["decision"] == "edit" else None


def _prepared(ticket: Ticket) -> dict[str, tuple[str, str]]:
    """Each part of a ticket cleaned, and cleaned then redacted."""
    out = {}
    for part, text in (("message", clean_message(ticket.message)), ("reply", clean_reply(ticket.reply))):
        out[part] = (text, redact(text, [ticket.customer_name])[0])
    return out


def _spread(groups: dict[str, list[Any]], per_group: int, seed: int) -> list[Any]:
    """Up to ``per_group`` members of every group, drawn with a fixed seed, groups in name order."""
    rng = random.Random(seed)
    return [x for name in sorted(groups) for x in rng.sample(groups[name], min(per_group, len(groups[name])))]


def redaction_items(tickets: Iterable[Ticket], per_type: int = 3, seed: int = 0) -> list[dict[str, Any]]:
    """Review items for a stratified sample of redactions: up to ``per_type`` ticket parts per placeholder type."""
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in tickets:
        for part, (clean, redacted) in _prepared(t).items():
            if clean == redacted:
                continue
            types = sorted(placeholder_counts(redacted))
            item = {"id": redaction_key(t.id, part), "status": "redaction", "note": "redacted: " + ", ".join(types),
                    "where": f"{t.file}:{t.line}", "question": "", "original_label": f"The {part}, before redaction",
                    "original": clean, "proposed": redacted, "wrong": {}}
            for kind in types:
                by_type[kind].append(item)
    picked = _spread(by_type, per_type, seed)
    return list({item["id"]: item for item in picked}.values())


def removal_items(removed: Iterable[dict[str, Any]], tickets: Iterable[Ticket], per_reason: int = 2,
                  seed: int = 0) -> list[dict[str, Any]]:
    """Review items for a stratified sample of removed tickets: up to ``per_reason`` per reason of removal."""
    by_id = {t.id: t for t in tickets}
    by_reason: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in removed:
        if row["source"] == "ticket" and row["stage"] in REVIEWED_STAGES and row["id"] in by_id:
            by_reason[row["reason"].split(" (")[0]].append(row)
    items = []
    for row in _spread(by_reason, per_reason, seed):
        t = by_id[row["id"]]
        prepared = _prepared(t)
        items.append({"id": removal_key(t.id), "status": f"removed at {row['stage']}", "note": row["reason"],
                      "where": f"{t.file}:{t.line}", "question": prepared["message"][1], "original_label": "Agent wrote",
                      "original": prepared["reply"][1], "proposed": prepared["message"][1], "wrong": {}})
    return items


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
        detail = it.get("note") or "wrong: " + ", ".join(f"{k}: {v}" for k, v in it["wrong"].items())
        asked = f"<br><i>Q:</i> {html.escape(it['question'])}" if it["question"] else ""
        where = f" ({html.escape(it['where'])})" if it.get("where") else ""
        self.header.value = (f"<b>{done}/{len(self.items)} decided</b> · item {html.escape(str(it['id']))}{where} · "
                             f"{html.escape(it['status'])} · {html.escape(detail)}{asked}")
        label = it.get("original_label", "Agent wrote")
        self.original.value = f"<i>{html.escape(label)}:</i> {html.escape(it['original'])}"
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
