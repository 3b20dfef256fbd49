"""Tables for looking at the data in notebook 01: raw records, the planted mess, before/after, flagged answers."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from IPython.display import Image
from matplotlib.figure import Figure

from ..core.display import figure_png

from .cleaning import clean_message, clean_reply
from .pii import redact, score_redaction
from .sources import Ticket, load_tickets


def _short(text: str, n: int = 160) -> str:
    """One line of at most n characters."""
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[:n - 1] + "…"


def raw_preview(tickets: list[Ticket], n: int = 6, every: int = 97) -> pd.DataFrame:
    """A spread of raw records (every ``every``-th), message and reply shortened."""
    rows = [{"id": t.id, "file": t.file, "line": t.line, "message": _short(t.message), "reply": _short(t.reply)}
            for t in tickets[::every][:n]]
    return pd.DataFrame(rows)


def planted_mess(source_dir: str | Path) -> pd.DataFrame:
    """What the generator planted (from ground_truth.json): issue, records, share of tickets."""
    truth = json.loads((Path(source_dir) / "ground_truth.json").read_text(encoding="utf-8"))
    total = truth["tickets"]
    rows = [{"planted": k, "records": v, "share": round(v / total, 3)} for k, v in truth["counts"].items()]
    rows.append({"planted": "malformed records", "records": truth["malformed_count"],
                 "share": round(truth["malformed_count"] / total, 3)})
    return pd.DataFrame(rows)


def before_after(ticket: Ticket) -> pd.DataFrame:
    """One ticket raw, cleaned, and cleaned plus redacted."""
    names = [ticket.customer_name]
    rows = []
    for part, raw, clean in (("message", ticket.message, clean_message(ticket.message)),
                             ("reply", ticket.reply, clean_reply(ticket.reply))):
        rows.append({"part": part, "raw": raw, "cleaned": clean, "redacted": redact(clean, names)[0]})
    return pd.DataFrame(rows)


def pii_score(source_dir: str | Path) -> tuple[dict[str, Any], pd.DataFrame]:
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
    return score, table


def funnel_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The funnel as a DataFrame: source, stage, in, out, removed by reason."""
    return pd.DataFrame([{"source": r["source"], "stage": r["stage"], "in": r["in"], "out": r["out"],
                          "removed": "; ".join(f"{k}: {v}" for k, v in r["removed"].items())} for r in rows])


def flagged_table(flagged: list[dict[str, Any]], per_status: int = 4) -> pd.DataFrame:
    """A few flagged replies of each kind: what the agent wrote, what the catalog makes of it."""
    rows = []
    for status in ("corrected", "contradiction"):
        for f in [f for f in flagged if f["status"] == status][:per_status]:
            rows.append({"id": f["id"], "status": status, "wrong": f["wrong"], "agent wrote": f["original"],
                         "kept as": f["proposed"] if status == "corrected" else "(dropped)"})
    return pd.DataFrame(rows)


def split_table(card: dict[str, Any]) -> pd.DataFrame:
    """Split sizes, tasks and content hashes."""
    return pd.DataFrame([{"split": s, "examples": v["n"], **v["by_task"], "sha256": v["sha256"][:16]}
                         for s, v in card["splits"].items()])


def image(fig: Figure) -> Image:
    """A figure as a PNG image for ``display``."""
    return Image(data=figure_png(fig), format="png")
