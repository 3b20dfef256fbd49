"""Pilot reading: the synthetic sample, validation of logs, and uplift intervals with known answers."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.eval.pilot import (SAMPLE_LOG, PilotLogError, arm_summary, load_pilot_log, synthetic_pilot_log, uplift,
                           write_pilot_log)


def test_committed_sample_is_labelled_synthetic_and_reproducible(tmp_path: Path) -> None:
    assert SAMPLE_LOG.read_text().splitlines()[0].startswith("# SYNTHETIC DATA")
    assert "SYNTHETIC" in (SAMPLE_LOG.parent / "README.md").read_text()
    fresh = write_pilot_log(synthetic_pilot_log(seed=0), tmp_path / "log.csv")
    assert fresh.read_text() == SAMPLE_LOG.read_text()


def test_sample_summary_and_uplift_are_plausible() -> None:
    log = load_pilot_log()
    summary = arm_summary(log, 300, seed=1)
    assert list(summary.index) == ["control", "pilot"] and summary.conversations.sum() == len(log) == 800
    assert (summary.survey_answers < summary.conversations).all()  # skipped surveys are not counted as scores
    csat = uplift(log, "csat", 500, seed=1)
    assert csat.pilot > csat.control and csat.low > 0
    assert "excludes zero" in csat.reading and "improved" in csat.reading
    assert uplift(log, "csat", 500, seed=1) == csat


def _log(control: list[int], pilot: list[int], metric: str) -> pd.DataFrame:
    rows = [{"arm": "control", metric: v} for v in control] + [{"arm": "pilot", metric: v} for v in pilot]
    return pd.DataFrame(rows)


def test_escalation_drop_reads_as_improvement() -> None:
    log = _log([1] * 30 + [0] * 70, [1] * 10 + [0] * 90, "escalated")
    result = uplift(log, "escalated", 1000, seed=0)
    assert result.difference == pytest.approx(-0.2) and result.relative == pytest.approx(-2 / 3)
    assert result.high < 0 and "improved" in result.reading and "-20.0 points" in result.reading


def test_no_difference_reads_as_undecided() -> None:
    log = _log([1, 2, 3, 4, 5] * 4, [2, 3, 4, 5, 1] * 4, "csat")
    result = uplift(log, "csat", 500)
    assert result.difference == 0 and result.low < 0 < result.high
    assert "cannot tell an effect from chance" in result.reading


@pytest.mark.parametrize("line, message", [
    ("c-9,pilot,1,7,0", "line 4: csat must be 1-5"),
    ("c-9,treatment,1,4,0", "line 4: arm must be one of control, pilot"),
    ("c-9,pilot,1,4,yes", "line 4: escalated must be 0 or 1"),
])
def test_bad_rows_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "log.csv"
    path.write_text("# comment\nconversation_id,arm,week,csat,escalated\nc-1,control,1,4,0\n" + line + "\n")
    with pytest.raises(PilotLogError, match=message):
        load_pilot_log(path)


def test_missing_column_or_arm_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("conversation_id,arm,csat\nc-1,control,4\n")
    with pytest.raises(PilotLogError, match="missing column"):
        load_pilot_log(path)
    path.write_text("conversation_id,arm,week,csat,escalated\nc-1,control,1,4,0\n")
    with pytest.raises(PilotLogError, match="no conversations in the 'pilot' arm"):
        load_pilot_log(path)
    with pytest.raises(ValueError, match="metric must be"):
        uplift(load_pilot_log(SAMPLE_LOG), "nps")
