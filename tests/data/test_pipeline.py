"""The whole curation on the sample corpus and on a second, different corpus of the same shape."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from helpers.core.config import load_settings
from helpers.core.examples import question, reference_answer
from helpers.core.runs import read_jsonl
from helpers.data.catalog import Catalog
from helpers.data.fact_check import FactChecker
from helpers.data import pii, pipeline
from helpers.data.pipeline import CurationResult, curate, token_lengths
from helpers.data.scope import OUT_OF_SCOPE, OVER_CAP, narrow, scope_products
from helpers.data.splits import SPLITS

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data_samples" / "voltaris"


WHOLE_CATALOG = {"data.max_products": 0, "data.routing_train_per_intent": 0,
                 "data.phrasings": load_settings("gpu").data.phrasings}
"""The ci profile's data settings over the whole catalog, phrased as the gpu profile (ci teaches a six-product slice)."""


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory) -> tuple[CurationResult, Path]:
    out = tmp_path_factory.mktemp("run") / "data"
    whole = load_settings("ci", WHOLE_CATALOG).data
    return curate(SAMPLE, out, whole, plots_dir=out.parent / "plots"), out


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    return json.loads((SAMPLE / "ground_truth.json").read_text())["records"]


def test_counts_reconcile_with_the_files(curated: tuple[CurationResult, Path]) -> None:
    result, out = curated
    rec = result.card["reconciliation"]
    assert all(r["reconciles"] for r in rec.values()), rec
    removed = read_jsonl(out / "removed.jsonl")
    quarantine = read_jsonl(out / "quarantine.jsonl")
    kept = [ex for s in SPLITS for ex in read_jsonl(out / f"{s}.jsonl")]
    for source in ("ticket", "bitext"):
        n_kept = sum(ex["meta"]["source"] == source for ex in kept)
        n_removed = sum(r["source"] == source for r in removed)
        assert rec[source]["read"] == n_kept + n_removed + rec[source]["quarantined"]
    assert rec["ticket"]["quarantined"] == len([q for q in quarantine if q["file"] != "intents_sample.csv"]) > 0
    assert all(r["reason"] for r in removed) and all(q["line"] > 0 and q["reason"] for q in quarantine)
    files = {f["file"]: f for f in result.card["files"]}
    read = [f for f in files.values() if f["status"] == "read"]
    assert sorted(files) == sorted(p.name for p in SAMPLE.iterdir())
    assert {f["file"] for f in read} == {"tickets_2023.csv", "chats_2024.jsonl"} and all(f["reconciles"] for f in read)
    for key in ("read", "kept", "quarantined", "removed"):
        assert sum(f[key] for f in read) == rec["ticket"][key], key
    for f in read:
        assert f["quarantined"] == sum(q["file"] == f["file"] for q in quarantine)
    assert "| tickets\\_2023.csv | read | csv |" in (out / "card.md").read_text()


def test_size_tasks_and_files(curated: tuple[CurationResult, Path]) -> None:
    result, out = curated
    assert 3000 <= result.metrics["kept_examples"] <= 5000
    for split in SPLITS:
        tasks = {ex["task"] for ex in result.splits[split]}
        assert tasks == {"product_qa", "routing"}, split
    for name in ("catalog.json", "card.json", "card.md", "flagged.jsonl"):
        assert (out / name).exists(), name
    assert {"funnel", "lengths", "per_product", "per_intent"} <= {p.stem for p in (out.parent / "plots").glob("*.png")}
    card = json.loads((out / "card.json").read_text())
    assert all(len(card["splits"][s]["sha256"]) == 64 for s in SPLITS)


