"""Loaders: every record is kept or quarantined with file, line and reason; every file is listed; nothing aborts."""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from helpers.data import sources
from helpers.data.sources import MAX_RECORD_CHARS, Loaded, load_bitext, load_tickets

HEADER = "ticket_id,created_at,channel,customer_name,customer_email,product,subject,customer_message,agent_name,agent_reply\n"


def _row(tid: str, message: str = "What is the wattage?", reply: str = "It is 650 W.") -> str:
    """One CSV ticket row (message and reply quoted)."""
    return f'{tid},2023-01-01,email,Ann Lee,a@x.example,VX-PS-1000,Q,"{message}",Bo,"{reply}"\n'


def _chat(cid: object, text: str = "Q?", reply: str = "A.") -> dict:
    """One chat object."""
    return {"chat_id": cid, "customer": {"name": "Ann"}, "product": None,
            "transcript": [{"from": "agent", "text": "Hi!"}, {"from": "customer", "text": text},
                           {"from": "agent", "name": "Bo", "text": reply}]}


def _load(tmp_path: Path, files: dict[str, str | bytes]) -> Loaded:
    """Write the files into a source folder and load it."""
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return load_tickets(tmp_path)


def _report(loaded: Loaded, name: str) -> sources.FileReport:
    return next(f for f in loaded.files if f.file == name)


def _accounted(loaded: Loaded) -> None:
    """Every record read is kept or quarantined, per file and in total."""
    kept = Counter(t.file for t in loaded.tickets)
    quarantined = Counter(q.file for q in loaded.quarantine)
    for f in loaded.files:
        assert f.read == kept[f.file] + quarantined[f.file] and f.quarantined == quarantined[f.file], f
    assert loaded.read == len(loaded.tickets) + len(loaded.quarantine)


def _reasons(loaded: Loaded) -> list[tuple[int, str]]:
    return [(q.line, q.reason.split(" (")[0]) for q in loaded.quarantine]


def test_csv_quarantines_bad_rows_with_their_line(tmp_path: Path) -> None:
    good = 'T-1,2023-01-01,email,Zoë Lee,a@x.example,VX-PS-1000,Q,"line one\nline two",Bo,The answer.\n'
    out = _load(tmp_path, {"t.csv": (HEADER + good + "T-2,2023,email\n" + ',2023,email,A,b,c,d,msg,e,f\n').encode()
                           + 'T-4,2023,email,J\xfcrgen,b,c,d,msg,e,f\n'.encode("latin-1")
                           + good.replace("T-1", "T-5").encode()})
    _accounted(out)
    assert out.read == 5 and [t.id for t in out.tickets] == ["T-1", "T-5"]
    assert out.tickets[0].message == "line one\nline two" and out.tickets[1].line == 7
    assert _reasons(out) == [(4, "wrong number of columns"), (5, "missing field(s) ticket_id"), (6, "bad encoding")]
    assert "J\ufffdrgen" in out.quarantine[2].raw
    assert _report(out, "t.csv").encoding.startswith("utf-8 (some records are not valid")


def test_csv_headers_without_the_required_columns_are_reported(tmp_path: Path) -> None:
    out = _load(tmp_path, {"notes.csv": "id,text\n1,hello\n", "partial.csv": "customer_message,agent_reply\nQ?,A.\n",
                           "t.csv": HEADER + _row("T-1")})
    assert [t.id for t in out.tickets] == ["T-1"]
    notes, partial = _report(out, "notes.csv"), _report(out, "partial.csv")
    assert notes.status == "skipped" and "no customer_message column" in notes.reason
    assert partial.status == "unreadable" and "lacks column(s) ticket_id" in partial.reason


def test_jsonl_quarantines_broken_and_invalid_lines(tmp_path: Path) -> None:
    lines = [json.dumps(_chat("C-1")), '{"chat_id": "C-2", "transcr', json.dumps({"chat_id": "C-3"}),
             json.dumps({"chat_id": "C-4", "transcript": "text"}), "", json.dumps(_chat("C-5"))]
    out = _load(tmp_path, {"c.jsonl": "\n".join(lines) + "\n"})
    _accounted(out)
    assert out.read == 5 and [t.id for t in out.tickets] == ["C-1", "C-5"]
    assert out.tickets[0].message == "Q?" and out.tickets[0].reply == "A." and out.tickets[1].line == 6
    assert _reasons(out) == [(2, "broken JSON"), (3, "missing field(s) transcript"),
                             (4, "transcript is not a list of turns with text")]


