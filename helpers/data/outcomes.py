"""One outcome per product answer, by the same rules for every model.

* ``correct``: every asked value is stated and matches the catalog, and nothing contradicts it;
* ``contradicts``: a stated value of the asked field or of any other catalog field differs from the catalog
  (in any common form, see :mod:`helpers.data.fact_check`), or the answer invents a model code, names another
  product, or pairs a product's name with another product's code;
* ``degenerate``: empty text, a repetition loop, or off-topic text: it mentions neither the product, nor any
  catalog field, nor any value, and does not decline either ("I'm Max, a skilled mechanic...");
* ``no_answer``: none of the above: a vague or declining reply that states no asked value ("I am not sure",
  "please check the datasheet").

A contradiction outranks a loop (a wrong value stated in a loop is still a wrong value); a loop outranks a
correct value (an answer stuck in a loop is not a usable answer). The hallucination rate is the share of
``contradicts``.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from .catalog import Catalog
from .fact_check import AnswerCheck, FactChecker

OUTCOMES = ("correct", "contradicts", "no_answer", "degenerate")
LOOP_MIN_REPEATS = 3
LOOP_MIN_SHARE = 0.3
_WORD = re.compile(r"[\w$€£%.,-]+", re.UNICODE)
DECLINE = re.compile(r"\b(?:not sure|n[o']t know|no idea|sorry|unable|cannot|can't|no information|not available|"
                     r"check the|contact|manual|datasheet|support team|don't have|do not have)\b", re.I)
"""Words of a reply that declines to answer (English): such a reply is ``no_answer``, not off-topic."""


@dataclass(frozen=True)
class Outcome:
    """The outcome of one answer and why."""

    outcome: str
    reason: str
    check: AnswerCheck | None = None


def loop_share(text: str, max_n: int = 8) -> float:
    """The largest share of the words covered by one n-gram (n <= max_n) repeated at least three times."""
    words = [w.lower().strip(".,") for w in _WORD.findall(text or "")]
    best = 0.0
    for n in range(1, min(max_n, len(words) // LOOP_MIN_REPEATS) + 1):
        counts = Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
        gram, repeats = counts.most_common(1)[0]
        if repeats >= LOOP_MIN_REPEATS and any(len(w) > 1 for w in gram):
            best = max(best, min(1.0, n * repeats / len(words)))
    return best


def mentions_topic(text: str, check: AnswerCheck, catalog: Catalog) -> bool:
    """Whether an answer is about the product at all: names it, names any catalog field, or states a value."""
    if check.mentions_product or check.states_anything or check.unknown_codes or check.wrong_products:
        return True
    low = (text or "").lower()
    return any(re.search(r"(?<!\w)" + re.escape(noun.lower()) + r"(?!\w)", low)
               for spec in catalog.fields.values() for noun in (*spec.nouns, spec.label))


def classify(answer: str, code: str, asked: Iterable[str], checker: FactChecker) -> Outcome:
    """The outcome of an answer about product ``code`` to a question asking the fields ``asked``."""
    asked = list(asked)
    unknown = [f for f in asked if f not in checker.catalog.fields]
    if unknown:
        raise ValueError(f"asked field(s) {unknown} are not declared catalog fields ({', '.join(checker.catalog.fields)})")
    if not re.search(r"\w", answer or ""):
        return Outcome("degenerate", "empty answer")
    check = checker.check(answer, code)
    if check.hallucinated:
        return Outcome("contradicts", check.problems(checker.catalog), check)
    share = loop_share(answer)
    if share >= LOOP_MIN_SHARE:
        return Outcome("degenerate", f"repetition loop ({share:.0%} of the words)", check)
    if asked and check.states_correctly(asked):
        return Outcome("correct", "", check)
    if not mentions_topic(answer, check, checker.catalog) and not DECLINE.search(answer):
        return Outcome("degenerate", "off-topic: mentions neither the product nor any catalog field or value", check)
    missing = [f for f in asked if f not in check.correct_fields]
    return Outcome("no_answer", "states no value for " + ", ".join(missing) if missing else "states no asked value",
                   check)


def outcome_shares(outcomes: Iterable[str]) -> dict[str, float]:
    """The share of each outcome (all four keys, summing to 1; all 0 when there are none)."""
    counts = Counter(outcomes)
    total = sum(counts.values())
    return {o: (counts[o] / total if total else 0.0) for o in OUTCOMES}


__all__ = ["OUTCOMES", "Outcome", "classify", "loop_share", "mentions_topic", "outcome_shares"]
