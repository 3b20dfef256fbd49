"""What a text states about a product, read with the catalog's declared fields, and checked against the catalog.

One reader serves curation (agent replies that contradict the catalog are flagged and corrected) and
evaluation (every model's answers, by the same rules). It reads a value in every common form:

* a number with one of the field's unit spellings, converted: "650 W", "0.65 kW", "a 3-year warranty",
  "24 months of warranty", "$129.99", "129.99 USD", "two outlets";
* a bare number after a word that names the field: "the wattage is 12", "price: 19.99", "runtime of 1736";
  with a unit of no catalog field ("capacity of 1.1 GB", "dimensions are 18.32 inches") it is a wrong value;
* ranges ("between 500 and 650 W", "5-8 minutes"): wrong when the catalog value lies outside, else vague;
* dimensions ("150 x 86 x 140 mm", in any order and any declared unit), and one side of them after a size
  word ("about 12.5 millimetres"): wrong unless it is one of the sides;
* vocabulary values (connectors, efficiency tiers), release years after a release word;
* products: codes shaped like the catalog's that do not exist, another product's name or code (right only
  when the asked product lists it as compatible), and a name paired with another product's code.

Model codes, product names and redaction placeholders are masked first, so the digits of "VX-PS-4471"
are never read as a value.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from .catalog import Catalog, FieldSpec

WORD_NUMBERS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30}
NUM = (r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|"
       + "|".join(sorted(WORD_NUMBERS, key=len, reverse=True)) + r")(?![\d])(?!\.\d)")
FOREIGN_UNITS = ("GB", "MB", "TB", "KB", "kg", "g", "lb", "lbs", "oz", "Hz", "kHz", "MHz", "GHz", "V", "A", "mA",
                 "mAh", "Ah", "Wh", "kWh", "mW", "milliwatts", "%", "percent", "inch", "inches", "in", "ft", "feet",
                 "cm", "mm", "m", "km", "millimetres", "millimeters", "centimetres", "metres", "meters", "hours",
                 "hour", "days", "weeks", "months", "years", "seconds", "minutes", "€", "£", "EUR", "GBP", "dB",
                 "rpm", "cores", "pounds", "grams", "volts", "amps", "degrees")
"""Units of no catalog field: a number after a field's name with one of these is a wrong value, not a bare one."""
COPULA = (r"(?:is|are|was|were|'s|of|at|to|for|:|=|reaches|delivers|offers|provides|gives|lasts|"
          r"rated\s+at|comes\s+in\s+at|measures|measure)")
HEDGE = r"(?:about|approximately|approx\.|around|roughly|only|just|exactly|nearly|almost|up\s+to|over|under|a|an|the)"
_MASK = "§"
_PLACEHOLDER = re.compile(r"<[A-Z_]{2,12}>")
_SENTENCE_END = re.compile(r"(?<!\d)[.!?;](?!\d)|\n")
_NAME_BEFORE = re.compile(r"(?<![\w'-])((?:[A-Z][\w'-]*\s+){0,2}[A-Z][\w'-]*)\s*[(\[]?\s*$")
NOT_NAMES = ("the", "a", "an", "our", "your", "my", "this", "that", "model", "product", "item", "code", "order", "part",
             "sku", "ticket", "hi", "hello", "dear", "re", "yes", "no", "ok", "new", "old")
"""Capitalised words before a model code that do not name a product ('The VX-PS-4471', 'Model VX-PS-4471')."""


@dataclass(frozen=True)
class Mention:
    """One value a text states: the field, the value (canonical unit), its kind and where it is.

    kind: 'value' (one value), 'range' (value = (low, high)), 'side' (one side of a dimensions value),
    'foreign' (a number with a unit of no catalog field: value is the text), 'product' (another product's
    code), 'pairing' (a name with another product's code: value = (name's code, stated code)).
    """

    field: str
    value: Any
    kind: str
    start: int
    end: int
    number_start: int = -1
    number_end: int = -1
    factor: float = 1.0

    @property
    def text_span(self) -> tuple[int, int]:
        """Where the number alone is (for in-place correction), else the whole mention."""
        return (self.number_start, self.number_end) if self.number_start >= 0 else (self.start, self.end)


