"""The pilot log: every served conversation, PII redacted, with the model version; reviewed into next-round data.

One JSON object per line of ``runs/<name>/ship/pilot_log.jsonl``::

    {"time": "2026-12-01T17:40:02+00:00", "conversation_id": "...", "model_version": "demo/dpo@3fa9c1e2b4d5",
     "messages": [{"role": "user", "content": "My name is <NAME>, ..."}], "answer": "...",
     "redacted": {"NAME": 1, "EMAIL": 1}, "seconds": 0.81, "completion_tokens": 31}

Text is redacted with the curation's redactor (:func:`helpers.data.pii.redact`) *before* it is written:
the log never holds an address, phone number, card or name that the redactor recognises.

A review marks each answer right or wrong (a person in the widget of :mod:`helpers.ship.review`; headless,
the catalog checker through :func:`helpers.ship.judge.judge`). A wrong answer with a correction becomes
a new training example in notebook 01's format (:mod:`helpers.examples`) in ``ship/next_round.jsonl``.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from ..data.pii import find_pii, redact
from ..data.fact_check import FactChecker
from .judge import judge
from .serve import message_text

CHECKER = "catalog checker"
"""The reviewer name of headless reviews: the decision is the catalog checker's, not a person's."""
_LOCK = threading.Lock()


class PilotLogError(ValueError):
    """A pilot log line is malformed; the message names the file and line."""


def names_in(texts: Sequence[str]) -> list[str]:
    """Personal names the redactor finds by context ("my name is ...", "Hi Dana,") anywhere in a conversation."""
    return sorted({text[s.start:s.end] for text in texts for s in find_pii(text) if s.type == "NAME"})


def number_echoes(texts: Sequence[str]) -> list[tuple[str, re.Pattern[str]]]:
    """Patterns for the phone and card numbers found in a conversation, however a reply re-spaces or shortens them.

    A customer writes "+1 415 555 0134"; a model answers "call 415 555 0134", a form the redactor's phone
    patterns do not know. Each number found is matched again by its last 10 and last 7 digits, with any
    spacing, dots, dashes or brackets between them.
    """
    patterns = []
    for text in texts:
        for span in find_pii(text):
            if span.type not in ("PHONE", "CARD"):
                continue
            digits = re.sub(r"\D", "", text[span.start:span.end])
            for tail in dict.fromkeys(d for d in (digits, digits[-10:], digits[-7:]) if len(d) >= 7):
                patterns.append((span.type, re.compile(r"(?<!\d)" + r"[\s().-]{0,3}".join(tail) + r"(?!\d)")))
    return patterns


def redact_conversation(messages: Sequence[dict[str, Any]], answer: str) -> tuple[list[dict[str, str]], str, Counter]:
    """Messages and answer with PII replaced by typed placeholders, and how many of each type were replaced.

    A name or number the customer gives in one turn is redacted in every turn and in the answer ("Thanks,
    Dana! We will call 415 555 0134."), in whatever form the answer repeats it.
    """
    texts = [message_text(m.get("content")) or "" for m in messages] + [answer]
    names, echoes = names_in(texts), number_echoes(texts)
    counts: Counter = Counter()
    clean = []
    for text in texts:
        redacted, spans = redact(text, names)
        counts.update(s.type for s in spans)
        for kind, pattern in echoes:
            redacted, n = pattern.subn(f"<{kind}>", redacted)
            counts[kind] += n
        clean.append(redacted)
    return ([{"role": str(m.get("role", "")), "content": c} for m, c in zip(messages, clean)], clean[-1], counts)


def log_record(messages: Sequence[dict[str, Any]], answer: str, model_version: str, conversation_id: str = "",
               seconds: float | None = None, completion_tokens: int | None = None) -> dict[str, Any]:
    """One pilot-log record, PII redacted in every message and in the answer."""
    clean, answer_clean, counts = redact_conversation(messages, answer)
    return {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "conversation_id": conversation_id,
            "model_version": model_version, "messages": clean, "answer": answer_clean, "redacted": dict(counts),
            "seconds": None if seconds is None else round(seconds, 4), "completion_tokens": completion_tokens}


def append_record(path: Path, messages: Sequence[dict[str, Any]], answer: str, model_version: str,
                  **details: Any) -> dict[str, Any]:
    """Redact and append one conversation turn to the log (one line, written whole)."""
    record = log_record(messages, answer, model_version, **details)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return record


def read_log(path: Path) -> list[dict[str, Any]]:
    """All records of a pilot log; PilotLogError names the first bad line."""
    records = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PilotLogError(f"{path}:{number}: not JSON ({exc.msg}); remove or fix the line") from exc
        if not isinstance(record, dict) or not isinstance(record.get("messages"), list) or "answer" not in record:
            raise PilotLogError(f"{path}:{number}: a record needs 'messages' (a list) and 'answer'")
        records.append(record)
    return records


def question_of(record: dict[str, Any]) -> str:
    """The customer's last message in a logged turn."""
    return next((m["content"] for m in reversed(record["messages"]) if m.get("role") == "user"), "")


# ---------------------------------------------------------------- review
@dataclass
class Review:
    """A reviewer's decision on one logged answer."""

    index: int               # line of the record in the log (0-based, blank lines skipped)
    question: str
    answer: str
    product: str | None      # the catalog product the question is about, if it names one
    right: bool | None       # None: not decided (no product named, or nothing checkable stated)
    reviewer: str
    correction: str = ""     # the answer as it should have been (wrong answers only)
    note: str = ""


def product_of(question: str, checker: FactChecker) -> str | None:
    """The catalog product a question names (by model code, else by name), or None."""
    found = checker.catalog.find_codes(question) or checker.catalog.find_names(question)
    return found[0] if found else None


def suggested_correction(answer: str, product: str, checker: FactChecker) -> str:
    """The answer with its wrong values replaced by the catalog's, or '' when that does not fix everything."""
    fixed, left = checker.correct(answer, product)
    return fixed if not left and judge(fixed, product, None, checker).right else ""


def review_by_checker(records: Sequence[dict[str, Any]], checker: FactChecker) -> list[Review]:
    """Headless review: the catalog checker decides right or wrong and suggests corrections."""
    reviews = []
    for i, record in enumerate(records):
        question, answer = question_of(record), record["answer"]
        product = product_of(question, checker)
        if product is None:
            reviews.append(Review(i, question, answer, None, None, CHECKER, note="names no catalog product"))
            continue
        verdict = judge(answer, product, None, checker)
        if not verdict.stated and not verdict.hallucinated:
            reviews.append(Review(i, question, answer, product, None, CHECKER, note="states no checkable fact"))
            continue
        correction = "" if verdict.right else suggested_correction(answer, product, checker)
        reviews.append(Review(i, question, answer, product, verdict.right, CHECKER, correction, verdict.problem))
    return reviews


def next_round_examples(reviews: Sequence[Review], checker: FactChecker) -> list[dict[str, Any]]:
    """Training examples (notebook 01's format) from the wrong answers that have a correct correction."""
    examples = []
    for review in reviews:
        if review.right is not False or not review.correction or review.product is None:
            continue
        verdict = judge(review.correction, review.product, None, checker)
        if not verdict.right:
            continue  # a correction that still contradicts the catalog would teach the mistake
        product = checker.catalog.get(review.product)
        digest = hashlib.sha256(f"{review.question}\n{review.correction}".encode()).hexdigest()[:10]
        examples.append({
            "id": f"pilot-{digest}", "task": "product_qa",
            "messages": [{"role": "user", "content": review.question},
                         {"role": "assistant", "content": review.correction}],
            "meta": {"product": product.code, "category": product.category,
                     "fields": {f: product.facts[f] for f in verdict.stated}, "intent": None,
                     "group": f"pilot-{digest}", "source": "pilot", "phrasing": "pilot",
                     "reviewer": review.reviewer}})
    return examples


__all__ = ["CHECKER", "PilotLogError", "Review", "append_record", "log_record", "names_in", "next_round_examples",
           "number_echoes", "product_of", "question_of", "read_log", "redact_conversation", "review_by_checker",
           "suggested_correction"]
