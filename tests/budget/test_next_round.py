"""Planning the next round from the error analysis, and the baseline-promotion command."""
from __future__ import annotations

import pytest

from support.budget_fixtures import BREAKDOWN, make_run
from helpers.budget.next_round import promote_commands, read_breakdown, weak_spots


def test_weak_spots_weakest_first_with_actions(tmp_path) -> None:
    run = make_run(tmp_path)
    table = weak_spots(read_breakdown(run), max_score=0.7, min_n=8)
    assert list(table["name"]) == ["warranty_claim", "routers", "setup_help", "cables"]
    actions = dict(zip(table["name"], table["action"]))
    assert actions["routers"].startswith("better data") and actions["setup_help"].startswith("more data")
    assert "switches" not in set(table["name"]) and "track_order" not in set(table["name"])


def test_missing_or_broken_breakdown(tmp_path) -> None:
    run = make_run(tmp_path, breakdown=False)
    assert read_breakdown(run) is None
    (run.eval / "breakdown.json").write_text("{oops")
    with pytest.raises(ValueError, match="breakdown.json"):
        read_breakdown(run)
    with pytest.raises(ValueError, match="routers.*accuracy"):
        weak_spots({"category": {"routers": {"n": 3}}})
    assert weak_spots({}).empty and BREAKDOWN


def test_promote_commands_name_the_run(tmp_path) -> None:
    run = make_run(tmp_path, "best-run")
    make_cmd, python_cmd = promote_commands(run)
    assert make_cmd.startswith("make baseline RUN=best-run")
    assert python_cmd.endswith(f"-m helpers.eval.regression promote {run.root}")