@pytest.mark.parametrize("first", ["[1, 2]", "42", '{"note": "export of 2024-01-03"}', '"text"'])
def test_a_strange_first_jsonl_line_does_not_hide_the_file(tmp_path: Path, first: str) -> None:
    out = _load(tmp_path, {"c.jsonl": "\n".join([first, json.dumps(_chat("C-1")), json.dumps(_chat("C-2"))]) + "\n"})
    _accounted(out)
    assert [t.id for t in out.tickets] == ["C-1", "C-2"] and out.read == 3
    assert [q.line for q in out.quarantine] == [1]
    assert out.quarantine[0].reason.startswith(("not a JSON object", "missing field(s) transcript"))


def test_a_byte_order_mark_keeps_the_first_record(tmp_path: Path) -> None:
    out = _load(tmp_path, {"c.jsonl": b"\xef\xbb\xbf" + (json.dumps(_chat("C-1")) + "\n").encode(),
                           "t.csv": b"\xef\xbb\xbf" + (HEADER + _row("T-1")).encode()})
    _accounted(out)
    assert sorted(t.id for t in out.tickets) == ["C-1", "T-1"] and not out.quarantine
    assert "byte-order mark" in _report(out, "c.jsonl").encoding


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_latin1_export_is_read_with_a_named_fallback(tmp_path: Path, encoding: str) -> None:
    chat = json.dumps(_chat("C-1", "Grüße aus Köln: does it fit?"), ensure_ascii=False)
    out = _load(tmp_path, {"c.jsonl": (chat + "\n" + json.dumps(_chat("C-2")) + "\n").encode(encoding),
                           "t.csv": (HEADER + _row("T-1", "Hi, I am Jürgen, the café's UPS beeps")).encode(encoding)})
    _accounted(out)
    assert sorted(t.id for t in out.tickets) == ["C-1", "C-2", "T-1"] and not out.quarantine
    assert "Grüße aus Köln" in out.tickets[0].message and "Jürgen" in out.tickets[2].message
    assert all(_report(out, f).encoding.startswith("cp1252") for f in ("c.jsonl", "t.csv"))


def test_deeply_nested_json_is_quarantined(tmp_path: Path) -> None:
    deep = ["[" * 1000 + "]" * 1000, '{"a": ' * 1000 + "1" + "}" * 1000, "[" * 100_000 + "]" * 100_000,
            json.dumps(dict(_chat("C-9"), customer={"name": "[" * 50}))]
    out = _load(tmp_path, {"c.jsonl": "\n".join([json.dumps(_chat("C-1")), *deep, json.dumps(_chat("C-2"))]) + "\n",
                           "d.json": "[\n" + json.dumps(_chat("C-3")) + ",\n" + "[" * 5000 + "]" * 5000 + "\n]"})
    _accounted(out)
    assert sorted(t.id for t in out.tickets) == ["C-1", "C-2", "C-3", "C-9"]
    assert [(q.file, q.line) for q in out.quarantine] == [("c.jsonl", 2), ("c.jsonl", 3), ("c.jsonl", 4),
                                                          ("d.json", 3)]


def test_escaped_lone_surrogates_are_quarantined(tmp_path: Path) -> None:
    broken = '{"chat_id": "C-2", "transcript": [{"from": "customer", "text": "broken emoji \\ud83d?"}]}'
    out = _load(tmp_path, {"c.jsonl": "\n".join([json.dumps(_chat("C-1")), broken, json.dumps(_chat("C-3"))]) + "\n"})
    _accounted(out)
    assert [t.id for t in out.tickets] == ["C-1", "C-3"] and _reasons(out) == [(2, "bad encoding")]
    json.dumps([q.to_dict() for q in out.quarantine], ensure_ascii=False).encode("utf-8")  # writable as UTF-8


