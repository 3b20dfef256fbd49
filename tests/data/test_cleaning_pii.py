"""Cleaning and PII redaction, on hand-made text and against the planted ground truth."""
from __future__ import annotations

import json
from pathlib import Path

from helpers.data.cleaning import clean_message, clean_reply
from helpers.data.dedup import deduplicate
from helpers.data.pii import luhn_ok, redact, score_redaction
from helpers.data.sources import load_tickets


def test_clean_message_removes_markup_quotes_and_signature() -> None:
    raw = ('<div dir="ltr"><p>Hello, what is the wattage of the VX-PS-1000?</p><p>Thanks,<br>Ann Lee</p>'
           "<p>On 3 Mar 2023, Voltaris Support &lt;s@v.example&gt; wrote:<br>&gt; earlier</p></div>")
    assert clean_message(raw) == "Hello, what is the wattage of the VX-PS-1000?"


def test_clean_reply_keeps_only_the_answer() -> None:
    raw = ("Hi Ann,\n\nThe Tessera Pro (VX-PS-1000) is rated at 650 W. Let us know if there is anything else we can "
           "help with.\n\nCheers,\nPriya\n--\nVoltaris Hardware Support\nsupport@voltaris.example")
    assert clean_reply(raw) == "The Tessera Pro (VX-PS-1000) is rated at 650 W."


def test_redact_types_and_leaves_specs_alone() -> None:
    text = ("My name is Ann Lee. Call (555) 201-3344 or +44 20 7946 0958, mail ann@x.example, card "
            "4111 1111 1111 1111, order #556201 or VH-2023-88451, ship to 12 Maple Avenue. "
            "Is the VX-PS-1000 650 W at $129.99, 150 x 86 x 140 mm, from 2021-03-04?")
    out, spans = redact(text)
    assert out == ("My name is <NAME>. Call <PHONE> or <PHONE>, mail <EMAIL>, card <CARD>, order <ORDER> or <ORDER>, "
                   "ship to <ADDRESS>. Is the VX-PS-1000 650 W at $129.99, 150 x 86 x 140 mm, from 2021-03-04?")
    assert not luhn_ok("4111111111111112")
    assert redact("Hi Dana, Dana Whitfield here", ["Dana Whitfield"])[0] == "Hi <NAME>, <NAME> here"


def test_redaction_meets_the_bar_on_planted_pii(repo: Path) -> None:
    root = repo / "data_samples" / "voltaris"
    truth = json.loads((root / "ground_truth.json").read_text())["records"]
    texts = []
    for t in load_tickets(root).tickets:
        planted = truth[t.id][0]["pii"]
        texts += [(t.message, [t.customer_name], planted), (t.reply, [t.customer_name], planted)]
    score = score_redaction(texts)
    assert score["planted"] > 5000
    assert score["recall"] >= 0.99, score["misses"]
    assert score["precision"] >= 0.95, score["false_alarms"]
    assert all(v["found"] / v["planted"] >= 0.95 for v in score["by_type"].values()), score["by_type"]


def test_deduplicate_exact_and_near() -> None:
    texts = ["What is the wattage of the Tessera Pro (VX-PS-4471)? I need it for my new build, thanks.",
             "what is the wattage of the Tessera Pro (VX-PS-4471)?  I need it for my new build, thanks!",
             "What is the wattage of the Tessera Pro (VX-PS-4471)? I need it for my new biuld, thanks.",
             "What is the price of the Kestrel Mini (VX-CB-1020)? I need it for my new build, thanks."]
    keep, removed = deduplicate(texts, 0.8)
    assert keep == [0, 3]
    assert removed == {1: ("exact duplicate", 0), 2: ("near duplicate", 0)}
