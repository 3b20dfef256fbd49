"""The rating app's logic without a browser: clicks, keys, stored values, escaping, resume, summary."""
from __future__ import annotations

import pytest
from support.rating_support import make_items

from helpers.rating.items import RatingItem, shown_order
from helpers.rating.store import RatingStore
from helpers.rating.widget import RatingApp


@pytest.fixture
def app(tmp_path) -> RatingApp:
    return RatingApp(RatingStore(tmp_path / "r.sqlite", "ann"), make_items(5), seed=3)


def test_clicks_are_stored_at_once_in_the_shown_order(app):
    app.scales["help_a"].value = 4
    app.scales["acc_b"].value = 2
    app.choice_buttons["B"].click()
    row = app.store.get("qa-000")
    assert (row.help_a, row.acc_b, row.choice) == (4, 2, "B")
    assert (row.shown_a, row.shown_b) == shown_order(app.item, "ann", 3)
    assert app.shown_answers() == (app.item.answers[row.shown_a], app.item.answers[row.shown_b])
    assert app.choice_buttons["B"].button_style == "info" and app.choice_buttons["A"].button_style == ""
    assert "saved choice" in app.status.value


def test_keys_score_choose_and_move(app):
    app.keys.value = "4532a"
    row = app.store.get("qa-000")
    assert (row.help_a, row.acc_a, row.help_b, row.acc_b, row.choice) == (4, 5, 3, 2, "A")
    assert app.keys.value == ""  # the box clears itself for the next key
    app.keys.value = "n"
    assert app.index == 1
    app.keys.value = "x"
    app.keys.value = "p"
    assert app.index == 0 and app.store.get("qa-001").choice == "both_bad"
    app.keys.value = "s"
    assert app.index == 1 and app.store.get("qa-000").skipped
    app.keys.value = "t?Z"  # unknown keys are ignored
    assert app.store.get("qa-001").choice == "tie"


def test_keys_move_the_highlighted_scale(app):
    assert app.active == "help_a" and app.scales["help_a"].description.startswith("▶")
    app.keys.value = "jj3"  # down twice: helpfulness of B
    app.keys.value = "kk1"  # now on accuracy B, up twice: accuracy A
    row = app.store.get("qa-000")
    assert (row.help_a, row.acc_a, row.help_b, row.acc_b) == (None, 1, 3, None)
    assert app.active == "help_b" and app.scales["help_b"].description.startswith("▶")


def test_choosing_after_skipping_clears_the_skip(app):
    app.skip()
    app.back()
    app.choose("A")
    row = app.store.get("qa-000")
    assert row.choice == "A" and not row.skipped


def test_comment_is_saved(app):
    app.comment.value = "Answer B names the wrong product."
    assert app.store.get("qa-000").comment == "Answer B names the wrong product."


def test_markup_in_answers_is_shown_literally(tmp_path):
    item = RatingItem("x1", "Is <i>this</i> safe?", {"wattage_w": 650}, "base", "sft",
                      {"base": "<script>window.__pwned=1</script><b>bold</b>", "sft": "<img src=x onerror=alert(1)>"})
    app = RatingApp(RatingStore(tmp_path / "r.sqlite", "ann"), [item])
    shown = app.answers["A"].value + app.answers["B"].value + app.question.value
    assert "<script>" not in shown and "<b>" not in shown and "<img" not in shown and "<i>" not in shown
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in shown


def test_resume_after_restart_and_raters_are_separate(tmp_path):
    items = make_items(5)
    first = RatingApp(RatingStore(tmp_path / "r.sqlite", "ann"), items)
    for _ in range(2):
        first.choose("A")
        first.next()
    first.scales["help_a"].value = 3  # started, not finished
    first.store.close()
    again = RatingApp(RatingStore(tmp_path / "r.sqlite", "ann"), items)  # a new kernel
    assert again.index == 2 and again.scales["help_a"].value == 3 and again.progress.value == 2
    other = RatingApp(RatingStore(tmp_path / "r.sqlite", "bob"), items)
    assert other.index == 0 and other.scales["help_a"].value is None


def test_two_views_on_one_store_show_what_is_stored(tmp_path):
    items = make_items(3)
    one = RatingApp(RatingStore(tmp_path / "r.sqlite", "ann"), items)
    two = RatingApp(RatingStore(tmp_path / "r.sqlite", "ann"), items)
    one.scales["acc_a"].value = 5
    two.scales["help_b"].value = 1  # written by the other view: no lost update
    one.show(0)
    assert (one.scales["acc_a"].value, one.scales["help_b"].value) == (5, 1)


def test_summary_after_the_last_item_and_back(app):
    for _ in range(5):
        app.choose("A")
        app.next()
    assert app.widget.children[0] is app.summary_view
    assert "5 rated, 0 skipped, 0 still open" in app.summary.value
    app.back()
    assert app.widget.children[0] is app.rating_view and app.index == 4
    again = RatingApp(app.store, make_items(5))  # finished work resumes on the summary
    assert again.widget.children[0] is again.summary_view


def test_a_refused_save_is_reported_and_the_screen_shows_the_stored_value(app, monkeypatch):
    app.scales["help_a"].value = 2

    def locked(*args, **kwargs):
        raise TimeoutError("database is locked")  # e.g. the shared folder hangs

    monkeypatch.setattr(app.store, "set", locked)
    with pytest.raises(TimeoutError):
        app.scales["help_a"].value = 4
    assert "Not saved: database is locked" in app.status.value
    assert app.scales["help_a"].value == 2