def number(raw: str) -> float:
    """A matched number: '1,299.00' -> 1299.0, 'three' -> 3.0."""
    raw = raw.strip().lower()
    return float(WORD_NUMBERS[raw]) if raw in WORD_NUMBERS else float(raw.replace(",", ""))


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation of literal words, longest first, spaces matching any whitespace."""
    return "|".join(r"\s+".join(map(re.escape, w.split())) for w in sorted(set(words), key=len, reverse=True))


def mask_identities(text: str, catalog: Catalog) -> tuple[str, list[tuple[str, str, int, int]]]:
    """``text`` with product codes, names and placeholders replaced by mask characters, and what was masked.

    Each masked item is (kind, code or text, start, end); kind is 'code', 'unknown_code' or 'name'.
    """
    found: list[tuple[str, str, int, int]] = []
    upper = {c.upper(): c for c in catalog.codes}
    for m in catalog.code_shape.finditer(text):
        code = upper.get(m.group(0).upper())
        found.append(("code", code, m.start(), m.end()) if code else ("unknown_code", m.group(0), m.start(), m.end()))
    for code, start, end in catalog.name_spans(text):
        if not any(start < e and s < end for _, _, s, e in found):
            found.append(("name", code, start, end))
    chars = list(text)
    for _, _, start, end in found:
        chars[start:end] = _MASK * (end - start)
    for m in _PLACEHOLDER.finditer(text):
        chars[m.start():m.end()] = _MASK * (m.end() - m.start())
    return "".join(chars), sorted(found, key=lambda f: f[2])


class Reader:
    """Reads the values a text states, with the patterns built once from a catalog's declared fields."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.fields = catalog.fields
        self.unit_fields: dict[str, list[tuple[FieldSpec, float]]] = {}
        for spec in self.fields.values():
            if spec.type in ("quantity", "money", "dimensions"):
                for spelling, factor in spec.units.items():
                    self.unit_fields.setdefault(spelling.lower(), []).append((spec, factor))
        units = _alternation(s for s in self.unit_fields if s[0].isalnum())
        symbols = _alternation(s for s in self.unit_fields if not s[0].isalnum())
        self.unit_after = re.compile(NUM + r"(?:\s?-\s?|\s?)(" + units + r")(?![\w])", re.I) if units else None
        self.symbol_before = re.compile(r"(?<!\w)(" + symbols + r")\s?" + NUM[len(r"(?<![\w.,])"):]) if symbols else None
        dims = [s for s in self.fields.values() if s.type == "dimensions"]
        dim_units = _alternation(u for s in dims for u in s.units)
        self.dims = re.compile(NUM + r"\s*[x×]\s*" + NUM + r"(?:\s*[x×]\s*" + NUM + r")?\s*(" + dim_units
                               + r")?(?![\w])", re.I) if dims else None
        self.range = re.compile(r"(?:between\s+)?" + NUM + r"\s?(?:-|–|to|and)\s?(?:\$\s?)?" + NUM + r"\s?("
                                + units + r")(?![\w])", re.I) if units else None
        foreign = _alternation(u for u in FOREIGN_UNITS)
        self.copula: list[tuple[FieldSpec, re.Pattern[str]]] = []
        for spec in self.fields.values():
            if not spec.nouns or spec.type in ("text", "list", "products"):
                continue
            nouns = _alternation(spec.nouns)
            if spec.type == "year":
                value = r"((?:19|20)\d{2})(?!\d)"
                pattern = r"(?<!\w)(?:" + nouns + r")(?![\w])[^.!?;\n\d]{0,40}?" + value
            else:
                value = NUM[len(r"(?<![\w.,])"):] + r"(?:\s?(" + _alternation(list(self._units_of_any()) + list(
                    FOREIGN_UNITS)) + r"|" + foreign + r")(?![\w]))?"
                pattern = (r"(?<!\w)(?:" + nouns + r")(?![\w])[^.!?;\n\d]{0,50}?(?<![\w])" + COPULA
                           + r"\s*(?:" + HEDGE + r"\s+){0,2}(?:\$\s?)?" + value)
            self.copula.append((spec, re.compile(pattern, re.I)))
        self.vocabulary: list[tuple[FieldSpec, str, re.Pattern[str]]] = []
        for spec in self.fields.values():
            for word in spec.vocabulary:
                flexible = r"[\s-]*".join(map(re.escape, re.split(r"[\s-]+", word)))
                self.vocabulary.append((spec, word, re.compile(r"(?<![\w])" + flexible + r"(?![\w])", re.I)))
        self.vocabulary.sort(key=lambda v: -len(v[1]))

    def _units_of_any(self) -> list[str]:
        """Every declared unit spelling of every field."""
        return list({s for spec in self.fields.values() for s in spec.units})

    def read(self, text: str) -> tuple[list[Mention], list[tuple[str, str, int, int]]]:
        """Every value stated in ``text``, and the product identities (codes, names) it mentions."""
        masked, identities = mask_identities(text or "", self.catalog)
        taken: list[tuple[int, int]] = []
        mentions: list[Mention] = []

        def free(start: int, end: int) -> bool:
            return not any(start < e and s < end for s, e in taken)

        def add(mention: Mention) -> None:
            taken.append((mention.start, mention.end))
            mentions.append(mention)

        for spec, word, pattern in self.vocabulary:
            for m in pattern.finditer(masked):
                if free(m.start(), m.end()):
                    add(Mention(spec.name, word, "value", m.start(), m.end()))
        if self.dims:
            for m in self.dims.finditer(masked):
                if free(m.start(), m.end()):
                    add(self._dimensions(m))
        if self.range:
            for m in self.range.finditer(masked):
                if free(m.start(), m.end()):
                    spec, factor = self._unit_owner(m.group(3), masked, m.start())
                    if spec is not None:
                        low, high = sorted((number(m.group(1)) * factor, number(m.group(2)) * factor))
                        add(Mention(spec.name, (low, high), "range", m.start(), m.end()))
        for pattern, number_group, unit_group in ((self.unit_after, 1, 2), (self.symbol_before, 2, 1)):
            if pattern is None:
                continue
            for m in pattern.finditer(masked):
                if not free(m.start(), m.end()):
                    continue
                spec, factor = self._unit_owner(m.group(unit_group), masked, m.start())
                if spec is not None:
                    kind = "side" if spec.type == "dimensions" else "value"
                    add(Mention(spec.name, number(m.group(number_group)) * factor, kind, m.start(), m.end(),
                                m.start(number_group), m.end(number_group), factor))
        for spec, pattern in self.copula:
            for m in pattern.finditer(masked):
                if free(m.start(1), m.end(1)):
                    mention = self._copula(spec, m)
                    if mention is not None:
                        add(mention)
        return sorted(mentions, key=lambda x: x.start), identities

    def _sentence(self, masked: str, at: int) -> str:
        """The sentence of ``masked`` around position ``at``."""
        starts = [m.end() for m in _SENTENCE_END.finditer(masked, 0, at)]
        end = _SENTENCE_END.search(masked, at)
        return masked[(starts[-1] if starts else 0):(end.start() if end else len(masked))]

    def _unit_owner(self, spelling: str, masked: str, at: int) -> tuple[FieldSpec | None, float]:
        """The field a unit spelling belongs to here (by the nouns of its sentence when several could), and its factor."""
        owners = self.unit_fields.get(re.sub(r"\s+", " ", spelling).lower()) or self.unit_fields.get(spelling, [])
        owners = [(s, f) for s, f in owners if s.type != "dimensions"] or owners
        sentence = self._sentence(masked, at).lower()
        named = [(s, f) for s, f in owners if any(n.lower() in sentence for n in s.nouns)]
        choices = named or owners
        for spec, factor in choices:
            if not spec.context or any(w in sentence for w in spec.context):
                return spec, factor
        return None, 1.0

    def _dimensions(self, m: re.Match[str]) -> Mention:
        """A dimensions mention ('150 x 86 x 140 mm') in the field's unit."""
        spec = next(s for s in self.fields.values() if s.type == "dimensions")
        factor = spec.units.get(m.group(4) or spec.unit, 1.0) if m.group(4) else 1.0
        sides = tuple(round(number(g) * factor, 3) for g in m.groups()[:3] if g)
        return Mention(spec.name, sides, "value", m.start(), m.end())

    def _copula(self, spec: FieldSpec, m: re.Match[str]) -> Mention | None:
        """The value after a field's name ('wattage is 12'), or None when its unit belongs to another field."""
        if spec.type == "year":
            return Mention(spec.name, float(m.group(1)), "value", m.start(1), m.end(1), m.start(1), m.end(1))
        raw, unit = m.group(1), m.group(2)
        value = number(raw)
        end = m.end(2) if unit else m.end(1)
        if unit:
            own = {k.lower(): v for k, v in spec.units.items()}
            if unit.lower() in own:
                factor = own[unit.lower()]
                kind = "side" if spec.type == "dimensions" else "value"
                return Mention(spec.name, value * factor, kind, m.start(1), end, m.start(1), m.end(1), factor)
            if unit.lower() in self.unit_fields:
                return None  # another field's unit: that field's own reading takes it
            return Mention(spec.name, f"{raw} {unit}", "foreign", m.start(1), end)
        if spec.type == "dimensions":
            return Mention(spec.name, value, "side", m.start(1), end, m.start(1), m.end(1))
        return Mention(spec.name, value, "value", m.start(1), end, m.start(1), m.end(1))


