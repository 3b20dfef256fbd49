"""PII redaction to typed placeholders: <EMAIL>, <PHONE>, <CARD>, <IBAN>, <ADDRESS>, <ORDER>, <NAME>.

Where a format has a maintained parser or a check digit, that decides: phone numbers are found by
Google's libphonenumber (``phonenumbers``) in the national formats of many regions, IBANs pass the
ISO 13616 mod-97 check (``python-stdnum``), card numbers of 13-19 digits in any grouping pass the Luhn
check. Addresses, order ids and names have no checksum, so they are found by the conventions of several
countries (:mod:`helpers.data.pii_text`): street patterns and postcodes, an order id only where a word
says "order", a name from the export's metadata, a greeting, a sign-off, a title or "my name is".
Model codes, prices, dimensions, dates, versions and quantities are left alone: they are what the model
must learn. Every pattern runs in time linear in the text (bounded or possessive repetition only).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn

from .pii_text import find_addresses, find_names, find_orders

PII_TYPES = ("EMAIL", "PHONE", "CARD", "IBAN", "ADDRESS", "ORDER", "NAME")

# Regions whose national formats are tried (numbers written with + or 00 need none). Order: most likely first.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "CH", "AT", "IE", "AU", "NZ", "IN", "BR",
                 "MX", "JP", "KR", "CN", "SG", "ZA", "SE", "PL", "DK")
# Chosen on tests/data/pii_cases (112 numbers, 222 look-alikes), phone recall / precision with the context
# filters on: POSSIBLE (right length only) 1.000 / 0.991, VALID (in an assigned range) 0.991 / 1.000,
# STRICT_GROUPING 0.973 / 1.000, EXACT_GROUPING 0.964 / 1.000; without the context filters POSSIBLE falls to
# 0.848 precision and VALID to 0.910. The generator's numbers with unassigned North American area codes are
# caught by the _NANP layout fallback (phone recall there 0.957 without it, 1.000 with it).
PHONE_LENIENCY = phonenumbers.Leniency.VALID
# Library checks per text and kind (a phone candidate costs up to ~3 ms over all regions, an IBAN check
# ~0.05 ms). A text with more candidates (a data dump, not a message) has the rest redacted by shape
# alone: a leak costs more than an over-redacted dump, and the time stays bounded.
CHECKS_PER_TEXT = 200


@dataclass(frozen=True)
class Span:
    """One detected piece of PII: its type and position in the original text."""

    type: str
    start: int
    end: int


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum that card numbers carry."""
    return digits.isdigit() and luhn.is_valid(digits)


_EMAIL = re.compile(r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]++@[\w-]++(?:\.[\w-]++)*+")
_TLD = re.compile(r"\.[^\W\d_]{2,}$")


def _emails(text: str) -> Iterator[tuple[int, int]]:
    """E-mail addresses: a local part, @, and a domain whose last label is alphabetic."""
    for m in _EMAIL.finditer(text):
        if "." in m.group(0).split("@", 1)[1] and _TLD.search(m.group(0)):
            yield m.start(), m.end()


_IBAN = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){10,32}")


def _ibans(text: str) -> Iterator[tuple[int, int]]:
    """IBANs, grouped or not: the longest prefix of a candidate, ending at a group, that passes the mod-97 check."""
    checks, pos = 0, 0
    while m := _IBAN.search(text, pos):
        pos = m.start() + 1          # a candidate may run into the next IBAN ("DE89 ... 00 or NL91..."): rescan
        chars = [(m.start() + i, c) for i, c in enumerate(m.group(0)) if c.isalnum()]
        for n in range(min(len(chars), 34), 14, -1):
            end = chars[n - 1][0] + 1
            if end < len(text) and text[end].isalnum():
                continue
            checks += 1
            if checks > CHECKS_PER_TEXT or stdnum_iban.is_valid("".join(c for _, c in chars[:n]).upper(),
                                                                check_country=False):
                yield m.start(), end
                pos = end
                break