def test_csv_fields_of_any_length_are_read_and_oversize_records_quarantined(tmp_path: Path) -> None:
    huge = "x" * 200_000
    out = _load(tmp_path, {"t.csv": HEADER + _row("T-1") + _row("T-2", huge) + _row("T-3") + _row("T-4", reply=huge)})
    _accounted(out)
    assert [t.id for t in out.tickets] == ["T-1", "T-3"]
    assert _reasons(out) == [(3, "oversize record"), (5, "oversize record")]
    assert len(out.quarantine[0].raw) < 3000  # quarantine.jsonl keeps the start of the record only


def test_oversize_json_records_are_quarantined(tmp_path: Path) -> None:
    out = _load(tmp_path, {"c.jsonl": "\n".join(json.dumps(c) for c in (
        _chat("C-1"), _chat("C-2", "Q" + "\n" * MAX_RECORD_CHARS), _chat("C-3"))) + "\n"})
    _accounted(out)
    assert [t.id for t in out.tickets] == ["C-1", "C-3"] and _reasons(out) == [(2, "oversize record")]


@pytest.mark.parametrize("shape", ["next one-line", "next multi-line", "columns line up", "at the end"])
def test_an_unterminated_quote_loses_only_its_own_record(tmp_path: Path, shape: str) -> None:
    broken = 'T-2,2023-01-01,email,Ann Lee,a@x.example,VX-PS-1000,Q,"my UPS beeps,Bo,It is fine.\n'
    after = {"next one-line": _row("T-3") + _row("T-4"),
             "next multi-line": _row("T-3", "first line\nsecond, line\nthird") + _row("T-4", "a\nb"),
             "columns line up": 'T-3,2023-01-02,web form,Cy,c@x.example,VX-CB-1020,Subj,"How long?",Di,"2 m."\n'
                                + _row("T-4"),
             "at the end": ""}[shape]
    out = _load(tmp_path, {"t.csv": HEADER + _row("T-1", "multi\nline, with commas, a, b, c, d, e, f, g, h, i")
                           + broken + after})
    _accounted(out)
    ids = ["T-1"] if shape == "at the end" else ["T-1", "T-3", "T-4"]
    assert [t.id for t in out.tickets] == ids
    assert [q.line for q in out.quarantine] == [4]
    assert out.quarantine[0].raw.startswith("T-2,") and "T-3" not in out.quarantine[0].raw
    if shape == "next multi-line":
        assert out.tickets[1].message == "first line\nsecond, line\nthird" and out.tickets[1].line == 5
    if shape == "columns line up":
        assert out.tickets[1].message == "How long?" and out.tickets[1].reply == "2 m."


def test_a_long_blank_reply_loads_in_linear_time(tmp_path: Path) -> None:
    start = time.process_time()
    out = _load(tmp_path, {"t.csv": HEADER + _row("T-1", reply="\n" * 90_000 + "ok.") + _row("T-2"),
                           "c.jsonl": json.dumps(_chat("C-1", "Q?" + "\n" * 90_000)) + "\n"})
    assert time.process_time() - start < 2.0
    _accounted(out)
    assert sorted(t.id for t in out.tickets) == ["C-1", "T-1", "T-2"]


def test_ids_are_unique_per_folder(tmp_path: Path) -> None:
    chats = [_chat("C-1"), _chat(None), _chat(""), _chat("T-1", "Another question?"), _chat(7), _chat("C-1"),
             _chat(["x"])]
    out = _load(tmp_path, {"a.jsonl": "\n".join(json.dumps(c) for c in chats) + "\n",
                           "b.csv": HEADER + _row("T-1") + _row("T-2") + _row(" T-2 ")})
    _accounted(out)
    assert [t.id for t in out.tickets] == ["C-1", "T-1", "7", "T-2"]
    assert [(q.file, q.line, q.reason) for q in out.quarantine] == [
        ("a.jsonl", 2, "missing field(s) chat_id"), ("a.jsonl", 3, "missing field(s) chat_id"),
        ("a.jsonl", 7, "bad id (chat_id is a list, not text or a number)"),
        ("a.jsonl", 6, "duplicate id (first at a.jsonl:1)"), ("b.csv", 2, "duplicate id (first at a.jsonl:4)"),
        ("b.csv", 4, "duplicate id (first at b.csv:3)")]


