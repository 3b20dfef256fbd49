"""PII redaction to typed placeholders: <EMAIL>, <PHONE>, <CARD>, <ADDRESS>, <ORDER>, <NAME>.

Patterns catch what has a shape (e-mail addresses, phone numbers in several formats, Luhn-valid
card numbers, street addresses, order numbers); names have no shape, so they come from the
export's own metadata (the customer's name) and from context ("my name is ...", "Hi Dana,").
Model codes, prices, wattages and dates are left alone: they are what the model must learn.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PII_TYPES = ("EMAIL", "PHONE", "CARD", "ADDRESS", "ORDER", "NAME")

_CARD = re.compile(r"(?<![\w-])\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7}(?![\w-])")
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("PHONE", re.compile(r"\+\d{1,3}(?:[ .-]?\(?\d{2,4}\)?){1,3}[ .-]?\d{3,6}(?![\w-])")),
    ("PHONE", re.compile(r"\(\d{3}\)\s?\d{3}[-. ]\d{4}(?![\w-])")),
    ("PHONE", re.compile(r"(?<![\w$.,-])\d{3}[-.]\d{3}[-.]\d{4}(?![\w-])")),
    ("ORDER", re.compile(r"#\d{5,9}\b")),
    ("ORDER", re.compile(r"\b[A-Z]{2,3}-(?:19|20)\d{2}-\d{4,7}\b")),
    ("ORDER", re.compile(r"(?<=order number is )[A-Z0-9][A-Z0-9-]{4,}\b", re.I)),
    ("ADDRESS", re.compile(r"\b\d{1,5}\s(?:[A-Z][a-z]+\s){1,3}(?:Street|St\.|Avenue|Ave\.|Road|Rd\.|Lane|Boulevard|"
                           r"Blvd\.|Drive|Dr\.|Way|Court|Place|Terrace|Parkway)(?![a-z])")),
    ("NAME", re.compile(r"(?<=\b[Mm]y name is )[A-Z][a-z]+(?: [A-Z][a-z'-]+){0,2}")),
    ("NAME", re.compile(r"(?<=^Hi )[A-Z][a-z]+(?=,)|(?<=^Hello )[A-Z][a-z]+(?=,)|(?<=^Dear )[A-Z][a-z]+(?=,)",
                        re.M)),
]


@dataclass(frozen=True)
class Span:
    """One detected piece of PII: its type and position in the original text."""

    type: str
    start: int
    end: int


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum that card numbers carry."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _name_patterns(names: list[str]) -> list[re.Pattern[str]]:
    """Patterns for known names: full names first, then their parts of three letters or more."""
    full = sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)
    parts = sorted({p for n in full for p in n.split() if len(p) >= 3 and p[0].isupper()}, key=len, reverse=True)
    return [re.compile(r"\b" + re.escape(n) + r"\b") for n in full + parts]


def find_pii(text: str, names: list[str] | tuple[str, ...] = ()) -> list[Span]:
    """PII spans in ``text`` (non-overlapping, sorted); ``names`` are known personal names (e.g. the customer's)."""
    spans: list[Span] = []

    def free(s: int, e: int) -> bool:
        return all(e <= x.start or s >= x.end for x in spans)

    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            spans.append(Span("CARD", m.start(), m.end()))
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if free(m.start(), m.end()):
                spans.append(Span(kind, m.start(), m.end()))
    for pattern in _name_patterns(list(names)):
        for m in pattern.finditer(text):
            if free(m.start(), m.end()):
                spans.append(Span("NAME", m.start(), m.end()))
    return sorted(spans, key=lambda s: s.start)


def redact(text: str, names: list[str] | tuple[str, ...] = ()) -> tuple[str, list[Span]]:
    """``text`` with every PII span replaced by its typed placeholder, and the spans found."""
    spans = find_pii(text, names)
    out, last = [], 0
    for s in spans:
        out += [text[last:s.start], f"<{s.type}>"]
        last = s.end
    out.append(text[last:])
    return "".join(out), spans


def placeholder_counts(text: str) -> dict[str, int]:
    """How many placeholders of each type a redacted text holds."""
    return {t: text.count(f"<{t}>") for t in PII_TYPES if f"<{t}>" in text}


def _planted_spans(text: str, planted: list[dict]) -> list[Span]:
    """Every occurrence in ``text`` of the planted PII values (type and value from the ground truth)."""
    out = []
    for item in planted:
        for m in re.finditer(re.escape(item["value"]), text):
            out.append(Span(item["type"], m.start(), m.end()))
    return out


def score_redaction(texts: list[tuple[str, list[str], list[dict]]]) -> dict[str, object]:
    """Recall and precision of :func:`find_pii` on (text, known names, planted PII) triples, overall and by type.

    A planted occurrence counts as found when a detected span covers it completely; a detected span
    counts as correct when it overlaps some planted occurrence.
    """
    found = planted_n = correct = detected = 0
    by_type: dict[str, dict[str, int]] = {t: {"planted": 0, "found": 0} for t in PII_TYPES}
    misses: list[str] = []
    false_alarms: list[str] = []
    for text, names, planted in texts:
        truth = _planted_spans(text, planted)
        spans = find_pii(text, names)
        for t in truth:
            hit = any(s.start <= t.start and t.end <= s.end for s in spans)
            planted_n += 1
            found += hit
            by_type[t.type]["planted"] += 1
            by_type[t.type]["found"] += hit
            if not hit and len(misses) < 20:
                misses.append(text[max(0, t.start - 30):t.end + 30])
        for s in spans:
            ok = any(s.start < t.end and t.start < s.end for t in truth)
            detected += 1
            correct += ok
            if not ok and len(false_alarms) < 20:
                false_alarms.append(f"{s.type}: {text[max(0, s.start - 30):s.end + 30]}")
    return {"recall": found / max(planted_n, 1), "precision": correct / max(detected, 1), "planted": planted_n,
            "detected": detected, "by_type": {t: v for t, v in by_type.items() if v["planted"]},
            "misses": misses, "false_alarms": false_alarms}