# What precedes a number that identifies a thing, not a person: such numbers are never cards or phones.
_THING_BEFORE = re.compile(
    r"(?i:\b(?:serial|s/n|sn|imei|ean|upc|gtin|isbn|barcode|sku|part|p/n|pn|model|item|article|artikel\w*|"
    r"art\.-?nr|ref|licen[cs]e|key|batch|lot|ticket|case|rma|version|firmware|build|ip|tracking|error|code)"
    r"(?:-[a-z0-9]{1,3})?(?:\s*(?:no\.?|nr\.?|number|#|:|-))*)\s*$")


def _thing_before(text: str, start: int) -> bool:
    """Whether the words just before ``start`` say the number names a product, part or record."""
    return bool(_THING_BEFORE.search(text[max(0, start - 30):start]))


_DIGIT_RUN = re.compile(r"(?<![\w.,+-])\d++(?:[ .-]\d++)*+")
# Issuer layouts (ISO/IEC 7812 numbers as printed): Visa/Mastercard/Discover 4-4-4-4, Amex 4-6-5, Diners 4-6-4,
# 19-digit UnionPay/Maestro 4-4-4-4-3, and shorter Maestro/Visa tails.
_CARD_LAYOUTS = ((4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 3), (4, 4, 4, 1), (4, 4, 4, 2), (4, 4, 4, 3),
                 (4, 4, 4, 4, 1), (4, 4, 4, 4, 2), (4, 4, 4, 5), (4, 4, 4, 6), (4, 4, 4, 7))


def _card_at(text: str, groups: list[tuple[int, int]], i: int) -> int | None:
    """The last group of the longest Luhn-valid card number starting at group ``i`` (whole run, one group, a layout)."""
    sizes = [e - s for s, e in groups[i:i + 5]]
    ends = [i] if 13 <= sizes[0] <= 19 else []
    if sizes[0] == 4:
        ends += [i + len(layout) - 1 for layout in _CARD_LAYOUTS if tuple(sizes[:len(layout)]) == layout]
    if i == 0 and len(groups) <= 19:   # the whole run, in any grouping ("4 5 3 0 9 1 ...")
        ends.append(len(groups) - 1)
    for j in sorted(set(ends), reverse=True):
        digits = "".join(text[s:e] for s, e in groups[i:j + 1])
        if 13 <= len(digits) <= 19 and digits[0] != "0" and luhn_ok(digits):   # ISO/IEC 7812: none starts with 0
            return j
    return None


def _cards(text: str) -> Iterator[tuple[int, int]]:
    """Card numbers: 13-19 digits that pass the Luhn check, grouped by spaces, dots or dashes in any way."""
    for m in _DIGIT_RUN.finditer(text):
        if m.end() < len(text) and (text[m.end()].isalnum() or text[m.end()] == "-"):
            continue
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in re.finditer(r"\d+", m.group(0))]
        i = 0
        while i < len(groups):
            j = _card_at(text, groups, i)
            if j is not None and not _thing_before(text, groups[i][0]):
                yield groups[i][0], groups[j][1]
                i = j
            i += 1


# A run of digits with the separators phone numbers use, a leading + or 00, an area code in brackets, an extension;
# "/ 0" or "/ +" ends it (a second number follows: "030 1234567 / 0171 2345678").
_PHONE_RUN = re.compile(
    r"(?<![\w+#/.,-])(?:\+|\b00)?\s?(?:\(\s?\+?\d{1,4}\s?\)\s?)?\d(?:(?![ \u00a0]?/[ \u00a0]?[0+])[ \u00a0./()\-]{0,3}\d)*+"
    r"(?:\s?(?i:ext\.?|extension|x|#|poste|durchwahl)\s?\d{1,6})?")
PHONE_MAX_DIGITS = 17   # E.164 allows 15, plus a trunk prefix and a short extension
_NANP = re.compile(r"(?:\+?1[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[ .-])\d{3}[ .-]\d{4}"
                   r"(?:\s?(?i:ext\.?|extension|x)\s?\d{1,6})?")