@dataclass
class AnswerCheck:
    """What a text about one product states right, wrong or vaguely, by field."""

    code: str
    correct_fields: dict[str, list[Any]] = field(default_factory=dict)
    wrong_fields: dict[str, list[Any]] = field(default_factory=dict)
    vague_fields: dict[str, list[Any]] = field(default_factory=dict)
    unknown_codes: list[str] = field(default_factory=list)
    wrong_products: list[str] = field(default_factory=list)
    mentions: list[tuple[Mention, str]] = field(default_factory=list)
    mentions_product: bool = False

    @property
    def hallucinated(self) -> bool:
        """True when the text states a wrong value, an invented code or a product that does not belong."""
        return bool(self.wrong_fields or self.unknown_codes or self.wrong_products)

    @property
    def states_anything(self) -> bool:
        """Whether the text states any value at all (right, wrong or vague)."""
        return bool(self.correct_fields or self.wrong_fields or self.vague_fields)

    def states_correctly(self, fields: Iterable[str]) -> bool:
        """True when every asked field is stated, and stated correctly."""
        return all(f in self.correct_fields and f not in self.wrong_fields for f in fields)

    def problems(self, catalog: Catalog) -> str:
        """What was wrong, in words: 'wattage_w said 750 (catalog: 650 W); invented code VX-PS-0000'."""
        facts = catalog.get(self.code).facts if self.code in catalog else {}
        parts = [f"{name} said {', '.join(map(_show, said))} (catalog: "
                 f"{catalog.format_value(name, facts[name]) if name in facts else 'no such spec'})"
                 for name, said in self.wrong_fields.items()]
        if self.unknown_codes:
            parts.append("invented code " + ", ".join(self.unknown_codes))
        if self.wrong_products:
            parts.append("names another product: " + ", ".join(self.wrong_products))
        return "; ".join(parts)