def test_no_leakage_between_splits(curated: tuple[CurationResult, Path]) -> None:
    result, _ = curated
    assert result.card["leakage"] == {"shared_groups": 0, "shared_questions": 0, "near_duplicate_questions": 0,
                                      "shared_phrasings": 0}
    groups = {s: {ex["meta"]["group"] for ex in result.splits[s]} for s in SPLITS}
    for a, b in combinations(SPLITS, 2):
        assert not groups[a] & groups[b], (a, b)
    phrasings = {s: {ex["meta"]["phrasing"] for ex in result.splits[s] if ex["meta"]["source"] == "catalog"}
                 for s in SPLITS}
    for a, b in combinations(SPLITS, 2):
        assert phrasings[a] and phrasings[b] and not phrasings[a] & phrasings[b], (a, b)
    test_products = {ex["meta"]["product"] for ex in result.splits["test"] if ex["meta"]["product"]}
    assert len(test_products) > 40  # stratified: held-out questions cover most products


def test_kept_answers_agree_with_the_catalog(curated: tuple[CurationResult, Path], truth: dict) -> None:
    result, out = curated
    checker = FactChecker(Catalog.load(out / "catalog.json"))
    qa = [ex for s in SPLITS for ex in result.splits[s] if ex["task"] == "product_qa"]
    for ex in qa:
        check = checker.check(reference_answer(ex), ex["meta"]["product"])
        assert not check.hallucinated and check.states_correctly(ex["meta"]["fields"]), ex
    tickets = {ex["id"][3:] for ex in qa if ex["meta"]["source"] == "ticket"}
    planted = {rid for rid, gts in truth.items() if "contradiction" in gts[0]["issues"]}
    flagged = {f["id"]: f for f in result.flagged}
    assert planted & tickets and planted & tickets <= set(flagged)
    statuses = {f["status"] for f in result.flagged}
    assert statuses == {"corrected", "contradiction"}
    assert not {f["id"] for f in result.flagged if f["status"] == "contradiction"} & tickets


def test_planted_mess_is_gone(curated: tuple[CurationResult, Path], truth: dict) -> None:
    result, _ = curated
    kept = [ex for s in SPLITS for ex in result.splits[s] if ex["meta"]["source"] == "ticket"]
    for ex in kept:
        gt = truth[ex["id"][3:]][0]
        assert not {"spam", "off_topic", "non_english", "empty_reply", "truncated_reply"} & set(gt["issues"]), ex
        text = question(ex) + " " + reference_answer(ex)
        assert not [p for p in gt["pii"] if p["value"] in text], ex
        assert "<p>" not in text and "wrote:" not in text and "Regards" not in text


def test_token_lengths_use_the_chat_template() -> None:
    class Tok:
        eos_token_id = 0

        def apply_chat_template(self, messages: list[dict], tokenize: bool, add_generation_prompt: bool) -> str:
            text = "".join(f"<{m['role']}>{m['content']}</>" for m in messages)
            return text + ("<assistant>" if add_generation_prompt else "")

        def __call__(self, texts: list[str], add_special_tokens: bool) -> dict:
            return {"input_ids": [[ord(c) for c in text] for text in texts]}

    ex = {"id": "x", "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"},
                                  {"role": "assistant", "content": "A"}]}
    assert token_lengths(Tok(), [ex]) == [len("<system>S</><user>Q</><assistant>A</>")]


