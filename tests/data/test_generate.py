"""The sample corpus generators: deterministic, documented shape, planted mess (Voltaris: at known rates)."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

GENERATOR = Path(__file__).resolve().parents[2] / "data_samples" / "generate.py"


def _generate(out: Path, *args: str) -> None:
    subprocess.run([sys.executable, str(GENERATOR), "--out", str(out), *args], check=True, capture_output=True)


def _same_as_committed(repo: Path, made: Path, folder: str) -> None:
    committed = sorted(p.relative_to(repo / "data_samples" / folder)
                       for p in (repo / "data_samples" / folder).rglob("*") if p.is_file())
    assert committed, folder
    for rel in committed:
        assert (made / rel).read_bytes() == (repo / "data_samples" / folder / rel).read_bytes(), rel


def test_committed_corpus_regenerates_byte_for_byte(repo: Path, tmp_path: Path) -> None:
    """From the repository alone: the Bitext sample is re-drawn from itself (it is already a sample)."""
    _generate(tmp_path / "voltaris", "--bitext-out", str(tmp_path / "bitext"))
    for folder in ("voltaris", "bitext"):
        _same_as_committed(repo, tmp_path / folder, folder)


def test_bitext_sample_is_drawn_from_the_full_dataset(repo: Path, tmp_path: Path) -> None:
    """Needs the full Bitext file, which lives outside the repository; skipped where it is absent."""
    full = repo.parent / "shared" / "data" / "bitext-intents" / "bitext_intents_20k.csv"
    if not full.exists():
        pytest.skip(f"the full Bitext dataset is not at {full}; only the draw from it needs it")
    _generate(tmp_path / "voltaris", "--products", "6", "--tickets", "20", "--bitext-out", str(tmp_path / "bitext"),
              "--bitext-source", str(full))
    _same_as_committed(repo, tmp_path / "bitext", "bitext")


def test_other_seed_gives_other_products_and_numbers(repo: Path, tmp_path: Path) -> None:
    _generate(tmp_path / "other", "--products", "24", "--tickets", "300", "--seed", "7", "--no-bitext")
    ours = json.loads((repo / "data_samples" / "voltaris" / "catalog.json").read_text())["products"]
    other = json.loads((tmp_path / "other" / "catalog.json").read_text())["products"]
    assert len(other) == 24
    assert not {p["code"] for p in ours} & {p["code"] for p in other}
    truth = json.loads((tmp_path / "other" / "ground_truth.json").read_text())
    assert len(truth["records"]) <= 300 and truth["counts"]["pii_EMAIL"] > 0


def test_sample_corpus_has_the_required_shape_and_mess(repo: Path) -> None:
    root = repo / "data_samples" / "voltaris"
    truth = json.loads((root / "ground_truth.json").read_text())
    counts = truth["counts"]
    assert truth["tickets"] >= 3000
    for issue in ("html", "customer_signature", "quoted_reply", "exact_duplicate", "near_duplicate", "empty_reply",
                  "truncated_reply", "spam", "off_topic", "non_english", "contradiction"):
        assert counts[issue] > 0, issue
    for kind in ("EMAIL", "PHONE", "CARD", "ADDRESS", "ORDER", "NAME"):
        assert counts[f"pii_{kind}"] > 0, kind
    assert {m["reason"] for m in truth["malformed"]} >= {"bad encoding", "broken JSON", "wrong number of columns"}
    assert (root / "tickets_2023.csv").exists() and (root / "chats_2024.jsonl").exists()
    assert (root / "faq.md").exists() and list((root / "docs").glob("*.md"))
    failures = [json.loads(line) for line in (root / "model_failures.jsonl").read_text().splitlines()]
    assert failures and all(f["wrong_answer"] != f["correct_answer"] for f in failures)
    bitext = repo / "data_samples" / "bitext"
    assert (bitext / "LICENSE.txt").exists() and "Bitext" in (bitext / "ATTRIBUTION.md").read_text()
    assert sum(1 for _ in open(bitext / "intents_sample.csv")) > 27 * 40
    assert sum(p.stat().st_size for p in (repo / "data_samples").rglob("*") if p.is_file()) < 5_000_000


HEARTHLINE = GENERATOR.with_name("generate_hearthline.py")


def test_second_domain_regenerates_byte_for_byte(repo: Path, tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(HEARTHLINE), "--out", str(tmp_path / "hearthline")], check=True,
                   capture_output=True)
    _same_as_committed(repo, tmp_path / "hearthline", "hearthline")
    made = sorted(p.name for p in (tmp_path / "hearthline").iterdir())
    assert made == sorted(p.name for p in (repo / "data_samples" / "hearthline").iterdir())


def test_second_domain_is_another_schema_in_real_export_shapes_without_ground_truth(repo: Path) -> None:
    root = repo / "data_samples" / "hearthline"
    assert not (root / "ground_truth.json").exists()
    ours = json.loads((root / "catalog.schema.json").read_text())["fields"]
    voltaris = json.loads((repo / "data_samples" / "voltaris" / "catalog.schema.json").read_text())["fields"]
    assert {"capacity_l", "noise_db", "energy_class", "colours", "price_eur"} <= set(ours)
    assert {f["unit"] for f in ours.values() if "unit" in f} - {f["unit"] for f in voltaris.values() if "unit" in f} \
        >= {"L", "dB", "bar", "EUR", "cm"}
    products = json.loads((root / "catalog.json").read_text(encoding="utf-8"))["products"]
    assert 20 <= len(products) <= 30 and len({p["category"] for p in products}) == 5
    csv_bytes = (root / "helpdesk_2024.csv").read_bytes()
    assert csv_bytes.startswith(b"\xef\xbb\xbfticket_id;") and b"\r\n" in csv_bytes
    tsv = (root / "returns_2023.tsv").read_bytes()
    assert b"\x80" in tsv  # the euro sign in Windows-1252
    with pytest.raises(UnicodeDecodeError):
        tsv.decode("utf-8")
    text = csv_bytes.decode("utf-8") + (root / "chats_2025.jsonl").read_text(encoding="utf-8")
    for planted in ("IBAN", "+49 30", "+33 6", "Lindenstraße", "<p>", "wrote:", "Alvast bedankt", "€"):
        assert planted in text, planted
    tickets = sum(1 for _ in csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig")), delimiter=";")) - 1
    assert 300 <= tickets + text.count('"chat_id"') + tsv.count(b"\r\nR3") <= 500
