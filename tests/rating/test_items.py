"""Candidates file -> rating items: validation names the line and field; the A/B order is stable."""
from __future__ import annotations

import json

import pytest
from support.rating_support import make_items, write_candidates

from helpers.rating.items import load_items, shown_order


def test_load_items_round_trip(tmp_path):
    items = make_items(4)
    loaded = load_items(write_candidates(tmp_path / "c.jsonl", items), pair=("base", "sft"))
    assert loaded == items


@pytest.mark.parametrize("line, message", [
    ("{not json", "line 2: not valid JSON"),
    (json.dumps({"item_id": "x", "prompt": "p", "answers": {"base": "a", "sft": "b"}}),
     "line 2: missing field 'facts'"),
    (json.dumps({"item_id": "x", "prompt": "p", "facts": {}, "answers": {"base": "a"}}), "line 2: field 'answers'"),
    (json.dumps({"item_id": "qa-000", "prompt": "p", "facts": {}, "answers": {"base": "a", "sft": "b"}}),
     "item_id 'qa-000' appears twice"),
])
def test_bad_candidates_name_line_and_field(tmp_path, line, message):
    path = write_candidates(tmp_path / "c.jsonl", make_items(1))
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_items(path)
    assert str(path) in str(pytest.raises(ValueError, load_items, path).value)


def test_empty_candidates_file_is_an_error(tmp_path):
    (tmp_path / "c.jsonl").write_text("\n")
    with pytest.raises(ValueError, match="no candidates"):
        load_items(tmp_path / "c.jsonl")


def test_shown_order_is_stable_per_rater_and_varies_across_items():
    items = make_items(12)
    orders = [shown_order(it, "ann", seed=3) for it in items]
    assert orders == [shown_order(it, "ann", seed=3) for it in items]
    assert {("base", "sft"), ("sft", "base")} == set(orders)
    assert orders != [shown_order(it, "bob", seed=3) for it in items]


def test_a_shared_store_decides_which_items_everyone_rates(tmp_path):
    from helpers.rating import items_to_rate
    from helpers.rating.store import RatingStore

    mine = write_candidates(tmp_path / "mine.jsonl", make_items(3))
    db = tmp_path / "shared.sqlite"
    assert items_to_rate(db, mine, ("base", "sft")) == make_items(3)  # empty store: my candidates
    with RatingStore(db, "instructor") as store:
        store.add_items(make_items(5)[3:])
    assert [it.item_id for it in items_to_rate(db, mine)] == ["qa-003", "qa-004"]
