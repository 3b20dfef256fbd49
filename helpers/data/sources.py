"""Loaders for the raw exports: every record is kept or quarantined with a reason; every file is accounted for.

A source folder holds ``catalog.json`` and any number of ticket exports. Every entry of the folder gets a
:class:`FileReport`: **read** (a ticket export), **skipped** (another file, with the reason) or **unreadable**
(binary, permission denied, a CSV header without the required columns, a JSON file none of whose records
parses, with the reason).

Ticket exports are recognised by extension (any case: ``TICKETS.CSV`` is read) and then by content:

- ``.csv`` / ``.tsv``: one ticket per row, a header with ``ticket_id``, ``customer_message`` and
  ``agent_reply`` (delimiter ``,``, tab, ``;`` or ``|``, found from the header);
- ``.jsonl`` / ``.ndjson``: one record per line; ``.json``: an array of records or ``{"tickets": [...]}``.
  A record is a chat (``chat_id`` and a ``transcript`` list of ``{from, text}`` turns) or a flat ticket with
  the CSV's fields. Each record is judged on its own (the records of a ``.json`` file are found by matching
  brackets, then parsed one by one): a record that is a list, a number, broken JSON, nested too deeply or an
  object without the expected fields is quarantined with its line number.

Text is decoded as UTF-8 (a byte-order mark is dropped; UTF-16 with a BOM is read too). A UTF-8 file with a few
corrupt records keeps the rest: those records are quarantined as ``bad encoding``. A file with no UTF-8
characters at all is a legacy 8-bit export: it is read as Windows-1252 (the WHATWG fallback for Western
text; Latin-1 is a subset) and its report says so. Other legacy encodings would be misread: re-export as UTF-8.

Guards that keep one bad record from aborting or slowing the whole curation: a record over
:data:`MAX_RECORD_CHARS` characters is quarantined before any regular expression sees it; a CSV field may be
any length; a quoted CSV field that is never closed is cut where the next record starts (found by parsing
each line it swallowed), so only the broken record is quarantined. Ids are unique per folder: a record with
no id, or with an id already read (in this file or an earlier one, by file name), is quarantined with where
the first one is.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .catalog import SCHEMA_FILE

CSV_REQUIRED = ("ticket_id", "customer_message", "agent_reply")
CSV_COLUMNS = ("ticket_id", "created_at", "channel", "customer_name", "customer_email", "product", "subject",
               "customer_message", "agent_name", "agent_reply")
FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
"""Ticket export formats by file extension (compared in lower case)."""
CATALOG = "catalog.json"
MAX_RECORD_CHARS = 100_000
"""Longer records (message plus reply) are quarantined at load, before any cleaning pattern runs on them."""
MAX_ID_CHARS = 200
RAW_CHARS = 2_000
"""How much of a quarantined record's raw text quarantine.jsonl keeps."""
_DELIMITERS = (",", "\t", ";", "|")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_ID_SHAPE = re.compile(r"[A-Za-z]+|\d+")
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]', re.DOTALL)


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
    """A record that could not be used: where it is, why, and (the start of) its raw text."""

    file: str
    line: int
    reason: str
    raw: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for quarantine.jsonl."""
        return asdict(self)


@dataclass
class FileReport:
    """One entry of a source folder: read, skipped or unreadable, why, and how many records it held."""

    file: str
    status: str
    reason: str = ""
    format: str = ""
    encoding: str = ""
    read: int = 0
    quarantined: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the data card."""
        return asdict(self)


@dataclass
class Loaded:
    """What the loaders read: good tickets, quarantined records, and a report per file."""

    tickets: list[Ticket] = field(default_factory=list)
    quarantine: list[Quarantined] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)

    @property
    def read(self) -> int:
        """Records read from all files (each one kept or quarantined)."""
        return sum(f.read for f in self.files)


class UnreadableFile(Exception):
    """A whole file cannot be read as a ticket export; the message says why."""


class NotAnExport(Exception):
    """A readable file that is not a ticket export; the message says why."""