_IP_ADDRESS = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
# Dates, year ranges and year-numbered records (2024-000123) inside a candidate; a unit or decimal after it.
_DATE_OR_YEAR = re.compile(r"(?:19|20)\d{2}\s?[-–/]\s?(?:19|20)\d{2}(?!\d)|(?:19|20)\d{2}[-./]\d{1,2}[-./]\d{1,2}"
                           r"|\d{1,2}[-./]\d{1,2}[-./](?:19|20)\d{2}|^(?:19|20)\d{2}-\d{3,}$")
_MEASURE_AFTER = re.compile(r"[.,]\d|\s?(?i:mm|cm|km|kg|lb|ft|v|w|va|hz|khz|mhz|ghz|gb|tb|mb|kb|mah|wh|kwh|kw|"
                            r"rpm|db|pcs|°|%)(?![^\W\d_])")


@lru_cache(maxsize=4096)
def _library_phones(candidate: str) -> tuple[tuple[int, int], ...]:
    """Where libphonenumber finds valid numbers in ``candidate``: the longest match over the regions tried."""
    stripped = candidate.lstrip()
    regions = ("ZZ",) if stripped.startswith("+") else ("DE",) if stripped.startswith("00") else PHONE_REGIONS
    digits = sum(c.isdigit() for c in candidate)
    best: list[tuple[int, int]] = []
    for region in regions:
        found = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(candidate, region, leniency=PHONE_LENIENCY)
                 if sum(c.isdigit() for c in m.raw_string) >= 7]  # not a short code valid somewhere
        if sum(e - s for s, e in found) > sum(e - s for s, e in best):
            best = found
        if best and sum(c.isdigit() for s, e in best for c in candidate[s:e]) == digits:
            break
    return tuple(best)


def _phone_at(text: str, start: int, end: int, last: bool) -> list[tuple[int, int]] | None:
    """Phone numbers in ``text[start:end]``, or None when the stretch is a measurement, date, address or product id."""
    cand = text[start:end]
    glued = last and text[end:end + 1].isascii() and text[end:end + 1].isalnum()   # 4471ABC; not a Korean particle
    if (sum(c.isdigit() for c in cand) < 7 or glued or (last and re.match(r"-\w", text[end:end + 2]))
            or (last and _MEASURE_AFTER.match(text, end)) or _IP_ADDRESS.fullmatch(cand)
            or _DATE_OR_YEAR.search(cand) or _thing_before(text, start)):
        return None
    found = [(start + a, start + b) for a, b in _library_phones(cand)]
    if not found and _NANP.fullmatch(cand):   # North American layout, area code not (yet) in the library's ranges
        found = [(start, end)]
    return found


def _phones(text: str) -> Iterator[tuple[int, int]]:
    """Phone numbers: runs of 7+ digits checked by libphonenumber in :data:`PHONE_REGIONS`.

    A run longer than one number ("030 1234567 / 0171 2345678") is checked in windows of whole digit groups
    (at most :data:`PHONE_MAX_DIGITS` digits); the next window starts after the last number found.
    """
    checks = 0
    for m in _PHONE_RUN.finditer(text):
        start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in re.finditer(r"\d+", m.group(0))]
        i = 0
        while i < len(groups):
            j, digits = i, groups[i][1] - groups[i][0]
            if digits > PHONE_MAX_DIGITS:   # one block of digits longer than any number
                i += 1
                continue
            while j + 1 < len(groups) and digits + groups[j + 1][1] - groups[j + 1][0] <= PHONE_MAX_DIGITS:
                j += 1
                digits += groups[j][1] - groups[j][0]
            last = j == len(groups) - 1
            lo, hi = (start if i == 0 else groups[i][0]), (m.end() if last else groups[j][1])
            checks += 1
            found = [(lo, hi)] if checks > CHECKS_PER_TEXT and digits >= 7 else _phone_at(text, lo, hi, last)
            yield from found or ()
            if found:
                i = next((k for k in range(i, len(groups)) if groups[k][0] >= found[-1][1]), len(groups))
            else:
                i = len(groups) if last else i + 1


