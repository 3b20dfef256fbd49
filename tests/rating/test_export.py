"""The export rule: majority over raters, ties and disagreements dropped, references for bad answers; a stray row
or a skipped choice does not stop or sway the export."""
from __future__ import annotations

import json

from support.rating_support import make_items
from trl.data_utils import is_conversational

from helpers.rating.export import export_preferences, preference_pairs
from helpers.rating.store import Rating

ITEM = make_items(1)[0]
GOOD, BAD, REF = ITEM.answers["sft"], ITEM.answers["base"], ITEM.reference


def vote(rater: str, preferred: str, acc_base: int = 1, acc_sft: int = 5, swap: bool = False) -> Rating:
    """A finished rating preferring a model (or 'tie' / 'both_bad'), in either shown order."""
    a, b = ("sft", "base") if swap else ("base", "sft")
    choice = {a: "A", b: "B"}.get(preferred, preferred)
    acc = {"base": acc_base, "sft": acc_sft}
    return Rating(rater, ITEM.item_id, a, b, help_a=3, acc_a=acc[a], help_b=3, acc_b=acc[b], choice=choice)


def pairs(*votes: Rating) -> list[tuple[str, str]]:
    report = preference_pairs([ITEM], list(votes))
    return [(p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in report.pairs]


def test_majority_winner_and_reference_against_an_inaccurate_loser():
    # the reference equals the good answer here, so the extra pair would duplicate: written once
    assert pairs(vote("r1", "sft"), vote("r2", "sft", swap=True), vote("r3", "base")) == [(GOOD, BAD)]
    other = ITEM.__class__(**{**ITEM.__dict__, "reference": "Catalog: 450 W."})
    report = preference_pairs([other], [vote("r1", "sft"), vote("r2", "sft")])
    assert [p["chosen"][0]["content"] for p in report.pairs] == [GOOD, "Catalog: 450 W."]


def test_accurate_loser_gives_only_the_winner_pair():
    other = ITEM.__class__(**{**ITEM.__dict__, "reference": "Catalog: 450 W."})
    report = preference_pairs([other], [vote("r1", "sft", acc_base=4), vote("r2", "sft", acc_base=3)])
    assert len(report.pairs) == 1


def test_ties_and_disagreements_give_no_pair():
    assert pairs(vote("r1", "tie"), vote("r2", "tie"), vote("r3", "sft")) == []
    assert pairs(vote("r1", "sft"), vote("r2", "base")) == []
    report = preference_pairs([ITEM], [vote("r1", "sft"), vote("r2", "base")])
    assert report.outcome == {ITEM.item_id: "disagreement"} and report.counts == {"disagreement": 1}


def test_both_bad_pairs_the_reference_with_each_answer():
    other = ITEM.__class__(**{**ITEM.__dict__, "reference": "Catalog: 450 W."})
    report = preference_pairs([other], [vote("r1", "both_bad"), vote("r2", "both_bad")])
    assert sorted((p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in report.pairs) == sorted(
        [("Catalog: 450 W.", BAD), ("Catalog: 450 W.", GOOD)])
    no_reference = ITEM.__class__(**{**ITEM.__dict__, "reference": ""})
    assert preference_pairs([no_reference], [vote("r1", "both_bad")]).pairs == []


def test_skipped_and_unrated_items_are_ignored():
    skipped = Rating("r1", ITEM.item_id, "base", "sft", skipped=True)
    report = preference_pairs([ITEM], [skipped])
    assert report.pairs == [] and report.outcome == {ITEM.item_id: "unrated"}


def test_export_writes_trl_conversational_pairs(tmp_path):
    report = export_preferences([ITEM], [vote("r1", "sft")], tmp_path)
    lines = (tmp_path / "preferences.jsonl").read_text().splitlines()
    assert len(lines) == len(report.pairs) == 1
    pair = json.loads(lines[0])
    assert set(pair) == {"prompt", "chosen", "rejected"} and is_conversational(pair)
    assert pair["prompt"] == ITEM.messages and pair["chosen"] == [{"role": "assistant", "content": GOOD}]
    summary = json.loads((tmp_path / "export_summary.json").read_text())
    assert summary["pairs"] == 1 and summary["outcomes"] == {"decisive": 1}


def test_a_row_naming_other_models_is_reported_and_the_rest_exported():
    items = make_items(3)
    good = [vote("r1", "sft"), vote("r2", "sft")]
    rows = [Rating(r.rater, it.item_id, r.shown_a, r.shown_b, r.help_a, r.acc_a, r.help_b, r.acc_b, r.choice)
            for it in items for r in good]
    stray = Rating("r3", items[1].item_id, "dpo", "rag", help_a=3, acc_a=1, help_b=3, acc_b=5, choice="B")
    report = preference_pairs(items, rows + [stray])
    assert report.outcome[items[1].item_id] == "mismatched"
    assert items[1].item_id in report.problems and "'dpo', 'rag'" in report.problems[items[1].item_id]
    assert "r3" in report.problems[items[1].item_id]
    assert {report.outcome[it.item_id] for it in (items[0], items[2])} == {"sft"}
    assert len(report.pairs) == 2 and report.counts == {"decisive": 2, "mismatched": 1}


def test_choosing_a_then_skipping_is_not_a_vote(tmp_path):
    from helpers.rating.store import RatingStore
    from helpers.rating.widget import RatingApp

    items = make_items(2)
    with RatingStore(tmp_path / "r.sqlite", "ann") as store:
        app = RatingApp(store, items, seed=0)
        app.choose("A")
        app.skip()        # changed their mind: no judgement on this item
        app.choose("B")   # the second item is rated
        ratings = store.ratings()
    assert [r.skipped for r in ratings] == [True, False] and ratings[0].choice == "A"
    report = preference_pairs(items, ratings)
    assert report.outcome[items[0].item_id] == "unrated"
    assert len(report.pairs) == 1 and report.pairs[0]["prompt"] == items[1].messages