def decode(raw: bytes) -> tuple[str, str]:
    """Text of a file and the encoding it was read with; invalid bytes of a UTF-8 file stay as surrogates."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16 (byte-order mark)"
        except UnicodeDecodeError as err:
            raise UnreadableFile(f"not valid UTF-16 despite its byte-order mark ({err.reason})") from None
    bom = ", byte-order mark dropped" if raw.startswith(codecs.BOM_UTF8) else ""
    raw = raw[len(codecs.BOM_UTF8):] if bom else raw
    if b"\x00" in raw[:8192]:
        raise UnreadableFile("binary content (NUL bytes), not a text export (UTF-16 needs a byte-order mark)")
    try:
        return raw.decode("utf-8"), f"utf-8{bom}"
    except UnicodeDecodeError:
        pass
    if _UTF8_MULTIBYTE.search(raw):
        return raw.decode("utf-8", "surrogateescape"), f"utf-8 (some records are not valid UTF-8{bom})"
    try:
        return raw.decode("cp1252"), "cp1252 (no UTF-8 characters found: read as Windows-1252)"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1 (no UTF-8 characters found: read as ISO-8859-1)"


def _printable(text: str) -> str:
    """(The start of) raw text, safe to store in JSON: undecodable bytes and lone surrogates shown as U+FFFD."""
    if len(text) > RAW_CHARS:
        text = f"{text[:RAW_CHARS]}… ({len(text) - RAW_CHARS} more characters)"
    return _SURROGATE.sub("\ufffd", text)


def _text(value: Any) -> str:
    """A field value as text ('' for a missing or null value)."""
    return "" if value is None else value if isinstance(value, str) else str(value)


def _id_problem(value: Any, name: str) -> str | None:
    """Why a record id is unusable, or None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return f"missing field(s) {name}"
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return f"bad id ({name} is a {type(value).__name__}, not text or a number)"
    text = str(value).strip()
    if len(text) > MAX_ID_CHARS or _CONTROL.search(text):
        return f"bad id ({name} is over {MAX_ID_CHARS} characters or holds control characters)"
    return None


def _ticket(fields: dict[str, Any], file: str, line: int) -> Ticket | str:
    """A Ticket from a flat record (the CSV's fields), or the reason it is not valid."""
    problem = _id_problem(fields.get("ticket_id"), "ticket_id")
    if problem:
        return problem
    for name in ("customer_message", "agent_reply"):
        if not isinstance(fields.get(name), (str, type(None))):
            return f"{name} is not text"
    if not (fields.get("customer_message") or "").strip():
        return "missing field(s) customer_message"
    return Ticket(str(fields["ticket_id"]).strip(), file, line, fields["customer_message"],
                  _text(fields.get("agent_reply")), _text(fields.get("customer_name")),
                  _text(fields.get("customer_email")), _text(fields.get("product")).strip(),
                  _text(fields.get("agent_name")))


def _chat(obj: dict[str, Any], file: str, line: int) -> Ticket | str:
    """A Ticket from one chat object (the customer's turns and the last agent reply), or why it is not valid."""
    missing = [k for k in ("chat_id", "transcript") if k not in obj]
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    problem = _id_problem(obj["chat_id"], "chat_id")
    if problem:
        return problem
    turns = obj["transcript"]
    if not isinstance(turns, list) or not all(isinstance(t, dict) and isinstance(t.get("text"), str) for t in turns):
        return "transcript is not a list of turns with text"
    customer = [t["text"] for t in turns if t.get("from") == "customer"]
    if not any(c.strip() for c in customer):
        return "no customer turn"
    first = next(i for i, t in enumerate(turns) if t.get("from") == "customer")
    agent = [t for t in turns[first:] if t.get("from") == "agent"]
    last = agent[-1] if agent else {}
    who = obj.get("customer") if isinstance(obj.get("customer"), dict) else {}
    return Ticket(str(obj["chat_id"]).strip(), file, line, "\n\n".join(customer), last.get("text", ""),
                  _text(who.get("name")), _text(who.get("email")), _text(obj.get("product")).strip(),
                  _text(last.get("name")))


