"""Tables for looking at the data in notebook 01: raw records, the planted mess, before/after, flagged answers.

Every table holds customer text, so every helper returns it through :func:`helpers.core.display.text_table`
(escaped: shown as text, never as markup); the DataFrame itself is the Styler's ``.data``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import Image
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from ..core.display import figure_png, text_table
from .cleaning import clean_message, clean_reply
from .pii import redact, score_redaction
from .sources import Quarantined, Ticket, load_tickets


_HTML = re.compile(r"</[a-zA-Z][a-zA-Z0-9]*\s*>|<br\s*/?>", re.I)
"""A closing tag or a line break: markup as exports carry it (an address in angle brackets is not)."""


def _short(text: str, n: int = 160) -> str:
    """One line of at most n characters."""
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[:n - 1] + "…"


def raw_preview(tickets: list[Ticket], n: int = 6, every: int = 97) -> Styler:
    """A spread of raw records (every ``every``-th), message and reply shortened."""
    rows = [{"id": t.id, "file": t.file, "line": t.line, "message": _short(t.message), "reply": _short(t.reply)}
            for t in tickets[::every][:n]]
    return text_table(pd.DataFrame(rows))


def files_table(files: list[dict[str, Any]]) -> Styler:
    """Every entry of the source folder: status, format, encoding, counts and the reason it was skipped."""
    return text_table(pd.DataFrame(files).fillna(""))


def quarantine_table(quarantine: list[Quarantined], n: int = 2) -> Styler:
    """The first n quarantined records of each kind of reason: file, line, reason and the start of the raw text."""
    seen: dict[str, int] = {}
    rows = []
    for q in quarantine:
        kind = q.reason.split(" (")[0]
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= n:
            rows.append({**q.to_dict(), "raw": _short(q.raw, 200)})
    return text_table(pd.DataFrame(rows, columns=["file", "line", "reason", "raw"]))


def planted_mess(source_dir: str | Path) -> Styler:
    """What the generator planted (from ground_truth.json): issue, records, share of tickets."""
    truth = json.loads((Path(source_dir) / "ground_truth.json").read_text(encoding="utf-8"))
    total = truth["tickets"]
    rows = [{"planted": k, "records": v, "share": round(v / total, 3)} for k, v in truth["counts"].items()]
    rows.append({"planted": "malformed records", "records": truth["malformed_count"],
                 "share": round(truth["malformed_count"] / total, 3)})
    return text_table(pd.DataFrame(rows))


def showcase_ticket(tickets: list[Ticket], look_at: int = 300) -> Ticket:
    """A ticket that shows what cleaning and redaction do: of the first ``look_at`` with HTML markup (else of the
    first ``look_at``), the one whose message holds the most kinds of personal data."""
    marked = [t for t in tickets if _HTML.search(t.message)] or tickets
    return max(marked[:look_at], key=lambda t: len({s.type for s in redact(clean_message(t.message),
                                                                            [t.customer_name])[1]}))


def before_after(ticket: Ticket) -> Styler:
    """One ticket raw, cleaned, and cleaned plus redacted."""
    names = [ticket.customer_name]
    rows = []
    for part, raw, clean in (("message", ticket.message, clean_message(ticket.message)),
                             ("reply", ticket.reply, clean_reply(ticket.reply))):
        rows.append({"part": part, "raw": raw, "cleaned": clean, "redacted": redact(clean, names)[0]})
    return text_table(pd.DataFrame(rows), wrap=True)


def pii_score(source_dir: str | Path) -> tuple[dict[str, Any], Styler]:
    """Redaction recall and precision against the planted PII, and a table by type."""
    source_dir = Path(source_dir)
    truth = json.loads((source_dir / "ground_truth.json").read_text(encoding="utf-8"))["records"]
    texts = []
    for t in load_tickets(source_dir).tickets:
        planted = truth.get(t.id, [{"pii": []}])[0]["pii"]
        texts += [(t.message, [t.customer_name], planted), (t.reply, [t.customer_name], planted)]
    score = score_redaction(texts)
    table = pd.DataFrame([{"type": k, "planted": v["planted"], "found": v["found"],
                           "recall": round(v["found"] / v["planted"], 4)} for k, v in score["by_type"].items()])
    return score, text_table(table)


def pii_cases_table(score: dict[str, Any]) -> Styler:
    """Recall and precision per type on a labelled case set (:func:`helpers.data.pii.score_cases`)."""
    return text_table(pd.DataFrame([{"type": k, "values": v["values"], "found": v["found"], "recall": v["recall"],
                                     "detected": v["detected"], "precision": v["precision"]}
                                    for k, v in score["by_type"].items()]))


def redaction_table(items: list[dict[str, Any]]) -> Styler:
    """Sampled redactions (:func:`helpers.data.review.redaction_items`) for a person to check: before and after."""
    return text_table(pd.DataFrame([{"item": it["id"], "redacted": it["note"][len("redacted: "):], "where": it["where"],
                                     "before": it["original"], "after": it["proposed"]} for it in items],
                                   columns=["item", "redacted", "where", "before", "after"]), wrap=True)


def removal_table(items: list[dict[str, Any]]) -> Styler:
    """Sampled removed tickets (:func:`helpers.data.review.removal_items`) for a person to check, by reason."""
    return text_table(pd.DataFrame([{"item": it["id"], "reason": it["note"], "where": it["where"],
                                     "message": it["question"], "reply": it["original"]} for it in items],
                                   columns=["item", "reason", "where", "message", "reply"]), wrap=True)


def funnel_table(rows: list[dict[str, Any]]) -> Styler:
    """The funnel as a table: source, stage, in, out, removed by reason."""
    return text_table(pd.DataFrame([{"source": r["source"], "stage": r["stage"], "in": r["in"], "out": r["out"],
                          "removed": "; ".join(f"{k}: {v}" for k, v in r["removed"].items())} for r in rows]))


def flagged_table(flagged: list[dict[str, Any]], per_status: int = 4) -> Styler:
    """A few flagged replies of each kind: what the agent wrote, what the catalog makes of it."""
    rows = []
    for status in ("corrected", "contradiction"):
        for f in [f for f in flagged if f["status"] == status][:per_status]:
            rows.append({"id": f["id"], "status": status, "wrong": f["wrong"], "agent wrote": f["original"],
                         "kept as": f["proposed"] if status == "corrected" else "(dropped)"})
    return text_table(pd.DataFrame(rows), wrap=True)


def split_table(card: dict[str, Any]) -> Styler:
    """Split sizes, tasks and content hashes."""
    return text_table(pd.DataFrame([{"split": s, "examples": v["n"], **v["by_task"], "sha256": v["sha256"][:16]}
                         for s, v in card["splits"].items()]))


def image(fig: Figure) -> Image:
    """A figure as a PNG image for ``display``."""
    return Image(data=figure_png(fig), format="png")
