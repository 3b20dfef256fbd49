"""The scripted rater: judgements against catalog facts, and ratings written through the app and store."""
from __future__ import annotations

from support.rating_support import FakeChecker, make_items

from helpers.rating.simulated import SimulatedRater, default_raters, judge, simulate_ratings
from helpers.rating.store import RatingStore

ITEM = make_items(1)[0]  # VX-PS-4400, 450 W


def test_judge_scores_against_the_facts():
    catalog = FakeChecker()
    assert judge("The VX-PS-4400 is rated at 450 W.", ITEM, catalog).accuracy == 5
    assert judge("It gives 650 W.", ITEM, catalog).accuracy == 1
    assert judge("Please contact support.", ITEM, catalog).accuracy == 2
    assert judge("450 W, and see the VX-ZZ-9999.", ITEM, catalog).accuracy == 3
    rambling = judge("450 W " + "really " * 70, ITEM, catalog)
    assert (rambling.accuracy, rambling.helpfulness) == (5, 4)
    assert judge("", ITEM, catalog).helpfulness == 1


def test_simulated_raters_rate_everything_through_the_store(tmp_path):
    items = make_items(10)
    db = tmp_path / "r.sqlite"
    done = simulate_ratings(db, items, FakeChecker(), default_raters(2, seed=1), seed=1)
    assert done == {"simulated-1": 10, "simulated-2": 10}
    with RatingStore(db, "check") as store:
        rows = store.ratings()
    assert len(rows) == 20 and all(r.simulated and r.done for r in rows)
    assert {r.shown_a for r in rows} == {"base", "sft"}  # the A/B order really varies
    assert sum(r.preferred == "sft" for r in rows) >= 18  # the right answer wins
    assert all(r.scores("sft")[1] >= 4 and r.scores("base")[1] <= 2 for r in rows)
    assert simulate_ratings(db, items, FakeChecker(), default_raters(2, seed=1)) == {"simulated-1": 0,
                                                                                   "simulated-2": 0}


def test_both_wrong_is_both_bad_with_a_comment(tmp_path):
    items = [ITEM.__class__(**{**ITEM.__dict__, "answers": {"base": "It is 100 W.", "sft": "Try 200 W."}})]
    simulate_ratings(tmp_path / "r.sqlite", items, FakeChecker(), [SimulatedRater("sim", noise=0)])
    with RatingStore(tmp_path / "r.sqlite", "sim") as store:
        row = store.get(ITEM.item_id)
    assert row.choice == "both_bad" and "catalog" in row.comment