def _record(obj: Any, file: str, line: int, kind: str) -> Ticket | str:
    """A Ticket from one JSON record (a chat or a flat ticket), or why it is not valid."""
    if not isinstance(obj, dict):
        return f"not a JSON object (a {type(obj).__name__})"
    if "transcript" in obj:
        return _chat(obj, file, line)
    if "customer_message" in obj:
        return _ticket(obj, file, line)
    return "missing field(s) transcript" if kind == "chat" else "missing field(s) customer_message"


def _kind(objects: list[Any]) -> str | None:
    """'chat' or 'ticket', whichever shape most records have; None when no record has either."""
    chats = sum(isinstance(o, dict) and "transcript" in o for o in objects)
    tickets = sum(isinstance(o, dict) and "customer_message" in o for o in objects)
    return None if not chats and not tickets else "chat" if chats >= tickets else "ticket"


def _parse_json(text: str) -> tuple[Any, str | None]:
    """The parsed value, or None and why it does not parse."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as err:
        return None, f"broken JSON ({err.msg} at line {err.lineno} column {err.colno})"
    except RecursionError:
        return None, "broken JSON (nested too deeply)"


def _checked(item: Ticket | str) -> Ticket | str:
    """The ticket, or why it cannot be used: over MAX_RECORD_CHARS characters, or text that is not valid Unicode
    (a lone surrogate from an escape such as \\ud83d, which no UTF-8 file can hold)."""
    if isinstance(item, str):
        return item
    if len(item.message) + len(item.reply) > MAX_RECORD_CHARS:
        return f"oversize record ({len(item.message) + len(item.reply)} characters, at most {MAX_RECORD_CHARS})"
    if any(_SURROGATE.search(v) for v in vars(item).values() if isinstance(v, str)):
        return "bad encoding (invalid Unicode escape: a lone surrogate)"
    return item


def _add(out: Loaded, report: FileReport, item: Ticket | str, line: int, raw: str) -> None:
    """Keep a ticket, or quarantine the record with its reason; count it in the file's report."""
    report.read += 1
    item = _checked(item)
    if isinstance(item, str):
        report.quarantined += 1
        out.quarantine.append(Quarantined(report.file, line, item, _printable(raw)))
    else:
        out.tickets.append(item)


class _Lines:
    """Physical lines fed to a csv.reader, from a position that may be moved between records."""

    def __init__(self, lines: list[str], pos: int, stop: int | None = None):
        self.lines, self.pos, self.stop = lines, pos, len(lines) if stop is None else stop

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        if self.pos >= self.stop:
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def _id_shape(value: str) -> str:
    """The shape of an id: runs of letters and of digits replaced ('T-100005' -> 'a-9')."""
    return _ID_SHAPE.sub(lambda m: "a" if m.group()[0].isalpha() else "9", value)


def _starts_record(lines: list[str], j: int, delimiter: str, header: list[str], shape: str | None,
                   stop: int) -> bool:
    """Whether a complete, valid record starts at line j (with an id shaped like the file's first good id)."""
    if delimiter not in lines[j]:
        return False
    row = next(csv.reader(_Lines(lines, j, min(len(lines), stop)), delimiter=delimiter), None)
    if row is None or len(row) != len(header):
        return False
    rec = dict(zip(header, row))
    rid = rec["ticket_id"].strip()
    return (bool(rid) and not re.search(r"\s", rid) and bool(rec["customer_message"].strip())
            and (shape is None or _id_shape(rid) == shape))


def _csv_rows(lines: list[str], delimiter: str, header: list[str]) -> Iterator[tuple[int, list[str] | str, str]]:
    """Every record after the header: (index of its first line, its fields or why it is broken, raw text).

    A record that spans several lines is checked for an unterminated quote: if a complete record starts on
    one of the lines it swallowed, it is cut there and reading goes on from that line.
    """
    feed = _Lines(lines, 1)
    reader = csv.reader(feed, delimiter=delimiter)
    shape = None
    while feed.pos < len(lines):
        first = feed.pos
        try:
            row: list[str] | str | None = next(reader, None)
        except csv.Error as err:
            row = f"unreadable CSV record ({err})"
        if row is None:
            return
        end = feed.pos
        cut = next((j for j in range(first + 1, end)
                    if _starts_record(lines, j, delimiter, header, shape, end + 200)), None)
        if cut is not None:
            feed.pos = cut
            yield first, f"unterminated quote (the record runs into line {cut + 1})", "".join(lines[first:cut])
            continue
        if shape is None and isinstance(row, list) and len(row) == len(header):
            shape = _id_shape(row[header.index("ticket_id")].strip()) or None
        yield first, row, "".join(lines[first:end])


