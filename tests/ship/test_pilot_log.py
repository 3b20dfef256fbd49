"""The pilot log: PII never reaches the file, records carry the model version, reviews become next-round examples."""
from __future__ import annotations

import json

import pytest

from support.ship_support import toy_checker

from helpers.core.examples import question, reference_answer, system_prompt
from helpers.ship.pilot_log import (CHECKER, PilotLogError, Review, append_record, next_round_examples, read_log,
                                    review_by_checker)

SYSTEM = system_prompt("Voltaris Hardware")

CARD = "4111 1111 1111 1111"
PII = {"NAME": "Dana Whitfield", "EMAIL": "dana.whitfield@example.com", "PHONE": "+1 415 555 0134",
       "ADDRESS": "221 Baker Street", "CARD": CARD, "ORDER": "#4839201"}


@pytest.fixture
def checker():
    return toy_checker()


def test_every_pii_type_is_redacted_before_it_is_written(tmp_path):
    log = tmp_path / "pilot_log.jsonl"
    said = (f"My name is {PII['NAME']}, write to {PII['EMAIL']} or call {PII['PHONE']}. I live at {PII['ADDRESS']}. "
            f"Card {PII['CARD']}, order {PII['ORDER']}: what wattage is the Tessera Pro (VX-PS-4471)?")
    answer = (f"Thanks Dana Whitfield! I will mail {PII['EMAIL']} or call 415 555 0134 (or 555-0134). "
              "The Tessera Pro (VX-PS-4471) is rated at 650 W.")
    record = append_record(log, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": said}],
                           answer, "toy/sft@0123456789ab", conversation_id="c-1", seconds=0.5, completion_tokens=20)
    text = log.read_text()
    for kind, value in PII.items():
        assert value not in text, f"{kind} leaked into the pilot log"
        assert f"<{kind}>" in text
    assert "Whitfield" not in text  # the name the customer gave is redacted in the answer too
    assert "0134" not in text  # so is the phone number, re-spaced and shortened by the model
    assert "VX-PS-4471" in text and "650 W" in text  # product facts are kept: they are what the review checks
    assert record["redacted"]["EMAIL"] == 2
    stored = read_log(log)[0]
    assert stored["model_version"] == "toy/sft@0123456789ab" and stored["conversation_id"] == "c-1"


def test_a_broken_log_line_is_named(tmp_path):
    log = tmp_path / "pilot_log.jsonl"
    append_record(log, [{"role": "user", "content": "hi"}], "hello", "v1")
    with open(log, "a") as fh:
        fh.write('{"messages": [}\n')
    with pytest.raises(PilotLogError, match=r"pilot_log.jsonl:2"):
        read_log(log)


def _record(q: str, a: str) -> dict:
    return {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}], "answer": a}


def test_headless_review_lets_the_catalog_checker_decide(checker):
    records = [_record("What wattage is the Tessera Pro (VX-PS-4471)?", "The Tessera Pro (VX-PS-4471) is rated at 650 W."),
               _record("How many watts does the Marlow (VX-PS-2290) deliver?", "The Marlow (VX-PS-2290) is rated at 500 W."),
               _record("Where is my parcel?", "It is on its way."),
               _record("Tell me about the Kestrel (VX-PS-8812).", "It is a good product.")]
    reviews = review_by_checker(records, checker)
    assert [r.right for r in reviews] == [True, False, None, None]
    assert all(r.reviewer == CHECKER for r in reviews)
    assert reviews[1].correction == "The Marlow (VX-PS-2290) is rated at 450 W."
    assert "wattage_w said 500" in reviews[1].note
    assert reviews[2].note == "names no catalog product"


def test_corrections_become_examples_in_notebook_01_format(checker):
    wrong = Review(1, "How many watts does the Marlow (VX-PS-2290) deliver?", "It is rated at 500 W.", "VX-PS-2290",
                   False, "ada", "The Marlow (VX-PS-2290) is rated at 450 W.")
    still_wrong = Review(2, "Marlow (VX-PS-2290) wattage?", "600 W", "VX-PS-2290", False, "ada",
                         "The Marlow (VX-PS-2290) is rated at 460 W.")
    right = Review(3, "Marlow wattage?", "450 W", "VX-PS-2290", True, "ada")
    examples = next_round_examples([wrong, still_wrong, right], checker)
    assert len(examples) == 1, "only a wrong answer with a correct correction teaches something"
    ex = examples[0]
    assert ex["task"] == "product_qa" and ex["id"].startswith("pilot-")
    assert [m["role"] for m in ex["messages"]] == ["user", "assistant"], "the format of notebook 01: no system turn"
    assert question(ex) == wrong.question and reference_answer(ex) == wrong.correction
    assert ex["meta"]["product"] == "VX-PS-2290" and ex["meta"]["fields"] == {"wattage_w": 450}
    assert ex["meta"]["source"] == "pilot" and ex["meta"]["reviewer"] == "ada"
    assert json.loads(json.dumps(ex)) == ex