def _show(value: Any) -> str:
    """A stated value for a message: 650.0 -> '650'."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "-".join(map(_show, value)) if len(value) == 2 else " x ".join(map(_show, value))
    return str(value)


def _sides(value: Any) -> tuple[float, ...]:
    """The sides of a dimensions value, sorted: '150 x 86 x 140' -> (86.0, 140.0, 150.0)."""
    if isinstance(value, str):
        value = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", value)]
    return tuple(sorted(float(v) for v in value))


def _same_number(stated: float, truth: float) -> bool:
    """Equal within rounding of a converted unit (cents for prices)."""
    return math.isclose(stated, truth, rel_tol=1e-6, abs_tol=0.005)


def verdict(mention: Mention, facts: dict[str, Any], spec: FieldSpec) -> str:
    """'correct', 'wrong' or 'vague' for one mention against a product's facts."""
    if mention.kind == "foreign" or spec.name not in facts:
        return "wrong"
    truth = facts[spec.name]
    if mention.kind == "range":
        low, high = mention.value
        return "vague" if low - 0.005 <= float(truth) <= high + 0.005 else "wrong"
    if mention.kind == "side":
        return "vague" if any(_same_number(mention.value, s) for s in _sides(truth)) else "wrong"
    if spec.type == "dimensions":
        stated, real = _sides(mention.value), _sides(truth)
        return "correct" if len(stated) == len(real) and all(abs(a - b) <= 0.5 for a, b in zip(stated, real)) \
            else "vague" if set(stated) <= set(real) else "wrong"
    if spec.type == "list":
        return "correct" if mention.value in truth else "wrong"
    if spec.numeric:
        return "correct" if _same_number(float(mention.value), float(truth)) else "wrong"
    return "correct" if str(mention.value).replace(" ", "").lower() == str(truth).replace(" ", "").lower() else "wrong"


