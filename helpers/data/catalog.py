"""The product catalog and the spec checker that grounds answers in it.

One checker serves two places: curation flags agent replies that contradict the catalog, and
evaluation scores a model's answers (factual accuracy = the asked fields stated correctly;
hallucination = any stated field that contradicts the catalog, or a model code that does not exist).

```
catalog = Catalog.load("data_samples/voltaris/catalog.json")
check = catalog.check_answer("The Tessera Pro (VX-PS-4471) is rated at 750 W.", "VX-PS-4471")
check.wrong_fields   # {'wattage_w': [750]} when the catalog says 650
```
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIELDS: dict[str, str] = {
    "wattage_w": "power rating (W)",
    "capacity_va": "UPS capacity (VA)",
    "efficiency": "efficiency certification",
    "runtime_min": "runtime at half load (minutes)",
    "outlets": "number of outlets",
    "surge_joules": "surge energy rating (joules)",
    "length_m": "cable or cord length (m)",
    "connectors": "connectors",
    "dimensions_mm": "dimensions (mm)",
    "warranty_years": "warranty (years)",
    "price_usd": "price (USD)",
    "release_year": "release year",
    "compatibility": "compatible products (model codes)",
}
"""Every field a question can ask about, with what it means."""

CONNECTORS = ("USB-C", "USB-A", "Lightning", "HDMI", "DisplayPort", "IEC C13", "IEC C14", "NEMA 5-15",
              "24-pin ATX", "8-pin EPS", "PCIe 8-pin", "12VHPWR", "SATA", "Molex", "RJ45", "DC barrel")
"""The connector vocabulary the checker recognises."""

CODE_SHAPE = re.compile(r"\b[A-Z]{2,4}-[A-Z]{2,3}-\d{3,5}[A-Z]?\b")
"""What a model code looks like (vendor prefix, category, number), e.g. VX-PS-4471."""

_NUM = r"(?<![\d,.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "twelve": 12}
_YEARS = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
_TIERS = ("Bronze", "Silver", "Gold", "Platinum", "Titanium")

# (field, pattern); group 1 is the value. Order matters only for overlapping matches.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("dimensions_mm", re.compile(r"(\d+\s*[x×]\s*\d+\s*[x×]\s*\d+)\s*mm\b", re.I)),
    ("price_usd", re.compile(r"(?:\$|USD\s?)" + _NUM)),
    ("price_usd", re.compile(_NUM + r"\s?(?:USD|dollars)\b", re.I)),
    ("capacity_va", re.compile(_NUM + r"\s?VA\b")),
    ("wattage_w", re.compile(_NUM + r"\s?(?:W|watts?)\b(?!\s?h)", re.I)),
    ("efficiency", re.compile(r"80\s?PLUS\s(" + "|".join(_TIERS) + r")\b", re.I)),
    ("runtime_min", re.compile(_NUM + r"\s?(?:min|mins|minutes)\b", re.I)),
    ("outlets", re.compile(r"(\d{1,2}|" + "|".join(_WORD_NUMBERS) + r")\s(?:AC\s|protected\s|grounded\s)?"
                           r"(?:outlets?|sockets?)\b", re.I)),
    ("surge_joules", re.compile(_NUM + r"\s?(?:J|joules?)\b", re.I)),
    ("length_m", re.compile(r"(?<![\d.])" + _NUM + r"\s?(?:m|metres?|meters?)\b(?![\s-]?(?:long\s)?x)", re.I)),
    ("warranty_years", re.compile(_YEARS + r"[\s-]years?(?:'s?)?\s(?:limited\s|full\s)?warranty", re.I)),
    ("warranty_years", re.compile(r"warrant(?:y|ied)\b[^.\d]{0,40}?\b" + _YEARS + r"[\s-]years?", re.I)),
    ("release_year", re.compile(r"(?:released|launched|introduced|came out|available since|release year)"
                                r"[^.\d]{0,20}?((?:19|20)\d{2})\b", re.I)),
]
_CONNECTOR_RE = re.compile("|".join(re.escape(c) for c in sorted(CONNECTORS, key=len, reverse=True)), re.I)
_CANON_CONNECTOR = {c.lower(): c for c in CONNECTORS}


@dataclass(frozen=True)
class Mention:
    """One spec value stated in a text: the field, the parsed value, and where the value is."""

    field: str
    value: Any
    start: int
    end: int


def _parse(field_name: str, raw: str) -> Any:
    """The typed value of a matched string."""
    raw = raw.strip()
    if field_name == "efficiency":
        return f"80 PLUS {raw.capitalize()}"
    if field_name == "dimensions_mm":
        return " x ".join(re.split(r"\s*[x×]\s*", raw))
    if raw.lower() in _WORD_NUMBERS:
        return _WORD_NUMBERS[raw.lower()]
    number = float(raw.replace(",", ""))
    return int(number) if number.is_integer() and field_name != "price_usd" else number


def spec_spans(text: str) -> list[Mention]:
    """Every spec value stated in ``text``, with positions, sorted by position."""
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for field_name, pattern in _PATTERNS:
        for m in pattern.finditer(text or ""):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append(Mention(field_name, _parse(field_name, m.group(1)), m.start(1), m.end(1)))
    for m in _CONNECTOR_RE.finditer(text or ""):
        if not any(m.start() < e and s < m.end() for s, e in taken):
            found.append(Mention("connectors", _CANON_CONNECTOR[m.group(0).lower()], m.start(), m.end()))
    return sorted(found, key=lambda x: x.start)


def spec_mentions(text: str) -> dict[str, list[Any]]:
    """Spec values stated in ``text`` by field, e.g. {'wattage_w': [650], 'efficiency': ['80 PLUS Gold']}."""
    out: dict[str, list[Any]] = {}
    for mention in spec_spans(text):
        values = out.setdefault(mention.field, [])
        if mention.value not in values:
            values.append(mention.value)
    return out


def format_value(field_name: str, value: Any) -> str:
    """A catalog value as written in an answer (650 -> '650 W', 129.99 -> '$129.99')."""
    if field_name == "connectors" or field_name == "compatibility":
        items = list(value)
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    if field_name == "price_usd":
        return f"${value:,.2f}"
    units = {"wattage_w": "W", "capacity_va": "VA", "runtime_min": "minutes", "surge_joules": "joules",
             "length_m": "m", "dimensions_mm": "mm"}
    if field_name in units:
        number = f"{value:g}" if isinstance(value, float) else str(value)
        return f"{number} {units[field_name]}"
    if field_name == "warranty_years":
        return f"{value} year{'s' if value != 1 else ''}"
    if field_name == "outlets":
        return f"{value} outlets"
    return str(value)


def value_text(field_name: str, value: Any) -> str:
    """The bare value (no unit) that replaces a wrong value in place, e.g. 650 or 129.99."""
    if field_name == "price_usd":
        return f"{value:,.2f}"
    if field_name == "efficiency":
        return str(value).split()[-1]
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _same(field_name: str, stated: Any, truth: Any) -> bool:
    """Whether a stated value agrees with the catalog value of a field."""
    if isinstance(truth, (int, float)) and isinstance(stated, (int, float)):
        return abs(float(stated) - float(truth)) < 0.005
    return str(stated).replace(" ", "").lower() == str(truth).replace(" ", "").lower()


@dataclass
class Product:
    """One catalog entry."""

    code: str
    name: str
    category: str
    specs: dict[str, Any]
    compatibility: list[str]
    warranty_years: int
    price_usd: float
    release_year: int

    @property
    def facts(self) -> dict[str, Any]:
        """Every checkable field of the product and its value."""
        out = dict(self.specs)
        out.update(warranty_years=self.warranty_years, price_usd=self.price_usd,
                   release_year=self.release_year)
        if self.compatibility:
            out["compatibility"] = list(self.compatibility)
        return out

    @property
    def label(self) -> str:
        """Name and code, as answers introduce the product: 'Tessera Pro (VX-PS-4471)'."""
        return f"{self.name} ({self.code})"


@dataclass
class AnswerCheck:
    """What an answer about one product got right and wrong."""

    code: str
    correct_fields: dict[str, list[Any]] = field(default_factory=dict)
    wrong_fields: dict[str, list[Any]] = field(default_factory=dict)
    unknown_codes: list[str] = field(default_factory=list)
    unchecked_fields: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def hallucinated(self) -> bool:
        """True when the answer states a wrong value or a model code that does not exist."""
        return bool(self.wrong_fields or self.unknown_codes)

    def states_correctly(self, fields: list[str] | dict[str, Any]) -> bool:
        """True when every asked field is stated, and stated correctly."""
        return all(f in self.correct_fields and f not in self.wrong_fields for f in fields)


class CatalogError(ValueError):
    """The catalog file is missing fields or malformed; the message names the product and field."""


@dataclass
class Catalog:
    """All products, looked up by model code."""

    products: list[Product]
    vendor: str = ""

    def __post_init__(self) -> None:
        self._by_code = {p.code: p for p in self.products}

    @classmethod
    def load(cls, path: str | Path) -> "Catalog":
        """Read and validate a catalog.json; raises CatalogError naming the product and field."""
        path = Path(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        products = []
        required = ("code", "name", "category", "specs", "warranty_years", "price_usd", "release_year")
        for i, raw in enumerate(data.get("products", [])):
            missing = [k for k in required if k not in raw]
            if missing:
                raise CatalogError(f"{path}: product #{i} ({raw.get('code', '?')}) lacks {', '.join(missing)}")
            unknown = [k for k in raw["specs"] if k not in FIELDS]
            if unknown:
                raise CatalogError(f"{path}: product {raw['code']} has unknown spec field(s) {unknown}")
            if any(ch.isdigit() for ch in raw["name"]):
                raise CatalogError(f"{path}: product {raw['code']} name {raw['name']!r} contains digits; "
                                   "names must not give away spec values")
            products.append(Product(raw["code"], raw["name"], raw["category"], dict(raw["specs"]),
                                    list(raw.get("compatibility", [])), int(raw["warranty_years"]),
                                    float(raw["price_usd"]), int(raw["release_year"])))
        if not products:
            raise CatalogError(f"{path}: no products")
        return cls(products, data.get("vendor", ""))

    def get(self, code: str) -> Product:
        """The product with this model code; KeyError naming the code if there is none."""
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"no product with model code {code!r} in the catalog") from None

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    @property
    def codes(self) -> list[str]:
        """All model codes, in catalog order."""
        return [p.code for p in self.products]

    @property
    def categories(self) -> list[str]:
        """The distinct categories, in catalog order."""
        return list(dict.fromkeys(p.category for p in self.products))

    def find_codes(self, text: str) -> list[str]:
        """Catalog model codes mentioned in ``text`` (each once, in order of appearance)."""
        return list(dict.fromkeys(c for c in CODE_SHAPE.findall((text or "").upper()) if c in self._by_code))

    def find_unknown_codes(self, text: str) -> list[str]:
        """Code-shaped strings in ``text`` that are not in the catalog (invented products)."""
        return list(dict.fromkeys(c for c in CODE_SHAPE.findall(text or "") if c not in self._by_code))

    def find_names(self, text: str) -> list[str]:
        """Codes of products whose name is mentioned in ``text``."""
        low = (text or "").lower()
        return [p.code for p in self.products if re.search(r"\b" + re.escape(p.name.lower()) + r"\b", low)]

    def check_answer(self, text: str, code: str) -> AnswerCheck:
        """Compare every spec value stated in ``text`` with the catalog entry of ``code``."""
        product = self.get(code)
        facts = product.facts
        check = AnswerCheck(code=code, unknown_codes=self.find_unknown_codes(text))
        for name, values in spec_mentions(text).items():
            if name not in facts:
                check.unchecked_fields[name] = values
            elif name == "connectors":
                ok = all(v in facts[name] for v in values)
                (check.correct_fields if ok else check.wrong_fields)[name] = values
            elif all(_same(name, v, facts[name]) for v in values):
                check.correct_fields[name] = values
            else:
                check.wrong_fields[name] = values
        others = [c for c in self.find_codes(text) if c != code]
        if others and "compatibility" in facts:
            ok = all(c in facts["compatibility"] for c in others)
            (check.correct_fields if ok else check.wrong_fields)["compatibility"] = others
        return check

    def correct(self, text: str, code: str) -> tuple[str, list[str]]:
        """``text`` with wrong numeric/tier values replaced by the catalog's; also the fields left wrong."""
        facts = self.get(code).facts
        out, offset = text, 0
        for m in spec_spans(text):
            if m.field in facts and m.field not in ("connectors", "compatibility") \
                    and not _same(m.field, m.value, facts[m.field]):
                new = value_text(m.field, facts[m.field])
                out = out[:m.start + offset] + new + out[m.end + offset:]
                offset += len(new) - (m.end - m.start)
        left = list(self.check_answer(out, code).wrong_fields)
        return out, left


__all__ = ["AnswerCheck", "CODE_SHAPE", "CONNECTORS", "Catalog", "CatalogError", "FIELDS", "Mention", "Product",
           "format_value", "spec_mentions", "spec_spans", "value_text"]
