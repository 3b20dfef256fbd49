"""One validation of the names a person chooses: run names, participants (both name folders) and raters."""
import re

import pytest

from helpers.core.config import SettingsError, load_settings
from helpers.core.names import check_participant, check_rater, check_run_name
from helpers.core.runs import open_run
from helpers.rating.store import RatingStore
from helpers.workshop.participants import participant_session


@pytest.mark.parametrize("bad", ["demo\n", "demo\r", "../x", "/abs", "a/b", ".hidden", "", "x" * 65, "dé mo"])
def test_run_names_that_would_make_odd_folders_are_refused(tmp_path, bad):
    with pytest.raises(SettingsError, match="run_name"):
        open_run(bad, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == []


@pytest.mark.parametrize("bad", ["../../x", "/etc", "/tmp/elsewhere", "ada\nbo", "..", "a/b", ""])
def test_a_participant_cannot_write_outside_the_runs_folder(tmp_path, bad):
    runs = tmp_path / "runs"
    with pytest.raises(SettingsError, match="workshop.participant"):
        participant_session(load_settings("workshop"), "demo", runs, participant=bad)
    assert not tmp_path.joinpath("x").exists() and not runs.exists()


@pytest.mark.parametrize("bad, named", [
    ("ada\x7f", "U+007F"),             # DEL
    ("ad\x85a", "U+0085"),             # a C1 control (next line)
    ("ada\u202egnp.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("a\u200bda", "U+200B ZERO WIDTH SPACE"),
    ("ad\u2028a", "U+2028 LINE SEPARATOR"),
    ("ada\tbo", "U+0009"),
])
def test_rater_names_with_invisible_or_control_characters_are_refused(tmp_path, bad, named):
    with pytest.raises(SettingsError, match=f"rating.rater .*{re.escape(named)}.*letters, digits, spaces"):
        check_rater(bad)
    with pytest.raises(SettingsError, match=re.escape(named)):
        RatingStore(tmp_path / "r.sqlite", bad)


def test_good_names_pass_unchanged_but_stripped():
    assert check_run_name("cpu-demo_2.1") == "cpu-demo_2.1"
    assert check_participant("team-3@lab") == "team-3@lab"
    assert check_rater("  José Ñúñez-O'Brien ") == "José Ñúñez-O'Brien"
    assert check_rater("李雷") == "李雷"
    with pytest.raises(SettingsError, match="1-64"):
        check_rater("x" * 65)
