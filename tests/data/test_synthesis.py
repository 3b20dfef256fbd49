"""Catalog questions: how a question names its product, by role."""
from __future__ import annotations

from pathlib import Path

from helpers.core.examples import question, reference_answer
from helpers.data.catalog import Catalog
from helpers.data.synthesis import catalog_examples

COUNTS = {"train": 6, "val": 1, "feedback": 1, "test": 3}


def _code_only_share(catalog: Catalog, examples: list[dict]) -> float:
    """Share of questions that give the product's code but not its name."""
    hits = [catalog.get(ex["meta"]["product"]) for ex in examples]
    return sum(p.code in question(ex) and p.name not in question(ex)
               for p, ex in zip(hits, examples)) / len(examples)


def test_code_only_train_asks_more_training_questions_by_code_and_leaves_the_held_out_ones_as_drawn(repo: Path):
    """The held-out splits keep the even draw of names (the evaluation is unchanged); training questions shift to codes."""
    catalog = Catalog.load(repo / "data_samples" / "voltaris" / "catalog.json")
    plain, roles = catalog_examples(catalog, COUNTS, seed=2)
    boosted, boosted_roles = catalog_examples(catalog, COUNTS, seed=2, code_only_train=0.34)
    assert boosted_roles == roles
    held_out = [i for i, r in enumerate(roles) if r != "train"]
    assert [boosted[i] for i in held_out] == [plain[i] for i in held_out]
    train = [i for i, r in enumerate(roles) if r == "train"]
    before = _code_only_share(catalog, [plain[i] for i in train])
    after = _code_only_share(catalog, [boosted[i] for i in train])
    assert 0.2 < before < 0.3 and 0.45 < after < 0.55, (before, after)
    changed = [boosted[i] for i in train if boosted[i] != plain[i]]
    assert changed and _code_only_share(catalog, changed) == 1.0
    assert [reference_answer(ex) for ex in boosted] == [reference_answer(ex) for ex in plain]  # same answers


def test_a_ticket_reply_keeps_its_words_and_introduces_the_product_in_the_answer_form(repo: Path):
    """Only the product's full 'Name (CODE)' / 'CODE (Name)' mention changes; the agent's wording stays."""
    from helpers.data.synthesis import ticket_example

    catalog = Catalog.load(repo / "data_samples" / "voltaris" / "catalog.json")
    product = catalog.products[0]
    reply = f"Sure! The {product.name} ({product.code}) ships today; the {product.name} alone is {product.code}."
    fields = {next(iter(product.facts)): next(iter(product.facts.values()))}
    code_first = ticket_example(catalog, product, "Q?", reply, fields, "code_name")
    assert reference_answer(code_first) == (f"Sure! The {product.code} ({product.name}) ships today; "
                                            f"the {product.name} alone is {product.code}.")
    assert reference_answer(ticket_example(catalog, product, "Q?", reference_answer(code_first), fields)) == reply


def test_noun_questions_name_each_field_by_other_schema_words_and_train_only(repo: Path, tmp_path: Path) -> None:
    """Each fact gets its questions 'Product: <word>?' in training; the held-out splits stay exactly as without them."""
    from helpers.core.config import load_settings
    from helpers.data.pipeline import curate

    source = repo / "data_samples" / "hearthline"  # another vendor's schema and words
    plain = curate(source, tmp_path / "plain", load_settings("cpu-full", {"data.noun_questions": 0}).data)
    more = curate(source, tmp_path / "more", load_settings("cpu-full", {"data.noun_questions": 2}).data)
    for split in ("val", "feedback", "test"):
        assert more.card["splits"][split]["sha256"] == plain.card["splits"][split]["sha256"]
    added = [ex for ex in more.splits["train"] if ex["meta"]["phrasing"].endswith(":noun")]
    catalog = Catalog.load(source / "catalog.json")
    from helpers.data.pipeline import NOUN_SOURCE
    assert added and more.card["reconciliation"][NOUN_SOURCE] == {
        "read": len(added), "quarantined": 0, "removed": 0, "kept": len(added), "chained": True, "reconciles": True}
    for ex in added:
        field = next(iter(ex["meta"]["fields"]))
        word = question(ex).rsplit(": ", 1)[1].rstrip("?")
        assert word in catalog.fields[field].nouns and word != catalog.fields[field].label
    assert set(more.card["leakage"].values()) == {0}
