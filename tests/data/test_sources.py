"""Loaders: every malformed record is quarantined with file, line and reason; nothing vanishes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.data.sources import load_bitext, load_chats_jsonl, load_tickets, load_tickets_csv

HEADER = "ticket_id,created_at,channel,customer_name,customer_email,product,subject,customer_message,agent_name,agent_reply\n"


def test_csv_quarantines_bad_rows_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    good = 'T-1,2023-01-01,email,Ann Lee,a@x.example,VX-PS-1000,Q,"line one\nline two",Bo,The answer.\n'
    path.write_bytes((HEADER + good + "T-2,2023,email\n" + ',2023,email,A,b,c,d,msg,e,f\n').encode()
                     + 'T-4,2023,email,J\xfcrgen,b,c,d,msg,e,f\n'.encode("latin-1") + good.replace("T-1", "T-5").encode())
    out = load_tickets_csv(path)
    assert out.read == 5 and [t.id for t in out.tickets] == ["T-1", "T-5"]
    assert out.tickets[0].message == "line one\nline two" and out.tickets[1].line == 7
    assert [(q.line, q.reason.split(" (")[0]) for q in out.quarantine] == [
        (4, "wrong number of columns"), (5, "missing field(s) ticket_id"), (6, "bad encoding")]
    assert "J\ufffdrgen" in out.quarantine[2].raw


def test_csv_without_required_columns_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,text\n1,hello\n")
    with pytest.raises(ValueError, match="x.csv.*customer_message"):
        load_tickets_csv(path)


def test_jsonl_quarantines_broken_and_invalid_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    ok = {"chat_id": "C-1", "customer": {"name": "Ann"}, "product": None,
          "transcript": [{"from": "agent", "text": "Hi!"}, {"from": "customer", "text": "Q?"},
                         {"from": "agent", "name": "Bo", "text": "A."}]}
    lines = [json.dumps(ok), '{"chat_id": "C-2", "transcr', json.dumps({"chat_id": "C-3"}),
             json.dumps({"chat_id": "C-4", "transcript": "text"}), "", json.dumps(dict(ok, chat_id="C-5"))]
    path.write_text("\n".join(lines) + "\n")
    out = load_chats_jsonl(path)
    assert out.read == 5 and [t.id for t in out.tickets] == ["C-1", "C-5"]
    assert out.tickets[0].message == "Q?" and out.tickets[0].reply == "A." and out.tickets[1].line == 6
    assert [(q.line, q.reason.split(" (")[0]) for q in out.quarantine] == [
        (2, "broken JSON"), (3, "missing field(s) transcript"), (4, "transcript is not a list of turns with text")]


def test_sample_quarantine_matches_ground_truth(repo: Path) -> None:
    root = repo / "data_samples" / "voltaris"
    out = load_tickets(root)
    truth = json.loads((root / "ground_truth.json").read_text())
    assert {(q.file, q.line) for q in out.quarantine} == {(m["file"], m["line"]) for m in truth["malformed"]}
    assert out.read == truth["tickets"] == len(out.tickets) + len(out.quarantine)


def test_bitext_loader(repo: Path) -> None:
    rows, bad = load_bitext(repo / "data_samples" / "bitext" / "intents_sample.csv")
    assert not bad and len({r["intent"] for r in rows}) == 27