def _csv_header(first_line: str, file: str) -> tuple[str, list[str]]:
    """The delimiter (the one that makes the header name customer_message) and the header in lower case."""
    for delimiter in _DELIMITERS:
        header = [h.strip().lower() for h in next(csv.reader([first_line], delimiter=delimiter), [])]
        if "customer_message" in header:
            missing = [c for c in CSV_REQUIRED if c not in header]
            if missing:
                raise UnreadableFile(f"{file}: line 1 (header) lacks column(s) {', '.join(missing)}; expected a "
                                     f"ticket export with {', '.join(CSV_COLUMNS)}")
            return delimiter, header
    raise NotAnExport("its header has no customer_message column")


def _read_csv(text: str, report: FileReport, out: Loaded) -> None:
    """Tickets from CSV or TSV text; rows with bad encoding, wrong column count or missing fields are quarantined."""
    lines = list(io.StringIO(text, newline=""))
    if not lines or not lines[0].strip():
        raise NotAnExport("empty file")
    delimiter, header = _csv_header(lines[0], report.file)
    limit = csv.field_size_limit(sys.maxsize)
    try:
        for first, row, raw in _csv_rows(lines, delimiter, header):
            if row == []:
                continue
            if isinstance(row, str):
                item: Ticket | str = row
            elif len(row) != len(header):
                item = f"wrong number of columns ({len(row)} instead of {len(header)})"
            elif _SURROGATE.search(raw):
                item = "bad encoding (not valid UTF-8)"
            else:
                item = _ticket(dict(zip(header, row)), report.file, first + 1)
            _add(out, report, item, first + 1, raw)
    finally:
        csv.field_size_limit(limit)


def _jsonl_items(text: str) -> list[tuple[int, str]]:
    """(line, raw text) of every non-blank line."""
    return [(number, raw.rstrip("\r")) for number, raw in enumerate(text.split("\n"), start=1) if raw.strip()]


def _json_items(text: str) -> list[tuple[int, str]]:
    """(line, raw text) of every record of a JSON array, or of the "tickets" array of a JSON object.

    Records are found by matching brackets outside strings, not by parsing the whole file, so that each one is
    parsed (and quarantined) on its own: a broken or too deeply nested record does not take the others with it.
    """
    top_is_object = text.lstrip().startswith("{")
    depth, target, key, last, begin, spans = 0, None, None, None, 0, []
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group()
        if target is None and tok == "[" and (depth == 0 and not top_is_object or depth == 1 and top_is_object
                                              and last == ":" and key == '"tickets"'):
            target, begin = depth + 1, m.end()
        if tok in "[{":
            depth += 1
        elif tok in "]}":
            depth -= 1
            if target is not None and depth == target - 1:
                spans.append((begin, m.start()))
                break
        elif target is not None and tok == "," and depth == target:
            spans.append((begin, m.end() - 1))
            begin = m.end()
        elif target is None and depth == 1 and tok.startswith('"') and last in ("{", ","):
            key = tok
        last = tok
    else:
        if target is not None:
            spans.append((begin, len(text)))
    if target is None:
        raise NotAnExport('not a JSON array of records, nor an object with a "tickets" array')
    items, line, counted = [], 1, 0
    for start, end in spans:
        raw = text[start:end]
        if raw.strip():
            offset = start + len(raw) - len(raw.lstrip())
            line += text.count("\n", counted, offset)
            counted = offset
            items.append((line, raw.strip()))
    return items


