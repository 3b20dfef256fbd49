"""The sample corpus generator: deterministic, documented shape, planted mess at known rates."""
from __future__ import annotations

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
