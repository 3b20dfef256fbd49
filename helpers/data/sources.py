"""Loaders for the raw exports: every record is validated; a bad one is quarantined, never dropped.

Ticket exports come in two shapes, recognised by their content rather than their file name:
a CSV with a ``customer_message`` column (one ticket per row) and a JSONL of chat transcripts
(objects with a ``transcript`` list). Each loader returns the good records as :class:`Ticket`
and the bad ones as :class:`Quarantined` with file, line and reason.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CSV_REQUIRED = ("ticket_id", "customer_message", "agent_reply")
CSV_COLUMNS = ("ticket_id", "created_at", "channel", "customer_name", "customer_email", "product", "subject",
               "customer_message", "agent_name", "agent_reply")


@dataclass
class Ticket:
    """One support exchange: what the customer wrote and what the agent replied."""

    id: str
    file: str
    line: int
    message: str
    reply: str
    customer_name: str = ""
    customer_email: str = ""
    product: str = ""
    agent_name: str = ""


@dataclass
class Quarantined:
    """A record that could not be read: where it is, why, and its raw text."""

    file: str
    line: int
    reason: str
    raw: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for quarantine.jsonl."""
        return asdict(self)


@dataclass
class Loaded:
    """What a loader read: good tickets, quarantined records, and the number of records read."""

    tickets: list[Ticket] = field(default_factory=list)
    quarantine: list[Quarantined] = field(default_factory=list)
    read: int = 0

    def extend(self, other: "Loaded") -> None:
        """Add another file's results."""
        self.tickets += other.tickets
        self.quarantine += other.quarantine
        self.read += other.read


def _decode(raw: bytes) -> tuple[str, bool]:
    """Text of raw bytes (undecodable bytes kept as surrogates) and whether it was valid UTF-8."""
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="surrogateescape"), False


def _printable(text: str) -> str:
    """Raw text safe to store in JSON (undecodable bytes shown as U+FFFD)."""
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")


def load_tickets_csv(path: Path) -> Loaded:
    """Tickets from a CSV export; rows with bad encoding, wrong column count or missing fields are quarantined."""
    text, _ = _decode(path.read_bytes())
    out = Loaded()
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return out
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise ValueError(f"{path}: line 1 (header) lacks column(s) {', '.join(missing)}; "
                         f"expected a ticket export with {', '.join(CSV_COLUMNS)}")
    line = reader.line_num + 1
    for row in reader:
        start, line = line, reader.line_num + 1
        if not row:
            continue
        out.read += 1
        raw = ",".join(row)
        reason = None
        if len(row) != len(header):
            reason = f"wrong number of columns ({len(row)} instead of {len(header)})"
        elif any("\udc80" <= ch <= "\udcff" for ch in raw):
            reason = "bad encoding (not valid UTF-8)"
        else:
            rec = dict(zip(header, row))
            empty = [c for c in ("ticket_id", "customer_message") if not rec[c].strip()]
            if empty:
                reason = f"missing field(s) {', '.join(empty)}"
        if reason:
            out.quarantine.append(Quarantined(path.name, start, reason, _printable(raw)))
            continue
        out.tickets.append(Ticket(rec["ticket_id"].strip(), path.name, start, rec["customer_message"],
                                  rec["agent_reply"], rec.get("customer_name", ""), rec.get("customer_email", ""),
                                  rec.get("product", "").strip(), rec.get("agent_name", "")))
    return out


def _chat_ticket(obj: Any, file: str, line: int) -> Ticket | str:
    """A Ticket from one chat object, or the reason it is not valid."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    missing = [k for k in ("chat_id", "transcript") if k not in obj]
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    turns = obj["transcript"]
    if not isinstance(turns, list) or not all(isinstance(t, dict) and isinstance(t.get("text"), str) for t in turns):
        return "transcript is not a list of turns with text"
    customer = [t["text"] for t in turns if t.get("from") == "customer"]
    if not customer or not any(c.strip() for c in customer):
        return "no customer turn"
    agent = [t for t in turns if t.get("from") == "agent"]
    last_agent = agent[-1] if agent and turns.index(agent[-1]) > turns.index(
        next(t for t in turns if t.get("from") == "customer")) else None
    who = obj.get("customer") if isinstance(obj.get("customer"), dict) else {}
    return Ticket(str(obj["chat_id"]), file, line, "\n\n".join(customer), last_agent["text"] if last_agent else "",
                  str(who.get("name") or ""), str(who.get("email") or ""), str(obj.get("product") or ""),
                  str(last_agent.get("name", "")) if last_agent else "")


def load_chats_jsonl(path: Path) -> Loaded:
    """Chats from a JSONL export; broken JSON, bad encoding and invalid objects are quarantined."""
    out = Loaded()
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            out.read += 1
            text, valid = _decode(raw.rstrip(b"\r\n"))
            if not valid:
                out.quarantine.append(Quarantined(path.name, number, "bad encoding (not valid UTF-8)", _printable(text)))
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as err:
                out.quarantine.append(Quarantined(path.name, number, f"broken JSON ({err.msg})", text))
                continue
            ticket = _chat_ticket(obj, path.name, number)
            if isinstance(ticket, str):
                out.quarantine.append(Quarantined(path.name, number, ticket, text))
            else:
                out.tickets.append(ticket)
    return out


def _is_chat_export(path: Path) -> bool:
    """Whether a JSONL file holds chat transcripts (its first parseable object has a transcript)."""
    with open(path, "rb") as fh:
        for raw in fh:
            try:
                obj = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            return isinstance(obj, dict) and "transcript" in obj
    return False


def _is_ticket_csv(path: Path) -> bool:
    """Whether a CSV file is a ticket export (its header names customer_message)."""
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        return "customer_message" in fh.readline()


def ticket_files(source_dir: Path) -> list[Path]:
    """The ticket and chat exports in a folder, recognised by content, sorted by name."""
    files = [p for p in sorted(source_dir.glob("*.csv")) if _is_ticket_csv(p)]
    files += [p for p in sorted(source_dir.glob("*.jsonl")) if _is_chat_export(p)]
    if not files:
        raise FileNotFoundError(f"{source_dir}: no ticket export found (a CSV with a customer_message column "
                                "or a JSONL of chats with a transcript list)")
    return sorted(files)


def load_tickets(source_dir: str | Path) -> Loaded:
    """All ticket and chat exports of a source folder."""
    out = Loaded()
    for path in ticket_files(Path(source_dir)):
        out.extend(load_tickets_csv(path) if path.suffix == ".csv" else load_chats_jsonl(path))
    return out


def load_bitext(path: str | Path) -> tuple[list[dict[str, str]], list[Quarantined]]:
    """Bitext utterances (utterance, intent, category) from a CSV; rows without both are quarantined."""
    path = Path(path)
    rows, bad = [], []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            utterance, intent = (row.get("utterance") or "").strip(), (row.get("intent") or "").strip()
            if not utterance or not intent:
                bad.append(Quarantined(path.name, reader.line_num, "missing utterance or intent", json.dumps(row)))
            else:
                rows.append({"utterance": utterance, "intent": intent, "category": row.get("category", "")})
    return rows, bad
