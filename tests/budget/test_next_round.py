"""Planning the next round from the error analysis, and the baseline-promotion command."""
from __future__ import annotations

import pytest

from support.budget_fixtures import BREAKDOWN, make_run
from helpers.budget.next_round import promote_commands, read_breakdown, weak_spots


def test_the_plan_follows_the_errors_and_the_training_counts_not_the_test_size(tmp_path) -> None:
    run = make_run(tmp_path)
    table = weak_spots(read_breakdown(run), max_score=0.7)
    assert list(table["name"]) == ["RT-200", "warranty_claim", "RT-100", "RT-300", "setup_help", "get_refund"]
    actions = dict(zip(table["name"], table["action"]))
    assert actions["RT-100"].startswith("more passes: 7 of 12 answers state a wrong value")
    assert actions["RT-200"].startswith("teach the answer: 7 of 10 answers state no value")
    assert actions["RT-300"].startswith("more data: only 6 training examples")
    assert actions["warranty_claim"].startswith("list the labels or constrain decoding: 6 answers")
    assert actions["setup_help"].startswith("contrast with get_refund (5 mix-ups)")
    assert actions["get_refund"].startswith("more data: only 2 training utterances")
    assert not any("test" in a for a in actions.values())
    assert "SW-100" not in actions and "track_order" not in actions


def test_missing_or_broken_breakdown(tmp_path) -> None:
    run = make_run(tmp_path, breakdown=False)
    assert read_breakdown(run) is None
    (run.eval / "breakdown.json").write_text("{oops")
    with pytest.raises(ValueError, match="breakdown.json"):
        read_breakdown(run)
    with pytest.raises(ValueError, match="product 'RT-1' lacks correct"):
        weak_spots({"product": {"RT-1": {"n": 3}}})
    assert weak_spots({}).empty and BREAKDOWN


def test_promote_commands_name_the_run(tmp_path) -> None:
    run = make_run(tmp_path, "best-run")
    make_cmd, python_cmd = promote_commands(run)
    assert make_cmd.startswith("make baseline RUN=best-run")
    assert python_cmd.endswith(f"-m helpers.eval.regression promote {run.root}")