def test_another_corpus_of_the_same_shape(tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run([sys.executable, str(REPO / "data_samples" / "generate.py"), "--out", str(other), "--products",
                    "18", "--tickets", "400", "--seed", "99", "--no-bitext"], check=True, capture_output=True)
    settings = load_settings("ci", WHOLE_CATALOG).data
    first = curate(other, tmp_path / "a", settings)
    assert all(r["reconciles"] for r in first.card["reconciliation"].values())
    assert set(first.card["leakage"].values()) == {0}
    codes = {p.code for p in Catalog.load(other / "catalog.json").products}
    assert {ex["meta"]["product"] for ex in first.splits["train"] if ex["meta"]["product"]} <= codes
    assert sum(ex["meta"]["source"] == "ticket" for ex in first.splits["train"]) > 100
    again = curate(other, tmp_path / "b", settings)
    assert again.card["splits"] == first.card["splits"]  # same content hashes: deterministic


def test_review_decisions_change_the_output(tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run([sys.executable, str(REPO / "data_samples" / "generate.py"), "--out", str(other), "--products",
                    "18", "--tickets", "600", "--seed", "5", "--no-bitext"], check=True, capture_output=True)
    settings = load_settings("ci", WHOLE_CATALOG).data
    base = curate(other, tmp_path / "a", settings)
    corrected = [f for f in base.flagged if f["status"] == "corrected"]
    assert len(corrected) >= 2
    first, second = corrected[0], corrected[1]
    edited = f"{second['proposed']} Thanks for asking."
    decisions = {first["id"]: {"decision": "reject", "text": first["proposed"], "by": "human"},
                 second["id"]: {"decision": "edit", "text": edited, "by": "human"}}
    reviewed = curate(other, tmp_path / "b", settings, decisions=decisions)
    answers = {ex["id"]: reference_answer(ex) for s in SPLITS for ex in reviewed.splits[s]}
    removed = {r["id"]: r["reason"] for r in reviewed.removed}
    assert f"tk-{first['id']}" not in answers and "rejected (human)" in removed[first["id"]]
    in_split = f"tk-{second['id']}" in answers
    assert (in_split and answers[f"tk-{second['id']}"] == edited) or "split" in json.dumps(
        [r for r in reviewed.removed if r["id"] == f"tk-{second['id']}"])


def test_quality_filters_remove_only_what_was_planted(curated: tuple[CurationResult, Path], truth: dict) -> None:
    result, _ = curated
    expected = {"spam": "spam", "empty reply": "empty_reply", "truncated reply": "truncated_reply",
                "not English": "non_english"}
    checked = 0
    for row in result.removed:
        if row["source"] != "ticket" or row["stage"] != "quality":
            continue
        issue = next(v for k, v in expected.items() if row["reason"].startswith(k))
        assert issue in truth[row["id"]][0]["issues"], row
        checked += 1
    assert checked > 300


def test_a_profile_slice_keeps_every_category_and_all_held_out_routing(curated: tuple[CurationResult, Path]) -> None:
    result, out = curated
    catalog = Catalog.load(out / "catalog.json")
    scope = scope_products(catalog, 6)
    categories = {p.code: p.category for p in catalog.products}
    assert len(scope) == 6 and len({categories[c] for c in scope}) == 6
    assert scope_products(catalog, 0) == [p.code for p in catalog.products]
    narrowed, removed = narrow(result.splits, scope, routing_train_per_intent=3)
    for split in SPLITS:
        assert {ex["meta"]["product"] for ex in narrowed[split] if ex["task"] == "product_qa"} <= set(scope)
        assert {ex["task"] for ex in narrowed[split]} == {"product_qa", "routing"}, split
    per_intent = Counter(ex["meta"]["intent"] for ex in narrowed["train"] if ex["task"] == "routing")
    assert max(per_intent.values()) == 3
    for split in ("val", "test"):
        assert [ex for ex in narrowed[split] if ex["task"] == "routing"] == \
            [ex for ex in result.splits[split] if ex["task"] == "routing"]
    assert sum(len(v) for v in narrowed.values()) + len(removed) == sum(len(v) for v in result.splits.values())
    assert {reason for _, reason in removed} == {OUT_OF_SCOPE, OVER_CAP}


def _messy_corpus(root: Path) -> dict[str, int]:
    """A generated corpus plus every kind of bad input at once; returns the records written per added file."""
    subprocess.run([sys.executable, str(REPO / "data_samples" / "generate.py"), "--out", str(root), "--products",
                    "18", "--tickets", "300", "--seed", "3", "--no-bitext"], check=True, capture_output=True)
    chats = []
    for line in (root / "chats_2024.jsonl").read_bytes().decode("utf-8", "replace").splitlines():
        try:
            chats += [chat for chat in [json.loads(line)] if "transcript" in chat]
        except json.JSONDecodeError:
            continue  # the generator's own malformed lines are tested elsewhere
    for chat in chats:  # an escaped NUL and an escape sequence in every customer turn of the real export
        for turn in chat["transcript"]:
            if turn["from"] == "customer":
                turn["text"] = turn["text"].replace(" ", " \u0000", 1) + "\u001b[0m"
    (root / "chats_2024.jsonl").write_text("".join(json.dumps(c) + "\n" for c in chats))

    def renamed(chat: dict, prefix: str) -> dict:
        return dict(chat, chat_id=f"{prefix}-{chat['chat_id']}")

    def row(tid: str, message: str, reply: str = "It is rated at 650 W.") -> str:
        return f'{tid},2023-01-01,email,Ann Lee,a@x.example,,Q,"{message}",Bo,"{reply}"\n'

    header = "ticket_id,created_at,channel,customer_name,customer_email,product,subject,customer_message,agent_name," \
             "agent_reply\n"
    added = {
        "first_line.jsonl": "\n".join(["[1, 2]", *(json.dumps(renamed(c, "F")) for c in chats[:5])]) + "\n",
        "latin1.jsonl": "".join(json.dumps(dict(renamed(c, "L"), customer={"name": "Jürgen Müller"}),
                                           ensure_ascii=False) + "\n" for c in chats[5:10]).encode("latin-1"),
        "bom.jsonl": b"\xef\xbb\xbf" + "".join(json.dumps(renamed(c, "B")) + "\n" for c in chats[10:13]).encode(),
        "deep.jsonl": "[" * 1000 + "]" * 1000 + "\n" + json.dumps(renamed(chats[13], "D")) + "\n",
        "ids.jsonl": "\n".join(json.dumps(c) for c in (dict(chats[14], chat_id=None), chats[15])) + "\n",
        "TICKETS.CSV": header + row("X-1", "What is the wattage?") + row("X-2", "y" * 200_000)
        + 'X-3,2023-01-01,email,Ann Lee,a@x.example,,Q,"unterminated,Bo,reply\n' + row("X-4", "Does it fit?")
        + row("X-5", "Blank reply?", "Hi,\n" + "\n" * 90_000 + "It is rated at 650 W.")
        + row("X-7", "Ann Lee " * 12_000),
        "array.json": json.dumps([renamed(c, "J") for c in chats[16:18]], indent=1),
        "more.tsv": header.replace(",", "\t") + row("X-6", "Any news?").replace(",", "\t").replace('"', ""),
        "image.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "export.xlsx": b"PK\x03\x04",
        '<img src=x onerror="alert(1)">.txt': "a file name is data too",
    }
    for name, content in added.items():
        (root / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return {"first_line.jsonl": 6, "latin1.jsonl": 5, "bom.jsonl": 3, "deep.jsonl": 2, "ids.jsonl": 2,
            "TICKETS.CSV": 6, "array.json": 2, "more.tsv": 1}


def test_curation_of_every_kind_of_bad_input_finishes_and_accounts_for_each_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = _messy_corpus(tmp_path / "messy")
    settings = load_settings("ci", WHOLE_CATALOG).data
    seen: list[int] = []

    def redact(text: str, names: list[str]) -> tuple[str, list]:
        seen.append(len(text))
        return pii.redact(text, names)

    monkeypatch.setattr(pipeline, "redact", redact)  # the PII patterns see no text over the length limit
    result = curate(tmp_path / "messy", tmp_path / "run" / "data", settings)
    assert seen and max(seen) <= settings.max_chars
    files = {f["file"]: f for f in result.card["files"]}
    assert all(f["reconciles"] for f in files.values()) and all(r["reconciles"] for r in
                                                                 result.card["reconciliation"].values())
    assert {name: files[name]["read"] for name in records} == records
    assert {name: files[name]["status"] for name in ("image.csv", "export.xlsx", "catalog.json", "docs")} == {
        "image.csv": "unreadable", "export.xlsx": "skipped", "catalog.json": "skipped", "docs": "skipped"}
    assert files["latin1.jsonl"]["encoding"].startswith("cp1252") and files["latin1.jsonl"]["quarantined"] == 0
    assert (files["bom.jsonl"]["quarantined"], files["first_line.jsonl"]["quarantined"],
            files["deep.jsonl"]["quarantined"], files["ids.jsonl"]["quarantined"]) == (0, 1, 1, 2)
    reasons = {(q.file, q.line): q.reason.split(" (")[0] for q in result.quarantine}
    assert [reasons.get(("TICKETS.CSV", line)) for line in (2, 3, 4, 5, 6, 90_008)] == [
        None, "oversize record", "unterminated quote", None, None, None]
    assert {"id": "X-7", "source": "ticket", "stage": "quality", "reason": "too long"} in result.removed
    assert files["chats_2024.jsonl"]["kept"] > 20  # tickets whose raw text held NUL and ESC reached the splits...
    written = "".join((tmp_path / "run" / "data" / f"{s}.jsonl").read_text() for s in SPLITS)
    assert "\\u0000" not in written and "\\u001b" not in written and "\x00" not in written  # ...without them
    card_md = (tmp_path / "run" / "data" / "card.md").read_text()
    assert "&lt;img" in card_md and "<img" not in card_md


def test_six_training_wordings_stay_apart_from_the_held_out_ones(tmp_path: Path) -> None:
    """cpu-full asks each fact in six training wordings and by other words for its field ('noun'); no held-out
    split asks in any of them."""
    result = curate(SAMPLE, tmp_path / "data", load_settings("cpu-full").data)
    assert result.card["leakage"]["shared_phrasings"] == 0
    wordings: dict[tuple[str, str], set[str]] = {}
    for ex in result.splits["train"]:
        if ex["meta"]["source"] == "catalog":
            field, wording = ex["meta"]["phrasing"].split(":")
            wordings.setdefault((ex["meta"]["product"], field), set()).add(wording)
    assert max(len(ws - {"noun"}) for ws in wordings.values()) == 6
    assert all("noun" in ws for ws in wordings.values())
    held_out = {ex["meta"]["phrasing"] for s in SPLITS if s != "train" for ex in result.splits[s]
                if ex["meta"]["source"] == "catalog"}
    assert held_out and not held_out & {f"{f}:{w}" for (_, f), ws in wordings.items() for w in ws}


def test_ticket_replies_introduce_the_product_in_the_profiles_answer_form(tmp_path: Path) -> None:
    """cpu-full answers 'CODE (Name)': the agents' 'Name (CODE)' replies are rewritten to it, in every split."""
    result = curate(SAMPLE, tmp_path / "data", load_settings("cpu-full").data)
    catalog = Catalog.load(SAMPLE / "catalog.json")
    tickets = [ex for s in SPLITS for ex in result.splits[s] if ex["meta"]["source"] == "ticket"]
    named = Counter()
    for ex in tickets:
        product = catalog.get(ex["meta"]["product"])
        assert product.labelled("name_code") not in reference_answer(ex), reference_answer(ex)
        named[product.labelled("code_name") in reference_answer(ex)] += 1
    assert named[True] > 50, named  # most agents' replies name the product in full, now code first


def test_a_training_only_question_that_repeats_a_held_out_one_is_removed_with_its_reason() -> None:
    """Questions added after the split never reach training when they near-duplicate a held-out question."""
    from helpers.data.card import Funnel
    from helpers.data.pipeline import _Removals, _training_only

    def ex(i: str, text: str) -> dict:
        return {"id": i, "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "A."}]}

    splits = {"train": [], "val": [], "feedback": [], "test": [ex("t", "Argent One: cord length?")]}
    funnel, removals = Funnel(), _Removals()
    added = _training_only(splits, [ex("a", "Argent One: cord length?"), ex("b", "Argent One: price?")], "words",
                           0.8, funnel, removals)
    assert added == 1 and [e["id"] for e in splits["train"]] == ["b"]
    assert removals.rows == [{"source": "words", "id": "a", "stage": "split",
                              "reason": "near-duplicate of a held-out question"}]
    assert funnel.reconcile()["words"]["reconciles"]
