"""The product catalog and its declared fields: any vendor's catalog, described by a schema beside it.

A catalog is two JSON files in the source folder:

* ``catalog.json``: ``{"vendor": "...", "products": [{"code": ..., "name": ..., "category": ...,
  "specs": {field: value, ...}, <other declared fields>: value, ...}]}``;
* ``catalog.schema.json``: ``{"fields": {field: declaration}}``, one declaration per field a product may
  carry (in ``specs`` or at the top level). A declaration says what the field is called, what type its values
  have and how they are written, and how people ask about it:

```json
"wattage_w": {"label": "power rating", "type": "quantity", "unit": "W",
              "units": {"W": 1, "watts": 1, "kW": 1000},          # spellings -> factor to the unit
              "nouns": ["wattage", "power rating"],               # words that name the field in a text
              "answer": "The {product} is rated at {value}.",     # the reference answer of a question
              "question": "How many watts does the {product} deliver?"}   # optional extra phrasing
```
Types: ``quantity`` (a number with a unit), ``money`` (a price; ``units`` holds the currency's spellings,
``$`` before the number), ``text`` (one value of a ``vocabulary``), ``list`` (several values of a
``vocabulary``), ``dimensions`` (``"W x H x D"`` in ``unit``), ``year``, ``products`` (model codes of other
catalog products). Optional keys: ``singular`` (the unit for a value of 1), ``context`` (words one of which
must be in the sentence before a bare unit counts, e.g. "warranty" for "3 years"). The run keeps one file,
``data/catalog.json``, with the fields and the products together; :meth:`Catalog.load` reads either form.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TYPES = ("quantity", "money", "text", "list", "dimensions", "year", "products")
CORE_KEYS = ("code", "name", "category", "specs")
SCHEMA_FILE = "catalog.schema.json"
_NEEDS_UNITS = ("quantity", "money", "dimensions")
_NEEDS_VOCABULARY = ("text", "list")


class CatalogError(ValueError):
    """The catalog or its schema is missing something or malformed; the message names the file, product and field."""


@dataclass(frozen=True)
class FieldSpec:
    """One declared field: its name, type, how values are written and how people name and ask about it."""

    name: str
    type: str
    label: str
    nouns: tuple[str, ...] = ()
    unit: str = ""
    singular: str = ""
    units: dict[str, float] = field(default_factory=dict)
    vocabulary: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    answer: str = "The {product} has a {label} of {value}."
    question: str = ""

    @property
    def numeric(self) -> bool:
        """Whether values are numbers (quantity, money, year)."""
        return self.type in ("quantity", "money", "year")

    def format(self, value: Any) -> str:
        """A value as an answer writes it: 650 -> '650 W', 129.99 -> '$129.99', 1 -> '1 year'."""
        if self.type in ("list", "products"):
            items = [str(v) for v in value]
            return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
        if self.type == "money":
            symbol = next((s for s in self.units if not s[0].isalpha()), "")
            return f"{symbol}{value:,.2f}" if symbol else f"{value:,.2f} {self.unit}"
        if self.type == "quantity":
            number = f"{value:g}" if isinstance(value, float) else str(value)
            unit = self.singular if value == 1 and self.singular else self.unit
            return f"{number} {unit}"
        if self.type == "dimensions":
            return f"{value} {self.unit}"
        return str(value)

    def bare(self, value: Any) -> str:
        """The value without its unit, as it replaces a wrong value in place (650, 129.99, Gold)."""
        if self.type == "money":
            return f"{value:,.2f}"
        return f"{value:g}" if isinstance(value, float) else str(value)


def _declaration(name: str, raw: Any, where: str) -> FieldSpec:
    """A FieldSpec from one schema entry, or CatalogError naming the field and what to declare."""
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: field '{name}' must be an object with at least 'type' and 'label'")
    kind = raw.get("type")
    if kind not in TYPES:
        raise CatalogError(f"{where}: field '{name}' has type {kind!r}; declare one of {', '.join(TYPES)}")
    units = raw.get("units") or {}
    if kind in _NEEDS_UNITS and not (raw.get("unit") and units):
        raise CatalogError(f"{where}: field '{name}' ({kind}) needs 'unit' and 'units' (spellings -> factor), "
                           f"e.g. \"unit\": \"W\", \"units\": {{\"W\": 1, \"watts\": 1}}")
    if not all(isinstance(f, (int, float)) and f > 0 for f in units.values()):
        raise CatalogError(f"{where}: field '{name}': every factor in 'units' must be a positive number")
    vocabulary = tuple(raw.get("vocabulary") or ())
    if kind in _NEEDS_VOCABULARY and not vocabulary:
        raise CatalogError(f"{where}: field '{name}' ({kind}) needs a 'vocabulary': the values it may take")
    for key in ("answer", "question"):
        if raw.get(key) and "{product}" not in raw[key]:
            raise CatalogError(f"{where}: field '{name}': '{key}' must contain {{product}}")
    if raw.get("answer") and "{value}" not in raw["answer"]:
        raise CatalogError(f"{where}: field '{name}': 'answer' must contain {{value}}")
    label = str(raw.get("label") or name.replace("_", " "))
    return FieldSpec(name=name, type=kind, label=label, nouns=tuple(raw.get("nouns") or (label,)),
                     unit=str(raw.get("unit", "")), singular=str(raw.get("singular", "")),
                     units={str(k): float(v) for k, v in units.items()}, vocabulary=vocabulary,
                     context=tuple(raw.get("context") or ()),
                     answer=str(raw.get("answer") or FieldSpec.answer), question=str(raw.get("question") or ""))


LABEL_FORMS = {"name_code": "{name} ({code})", "code_name": "{code} ({name})"}
"""How an answer introduces a product, name or code first (setting ``data.answer_form``)."""


@dataclass
class Product:
    """One catalog entry: identity and every declared fact."""

    code: str
    name: str
    category: str
    facts: dict[str, Any]

    @property
    def label(self) -> str:
        """Name and code, as answers introduce the product by default: 'Tessera Pro (VX-PS-4471)'."""
        return self.labelled("name_code")

    def labelled(self, form: str) -> str:
        """Name and code in one of ``LABEL_FORMS``: 'Tessera Pro (VX-PS-4471)' or 'VX-PS-4471 (Tessera Pro)'."""
        return LABEL_FORMS[form].format(name=self.name, code=self.code)


def _check_value(spec: FieldSpec, value: Any, where: str) -> Any:
    """A product's value of a field, checked against its declaration."""
    if spec.numeric:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CatalogError(f"{where}: '{spec.name}' must be a number, got {value!r}")
        return value
    if spec.type == "text" and value not in spec.vocabulary:
        raise CatalogError(f"{where}: '{spec.name}' value {value!r} is not in its vocabulary; add it to the schema")
    if spec.type in ("list", "products"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CatalogError(f"{where}: '{spec.name}' must be a list of strings, got {value!r}")
        unknown = [v for v in value if spec.type == "list" and v not in spec.vocabulary]
        if unknown:
            raise CatalogError(f"{where}: '{spec.name}' values {unknown} are not in its vocabulary; add them")
    if spec.type == "dimensions" and not re.fullmatch(r"\d+(?:\.\d+)?(?:\s*x\s*\d+(?:\.\d+)?){1,2}", str(value)):
        raise CatalogError(f"{where}: '{spec.name}' must read like '150 x 86 x 140', got {value!r}")
    return value


def _product(raw: Any, i: int, fields: dict[str, FieldSpec], where: str) -> Product:
    """One product record, validated against the declared fields."""
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: product #{i} must be an object")
    missing = [k for k in ("code", "name", "category") if not str(raw.get(k) or "").strip()]
    if missing:
        raise CatalogError(f"{where}: product #{i} ({raw.get('code', '?')}) lacks {', '.join(missing)}")
    specs = raw.get("specs") or {}
    if not isinstance(specs, dict):
        raise CatalogError(f"{where}: product {raw['code']}: 'specs' must be an object")
    given = {**specs, **{k: v for k, v in raw.items() if k not in CORE_KEYS}}
    undeclared = [k for k in given if k not in fields]
    if undeclared:
        raise CatalogError(f"{where}: product {raw['code']} has field(s) {undeclared} that the schema does not "
                           f"declare; add them under 'fields' in {SCHEMA_FILE} (label, type, units or vocabulary, "
                           "nouns, answer) or remove them from the product")
    facts = {k: _check_value(fields[k], v, f"{where}: product {raw['code']}") for k, v in given.items()
             if not (isinstance(v, list) and not v)}
    return Product(str(raw["code"]).strip(), str(raw["name"]).strip(), str(raw["category"]).strip(), facts)


def _read_json(path: Path) -> Any:
    """A JSON file, or CatalogError naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise CatalogError(f"{path} not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path} is not valid UTF-8 JSON: {exc}") from None


@dataclass
class Catalog:
    """All products, looked up by model code, and the declared fields."""

    products: list[Product]
    fields: dict[str, FieldSpec]
    vendor: str = ""

    def __post_init__(self) -> None:
        self._by_code = {p.code: p for p in self.products}
        self._code_shape = _code_shape(list(self._by_code))

    @classmethod
    def load(cls, path: str | Path) -> "Catalog":
        """Read and validate a catalog (fields inside it, or in catalog.schema.json beside it)."""
        path = Path(path)
        data = _read_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("products"), list):
            raise CatalogError(f"{path}: expected an object with a 'products' list")
        if data.get("fields") is None:
            schema_path = path.with_name(SCHEMA_FILE)
            if not schema_path.exists():
                raise CatalogError(f"{path}: no field declarations: write {schema_path} with a 'fields' object "
                                   "(see data_samples/voltaris/catalog.schema.json for an example)")
            schema = _read_json(schema_path)
            if not isinstance(schema, dict) or not isinstance(schema.get("fields"), dict):
                raise CatalogError(f"{schema_path}: expected an object with a 'fields' object")
            data = {**data, "fields": schema["fields"]}
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "catalog") -> "Catalog":
        """A validated catalog from one object holding 'fields', 'products' and optionally 'vendor'."""
        if not isinstance(data.get("fields"), dict):
            raise CatalogError(f"{where}: expected a 'fields' object of field declarations")
        fields = {name: _declaration(name, raw, where) for name, raw in data["fields"].items()}
        products = [_product(raw, i, fields, where) for i, raw in enumerate(data.get("products") or [])]
        if not products:
            raise CatalogError(f"{where}: no products")
        codes = [p.code for p in products]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise CatalogError(f"{where}: model code(s) {duplicates} appear more than once")
        return cls(products, fields, str(data.get("vendor", "")))

    def to_dict(self) -> dict[str, Any]:
        """The catalog as one JSON object (fields and products), as the run keeps it."""
        def declaration(spec: FieldSpec) -> dict[str, Any]:
            out = {k: v for k, v in spec.__dict__.items() if k != "name" and v not in ("", (), {})}
            return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

        return {"vendor": self.vendor, "fields": {n: declaration(s) for n, s in self.fields.items()},
                "products": [{"code": p.code, "name": p.name, "category": p.category, "specs": dict(p.facts)}
                             for p in self.products]}

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON (the run's data/catalog.json)."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

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

    @property
    def code_shape(self) -> re.Pattern[str]:
        """What a model code of this catalog looks like (inferred from its codes), to spot invented ones."""
        return self._code_shape

    def format_value(self, field_name: str, value: Any) -> str:
        """A value of a field as an answer writes it."""
        return self.fields[field_name].format(value)

    def find_codes(self, text: str) -> list[str]:
        """Catalog model codes mentioned in ``text`` (each once, in order of appearance)."""
        upper = {c.upper(): c for c in self._by_code}
        found = (upper.get(m.group(0).upper()) for m in self._code_shape.finditer(text or ""))
        return list(dict.fromkeys(c for c in found if c))

    def find_unknown_codes(self, text: str) -> list[str]:
        """Code-shaped strings in ``text`` that are not in the catalog (invented products)."""
        upper = {c.upper() for c in self._by_code}
        return list(dict.fromkeys(m.group(0) for m in self._code_shape.finditer(text or "")
                                  if m.group(0).upper() not in upper))

    def find_names(self, text: str) -> list[str]:
        """Codes of products whose name is mentioned in ``text`` (longest names first, no overlaps)."""
        return [code for code, _, _ in self.name_spans(text)]

    def name_spans(self, text: str) -> list[tuple[str, int, int]]:
        """(code, start, end) of every product name in ``text``, case-insensitive, longest names first."""
        taken: list[tuple[str, int, int]] = []
        for product in sorted(self.products, key=lambda p: -len(p.name)):
            pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, product.name.split())) + r"(?!\w)"
            for m in re.finditer(pattern, text or "", re.I):
                if not any(m.start() < e and s < m.end() for _, s, e in taken):
                    taken.append((product.code, m.start(), m.end()))
        return sorted(taken, key=lambda t: t[1])


def _code_shape(codes: list[str]) -> re.Pattern[str]:
    """A pattern for strings shaped like the catalog's codes: runs of letters and digits of the lengths seen, in order.

    'VX-PS-4471' gives ``[A-Za-z]{2}-[A-Za-z]{2}-\\d{4}``; an invented 'VX-PS-9999' matches it, and so does a
    variant with a numbered suffix ('VX-UP-1736-2'), which is an invented code too.
    """
    lengths: dict[tuple[str, ...], list[list[int]]] = {}
    for code in codes:
        parts = re.findall(r"[A-Za-z]+|\d+|[^A-Za-z\d]+", code)
        kinds = tuple("a" if p.isalpha() else "d" if p.isdigit() else p for p in parts)
        lengths.setdefault(kinds, []).append([len(p) for p in parts])
    shapes = []
    for kinds, seen in lengths.items():
        pieces = []
        for i, kind in enumerate(kinds):
            low, high = min(s[i] for s in seen), max(s[i] for s in seen)
            span = f"{{{low}}}" if low == high else f"{{{low},{high}}}"
            pieces.append(("[A-Za-z]" + span) if kind == "a" else ("\\d" + span) if kind == "d" else re.escape(kind))
        shapes.append("".join(pieces))
    body = "|".join(sorted(shapes, key=len, reverse=True))
    return re.compile(r"(?<![\w-])(?:" + body + r")(?:-\d{1,3})?(?![\w]|-\w)")


__all__ = ["CORE_KEYS", "Catalog", "CatalogError", "FieldSpec", "Product", "SCHEMA_FILE", "TYPES"]