class FactChecker:
    """Checks texts about products against a catalog (one Reader, built once)."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.reader = Reader(catalog)
        self.products_field = next((s.name for s in catalog.fields.values() if s.type == "products"), None)
        self._not_names = set(NOT_NAMES) | {w.lower() for w in catalog.vendor.split()}

    def check(self, text: str, code: str) -> AnswerCheck:
        """Compare every value and product stated in ``text`` with the catalog entry of ``code``."""
        product = self.catalog.get(code)
        facts = product.facts
        mentions, identities = self.reader.read(text or "")
        check = AnswerCheck(code=code)
        for mention in mentions:
            outcome = verdict(mention, facts, self.catalog.fields[mention.field])
            check.mentions.append((mention, outcome))
            bucket = {"correct": check.correct_fields, "wrong": check.wrong_fields, "vague": check.vague_fields}[outcome]
            bucket.setdefault(mention.field, []).append(mention.value)
        self._identities(check, identities, text, code, facts)
        for name in list(check.correct_fields):
            spec = self.catalog.fields[name]
            if name in check.wrong_fields:
                del check.correct_fields[name]
            elif spec.type in ("list", "products") and set(check.correct_fields[name]) != set(facts[name]):
                check.vague_fields.setdefault(name, []).extend(check.correct_fields.pop(name))
        return check

    def _identities(self, check: AnswerCheck, identities: list[tuple[str, str, int, int]], text: str, code: str,
                    facts: dict[str, Any]) -> None:
        """Invented codes, the asked product, other products (right only when compatible), names with wrong codes."""
        compatible = set(facts.get(self.products_field, [])) if self.products_field else set()
        skip = set()
        for i, (kind, what, start, end) in enumerate(identities):
            if i in skip:
                continue
            if kind == "unknown_code":
                check.unknown_codes.append(what)
                continue
            nxt = identities[i + 1] if i + 1 < len(identities) else None
            if kind == "name" and nxt and nxt[0] == "code" and re.fullmatch(r"\s*[(\[,-]?\s*", text[end:nxt[2]]):
                skip.add(i + 1)
                if nxt[1] != what:
                    check.wrong_products.append(f"{self.catalog.get(what).name} with code {nxt[1]}")
                    continue
            if kind == "code" and self._invented_name(text[:start], what):
                check.wrong_products.append(f"{self._invented_name(text[:start], what)} with code {what}")
                continue
            if what == code:
                check.mentions_product = True
            elif what in compatible:
                check.correct_fields.setdefault(self.products_field, []).append(what)
            else:
                check.wrong_products.append(self.catalog.get(what).label)
        check.unknown_codes = list(dict.fromkeys(check.unknown_codes))
        check.wrong_products = list(dict.fromkeys(check.wrong_products))
        if self.products_field in check.correct_fields:
            check.correct_fields[self.products_field] = list(dict.fromkeys(check.correct_fields[self.products_field]))

    def _invented_name(self, before: str, code: str) -> str:
        """A capitalised name written right before a model code that is not the code's product name ('' if none).

        'The Ironwood Core (VX-CB-1260)' names a product that does not exist; 'the VX-CB-1260' or
        'Voltaris VX-CB-1260' name none.
        """
        match = _NAME_BEFORE.search(before)
        if not match:
            return ""
        words = [w for w in match.group(1).split() if w.lower() not in self._not_names]
        name = " ".join(words)
        return name if words and name.lower() != self.catalog.get(code).name.lower() else ""

    def correct(self, text: str, code: str) -> tuple[str, list[str]]:
        """``text`` with wrong single values replaced by the catalog's; also the fields that stay wrong."""
        facts = self.catalog.get(code).facts
        out, offset = text, 0
        for mention, outcome in self.check(text, code).mentions:
            spec = self.catalog.fields[mention.field]
            if outcome != "wrong" or mention.kind != "value" or mention.field not in facts \
                    or spec.type in ("list", "products", "dimensions"):
                continue
            start, end = mention.text_span
            new = spec.bare(facts[mention.field]) if mention.factor == 1.0 else spec.format(facts[mention.field])
            if mention.factor != 1.0:
                start, end = mention.start, mention.end
            out = out[:start + offset] + new + out[end + offset:]
            offset += len(new) - (end - start)
        after = self.check(out, code)
        return out, list(after.wrong_fields) + (["model code"] if after.unknown_codes else []) \
            + (["product"] if after.wrong_products else [])


__all__ = ["AnswerCheck", "FactChecker", "Mention", "Reader", "mask_identities", "number", "verdict"]