# (type, finder) in priority order: a later finder's span that overlaps an earlier one is dropped.
_FINDERS = (("EMAIL", _emails), ("IBAN", _ibans), ("ORDER", find_orders), ("CARD", _cards),
            ("ADDRESS", find_addresses), ("PHONE", _phones))


def find_pii(text: str, names: Iterable[str] = ()) -> list[Span]:
    """PII spans in ``text`` (non-overlapping, sorted); ``names`` are known personal names (e.g. the customer's)."""
    spans: list[Span] = []
    taken = bytearray(len(text) + 1)

    def add(kind: str, start: int, end: int) -> None:
        if end > start and not any(taken[start:end]):
            spans.append(Span(kind, start, end))
            taken[start:end] = b"\x01" * (end - start)

    for kind, finder in _FINDERS:
        for start, end in finder(text):
            add(kind, start, end)
    for start, end in find_names(text, list(names)):
        add("NAME", start, end)
    return sorted(spans, key=lambda s: s.start)


def redact(text: str, names: Iterable[str] = ()) -> tuple[str, list[Span]]:
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


def load_cases(path: str | Path) -> list[dict]:
    """Labelled PII cases from a JSONL file (id, country, names, text, pii and keep spans), each span checked."""
    cases = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        case = json.loads(line)
        for field in ("pii", "keep"):
            for item in case.get(field, []):
                if case["text"][item["start"]:item["end"]] != item["value"]:
                    raise ValueError(f"{path}:{n}: {field} span {item['start']}-{item['end']} of case "
                                     f"{case['id']!r} is {case['text'][item['start']:item['end']]!r}, not "
                                     f"{item['value']!r}; fix start/end to the value's position in text")
        cases.append(case)
    return cases


def score_cases(path: str | Path) -> dict[str, object]:
    """Recall and precision of :func:`find_pii` on a labelled case file, overall and per type.

    A labelled value is found when a detected span of the same type covers it; a detected span is correct
    when it overlaps a labelled value of its type. Look-alikes (``keep``) that a span touches are listed.
    """
    cases = load_cases(path)
    by_type = {t: {"values": 0, "found": 0, "detected": 0, "correct": 0} for t in PII_TYPES}
    misses, false_alarms, lookalikes_hit = [], [], []
    for case in cases:
        text, truth = case["text"], case["pii"]
        spans = find_pii(text, case.get("names", []))
        for t in truth:
            hit = any(s.type == t["type"] and s.start <= t["start"] and t["end"] <= s.end for s in spans)
            by_type[t["type"]]["values"] += 1
            by_type[t["type"]]["found"] += hit
            if not hit:
                misses.append(f"{case['id']} {t['type']}: {t['value']!r}")
        for s in spans:
            ok = any(s.type == t["type"] and s.start < t["end"] and t["start"] < s.end for t in truth)
            by_type[s.type]["detected"] += 1
            by_type[s.type]["correct"] += ok
            if not ok:
                false_alarms.append(f"{case['id']} {s.type}: {text[s.start:s.end]!r}")
            lookalikes_hit += [f"{case['id']} {k['kind']}: {k['value']!r}" for k in case.get("keep", [])
                               if s.start < k["end"] and k["start"] < s.end]
    values = sum(v["values"] for v in by_type.values())
    detected = sum(v["detected"] for v in by_type.values())
    table = {t: {**v, "recall": v["found"] / v["values"] if v["values"] else None,
                 "precision": v["correct"] / v["detected"] if v["detected"] else None}
             for t, v in by_type.items() if v["values"] or v["detected"]}
    return {"recall": sum(v["found"] for v in by_type.values()) / max(values, 1),
            "precision": sum(v["correct"] for v in by_type.values()) / max(detected, 1),
            "values": values, "detected": detected, "cases": len(cases),
            "countries": len({c["country"] for c in cases if c["pii"]}),
            "lookalikes": sum(len(c.get("keep", [])) for c in cases), "lookalikes_redacted": lookalikes_hit,
            "by_type": table, "misses": misses, "false_alarms": false_alarms}