def _read_json_records(items: list[tuple[int, str]], report: FileReport, out: Loaded) -> None:
    """Judge each JSON record (a chat or a flat ticket) on its own; a file with none is not a ticket export."""
    parsed = [(line, raw, *((None, "bad encoding (not valid UTF-8)") if _SURROGATE.search(raw) else _parse_json(raw)))
              for line, raw in items]
    kind = _kind([value for _, _, value, error in parsed if error is None])
    if kind is None and parsed and all(error for *_, error in parsed):
        raise UnreadableFile(f"none of its {len(parsed)} records can be read (line {parsed[0][0]}: {parsed[0][3]})")
    if kind is None:
        raise NotAnExport(f"none of its {len(parsed)} records is a chat (with a transcript) or a ticket "
                          "(with a customer_message)")
    for line, raw, value, error in parsed:
        _add(out, report, error or _record(value, report.file, line, kind), line, raw)


def _read_jsonl(text: str, report: FileReport, out: Loaded) -> None:
    """Tickets from JSON Lines text; each line is judged on its own."""
    _read_json_records(_jsonl_items(text), report, out)


def _read_json(text: str, report: FileReport, out: Loaded) -> None:
    """Tickets from a JSON array of records or {"tickets": [...]}; each record is judged on its own."""
    _read_json_records(_json_items(text), report, out)


_READERS = {"csv": _read_csv, "jsonl": _read_jsonl, "json": _read_json}


def read_export(path: Path) -> Loaded:
    """One entry of a source folder: its records (kept or quarantined) and its report."""
    out = Loaded()
    fmt = FORMATS.get(path.suffix.lower())
    report = FileReport(path.name, "read", format=fmt or "")
    out.files.append(report)
    if path.is_dir():
        report.status, report.reason = "skipped", "a folder (exports are read from the top level only)"
    elif path.name.lower() == CATALOG:
        report.status, report.reason = "skipped", "the product catalog (read separately)"
    elif path.name.lower() == SCHEMA_FILE:
        report.status, report.reason = "skipped", "the catalog's field declarations (read separately)"
    elif fmt is None:
        report.status = "skipped"
        report.reason = f"not an export format ({path.suffix or 'no extension'}; read: {', '.join(FORMATS)})"
    else:
        try:
            text, report.encoding = decode(path.read_bytes())
            _READERS[fmt](text, report, out)
        except OSError as err:
            report.status, report.reason = "unreadable", f"cannot be read ({err.strerror or err})"
        except UnreadableFile as err:
            report.status, report.reason = "unreadable", str(err)
        except NotAnExport as err:
            report.status, report.reason = "skipped", f"not a ticket export: {err}"
    return out


def _unique_ids(loaded: Loaded) -> Loaded:
    """The same records with every repeated id quarantined (the first record with an id keeps it)."""
    first: dict[str, Ticket] = {}
    reports = {f.file: f for f in loaded.files}
    kept = []
    for t in loaded.tickets:
        if t.id in first:
            seen = first[t.id]
            loaded.quarantine.append(Quarantined(t.file, t.line, f"duplicate id (first at {seen.file}:{seen.line})",
                                                 _printable(f"{t.id}: {t.message}")))
            reports[t.file].quarantined += 1
        else:
            first[t.id] = t
            kept.append(t)
    loaded.tickets = kept
    return loaded


def load_tickets(source_dir: str | Path) -> Loaded:
    """Every entry of a source folder (sorted by name): ticket exports read, the rest reported as skipped."""
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise FileNotFoundError(f"{source_dir}: source folder not found; give the folder that holds catalog.json "
                                "and the ticket exports")
    out = Loaded()
    for path in sorted(source_dir.iterdir()):
        one = read_export(path)
        out.tickets += one.tickets
        out.quarantine += one.quarantine
        out.files += one.files
    if not out.read:
        found = "; ".join(f"{f.file}: {f.status} ({f.reason})" for f in out.files) or "nothing"
        raise FileNotFoundError(f"{source_dir}: no ticket record found (a CSV/TSV with ticket_id, customer_message "
                                f"and agent_reply columns, or JSON/JSONL chats with a transcript). Found: {found}")
    return _unique_ids(out)


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