def test_every_file_of_the_folder_is_listed(tmp_path: Path) -> None:
    chats = [_chat("C-1"), _chat("C-2")]
    (tmp_path / "docs").mkdir()
    (tmp_path / "dangling.jsonl").symlink_to(tmp_path / "gone.jsonl")
    out = _load(tmp_path, {
        "TICKETS.CSV": HEADER + _row("T-1"),
        "more.tsv": HEADER.replace(",", "\t") + _row("T-2").replace(",", "\t").replace('"', ""),
        "array.json": json.dumps(chats),
        "wrapped.json": json.dumps({"exported": "2024-02-01", "tickets": [
            {"ticket_id": "T-3", "customer_message": "Q?", "agent_reply": "A."}, {"ticket_id": "T-4"}]}, indent=1),
        "broken.json": '[{"chat_id": "C-9", ',
        "catalog.json": '{"vendor": "V", "products": []}',
        "other.json": '{"products": []}',
        "image.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "utf16.csv": (HEADER + _row("T-5")).encode("utf-16"),
        "export.xlsx": b"PK\x03\x04",
        "notes.txt": "hello",
    })
    _accounted(out)
    assert sorted(t.id for t in out.tickets) == ["C-1", "C-2", "T-1", "T-2", "T-3", "T-5"]
    status = {f.file: (f.status, f.read) for f in out.files}
    assert status == {"TICKETS.CSV": ("read", 1), "more.tsv": ("read", 1), "array.json": ("read", 2),
                      "wrapped.json": ("read", 2), "utf16.csv": ("read", 1), "broken.json": ("unreadable", 0),
                      "image.csv": ("unreadable", 0), "dangling.jsonl": ("unreadable", 0),
                      "catalog.json": ("skipped", 0), "other.json": ("skipped", 0), "export.xlsx": ("skipped", 0),
                      "notes.txt": ("skipped", 0), "docs": ("skipped", 0)}
    reasons = {f.file: f.reason for f in out.files}
    assert "broken JSON" in reasons["broken.json"] and "binary" in reasons["image.csv"]
    assert "No such file" in reasons["dangling.jsonl"] and ".xlsx" in reasons["export.xlsx"]
    assert [(q.file, q.line, q.reason) for q in out.quarantine] == [
        ("wrapped.json", 9, "missing field(s) customer_message")]


def test_a_file_that_cannot_be_opened_is_listed_with_the_reason(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    out = _load(tmp_path, {"locked.csv": HEADER + _row("T-9"), "t.csv": HEADER + _row("T-1")})
    assert [t.id for t in out.tickets] == ["T-1"]
    assert (_report(out, "locked.csv").status, _report(out, "locked.csv").reason) == (
        "unreadable", "cannot be read (Permission denied)")


def test_a_folder_without_any_ticket_says_what_it_found(tmp_path: Path) -> None:
    (tmp_path / "catalog.json").write_text("{}")
    (tmp_path / "tickets.csv").write_text("id,text\n")
    with pytest.raises(FileNotFoundError, match="no ticket record found.*tickets.csv: skipped"):
        load_tickets(tmp_path)


def test_sample_quarantine_matches_ground_truth(repo: Path) -> None:
    root = repo / "data_samples" / "voltaris"
    out = load_tickets(root)
    _accounted(out)
    truth = json.loads((root / "ground_truth.json").read_text())
    malformed = [q for q in out.quarantine if not q.reason.startswith("duplicate id")]
    assert {(q.file, q.line) for q in malformed} == {(m["file"], m["line"]) for m in truth["malformed"]}
    bad = Counter(m["id"] for m in truth["malformed"])  # a repeated id among the malformed is read once or not at all
    repeats = sum(max(0, len(records) - bad[rid] - 1) for rid, records in truth["records"].items())
    assert len(out.quarantine) - len(malformed) == repeats > 0
    assert len({t.id for t in out.tickets}) == len(out.tickets)
    assert out.read == truth["tickets"] == len(out.tickets) + len(out.quarantine)
    assert {f.file: f.status for f in out.files} == {
        "catalog.json": "skipped", "catalog.schema.json": "skipped", "chats_2024.jsonl": "read", "docs": "skipped",
        "faq.md": "skipped", "ground_truth.json": "skipped", "model_failures.jsonl": "skipped",
        "tickets_2023.csv": "read"}


def test_bitext_loader(repo: Path) -> None:
    rows, bad = load_bitext(repo / "data_samples" / "bitext" / "intents_sample.csv")
    assert not bad and len({r["intent"] for r in rows}) == 27
