"""Metric code on hand-made cases with known answers, checked against rouge-score and scikit-learn directly.

(The outcome of a product answer, right or wrong, is tested in tests/data/test_outcomes.py.)"""
from __future__ import annotations

import pytest
from rouge_score import rouge_scorer
from sklearn.metrics import confusion_matrix, f1_score

from helpers.eval.metrics import (UNPARSED, macro_f1, predicted_intents, rouge_l, routing_scores,
                                  scored_labels)


def test_rouge_l_agrees_with_rouge_score_and_uses_stemming() -> None:
    preds = ["the cables are running fast", "completely unrelated", "", "The Marlow is rated at 450 W."]
    refs = ["the cable runs fast", "the Marlow is rated at 450 W", "something", "The Marlow is rated at 450 W."]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    expected = [scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(preds, refs)]
    assert rouge_l(preds, refs) == pytest.approx(expected)
    got = rouge_l(preds, refs)
    assert got[3] == pytest.approx(1.0) and got[1] == 0.0 and got[2] == 0.0
    # "cables ... running" matches "cable ... runs" only because of stemming: 4 of 5 / 4 of 4 tokens.
    assert got[0] == pytest.approx(2 * 0.8 * 1.0 / 1.8)


def test_rouge_l_rejects_misaligned_inputs() -> None:
    with pytest.raises(ValueError, match="2 predictions for 1 references"):
        rouge_l(["a", "b"], ["a"])


def test_unparseable_routing_answers_count_as_wrong() -> None:
    labels = ["cancel_order", "get_refund", "track_order"]
    answers = ["Intent: cancel_order", "intent: get_refund", "I am not sure", "Intent: fly_to_moon",
               "Intent: track_order", "Intent: cancel_order"]
    truth = ["cancel_order", "get_refund", "get_refund", "track_order", "track_order", "track_order"]
    predicted = predicted_intents(answers, labels)
    assert predicted == ["cancel_order", "get_refund", UNPARSED, UNPARSED, "track_order", "cancel_order"]
    scores = routing_scores(truth, predicted, labels)
    expected = f1_score(truth, predicted, labels=labels, average=None, zero_division=0)
    assert [scores.per_intent[lab] for lab in labels] == pytest.approx(expected)
    # By hand: cancel P=1/2 R=1 -> 2/3; refund P=1 R=1/2 -> 2/3; track P=1 R=1/3 -> 1/2.
    assert scores.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 1 / 2) / 3)
    assert macro_f1(truth, predicted, labels) == pytest.approx(scores.macro_f1)
    assert scores.accuracy == pytest.approx(3 / 6) and scores.unparsed_rate == pytest.approx(2 / 6)
    assert scores.support == {"cancel_order": 1, "get_refund": 2, "track_order": 3}
    full = confusion_matrix(truth, predicted, labels=labels + [UNPARSED])
    assert (scores.confusion.to_numpy() == full[:3]).all()
    assert scores.confusion.loc["track_order", UNPARSED] == 1
    assert scores.confusion.loc["track_order", "cancel_order"] == 1
    assert scores.confusion.to_numpy().sum() == len(truth)


def test_dropping_unparsed_answers_would_inflate_f1() -> None:
    labels = ["a_x", "b_y"]
    truth, answers = ["a_x", "b_y", "b_y"], ["Intent: a_x", "Intent: b_y", "no idea"]
    counted = routing_scores(truth, predicted_intents(answers, labels), labels).macro_f1
    assert counted < 1.0  # dropped, the two parseable answers would give a perfect 1.0


def test_routing_scores_reject_empty_and_misaligned() -> None:
    with pytest.raises(ValueError, match="no routing examples"):
        routing_scores([], [])
    with pytest.raises(ValueError, match="1 predictions for 2 tickets"):
        routing_scores(["a", "b"], ["a"])


def test_fast_macro_f1_equals_scikit_learn_on_random_cases() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    labels = ["a_x", "b_y", "c_z", "d_w"]
    for _ in range(50):
        truth = rng.choice(labels[:3], 25).tolist()  # d_w is scored only when predicted
        predicted = rng.choice(labels + [UNPARSED, "other"], 25).tolist()
        scored = sorted((set(truth) | set(predicted)) & set(labels))
        assert scored_labels(truth, predicted, labels) == scored
        expected = f1_score(truth, predicted, labels=scored, average="macro", zero_division=0)
        assert macro_f1(truth, predicted, labels) == pytest.approx(expected)


def test_intent_absent_from_a_sample_is_not_scored_zero() -> None:
    labels = ["a_x", "b_y", "c_z"]
    truth = ["a_x", "b_y", "a_x"]
    assert macro_f1(truth, truth, labels) == 1.0  # c_z neither occurs nor is predicted
    assert routing_scores(truth, truth, labels).macro_f1 == 1.0
    assert macro_f1(truth, ["a_x", "b_y", "c_z"], labels) == pytest.approx((2 / 3 + 1 + 0) / 3)
