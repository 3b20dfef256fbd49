"""Cleaning under hostile input: linear time on pathological text, no control characters left."""
from __future__ import annotations

import time

import pytest

from helpers.data.cleaning import clean_message, clean_reply

MEGABYTE = 1_000_000


@pytest.mark.parametrize("piece", ["\n", " \t\n", "<p>\n", "> \n", "Let us know if there is anything else "])
def test_a_megabyte_of_pathological_text_is_cleaned_in_linear_time(piece: str) -> None:
    text = "The Tessera Pro is rated at 650 W." + piece * (MEGABYTE // len(piece)) + "Regards,\nBo"
    start = time.process_time()
    reply, message = clean_reply(text), clean_message(text)
    assert time.process_time() - start < 2.0  # 40,000 blank lines alone took 74 s when the time was quadratic
    assert reply.startswith("The Tessera Pro is rated at 650 W.") and message.startswith("The Tessera Pro")


def test_control_characters_never_reach_the_cleaned_text() -> None:
    raw = "Does the\x00 VX-PS-1000\x1b[31m fit?\ufeff\r\nThanks,\x07\nAnn"
    assert clean_message(raw) == "Does the VX-PS-1000[31m fit?"
    assert clean_reply("It is\x00 rated at\x85650\tW.\x0b") == "It is rated at 650 W."
