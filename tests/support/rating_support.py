"""Hand-made rating items and a tiny fake catalog for the rating tests (no model, no real catalog)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from helpers.rating.items import RatingItem

PRODUCTS = {f"VX-PS-{4400 + i}": {"wattage_w": 450 + 50 * i, "warranty_years": 2 + i % 3} for i in range(12)}
_SPEC = re.compile(r"(\d+)\s*(W|years?)\b")
_CODE = re.compile(r"\bVX-[A-Z]{2}-\d{4}\b")


@dataclass
class Check:
    """The shape of helpers.data.fact_check's AnswerCheck."""

    correct_fields: list[str] = field(default_factory=list)
    wrong_fields: list[str] = field(default_factory=list)
    unknown_codes: list[str] = field(default_factory=list)

    @property
    def hallucinated(self) -> bool:
        """A wrong value or an invented code."""
        return bool(self.wrong_fields or self.unknown_codes)


class FakeChecker:
    """A fact checker over '<n> W' and '<n> years' mentions and VX-XX-0000 codes."""

    def check(self, text: str, code: str) -> Check:
        """Which stated fields match or contradict the product's facts."""
        facts = PRODUCTS.get(code or "", {})
        check = Check(unknown_codes=[c for c in _CODE.findall(text) if c not in PRODUCTS])
        for value, unit in _SPEC.findall(text):
            name = "wattage_w" if unit == "W" else "warranty_years"
            if name in facts:
                (check.correct_fields if int(value) == facts[name] else check.wrong_fields).append(name)
        return check


def make_items(n: int = 6, good: str = "sft", bad: str = "base") -> list[RatingItem]:
    """Items whose ``good`` answer states the right wattage and whose ``bad`` answer a wrong one."""
    items = []
    for i, (code, facts) in enumerate(list(PRODUCTS.items())[:n]):
        watts = facts["wattage_w"]
        answers = {good: f"The {code} is rated at {watts} W.", bad: f"It delivers {watts + 100} W, I think."}
        items.append(RatingItem(
            item_id=f"qa-{i:03d}", prompt=f"How many watts does the {code} deliver?",
            reference_facts={"wattage_w": watts}, answer_a_source="base", answer_b_source="sft",
            answers=answers, reference=f"The {code} is rated at {watts} W.", product=code,
            messages=[{"role": "system", "content": "You are support."},
                      {"role": "user", "content": f"How many watts does the {code} deliver?"}]))
    return items


def write_candidates(path: Path, items: list[RatingItem]) -> Path:
    """A candidates.jsonl holding ``items``."""
    with open(path, "w", encoding="utf-8") as fh:
        for it in items:
            fh.write(json.dumps({"item_id": it.item_id, "prompt": it.prompt, "facts": it.reference_facts,
                                 "answers": it.answers, "reference": it.reference, "product": it.product,
                                 "messages": it.messages}) + "\n")
    return path


def seed_run_from_catalog(run_root: Path, catalog_path: Path, n: int = 24) -> list[dict]:
    """A run folder with data/catalog.json and hand-made ratings/candidates.jsonl (no model needed).

    The 'sft' answer states the catalog value; the 'base' answer a wrong one; every fourth item has
    two wrong answers (both bad).
    """
    from helpers.data.catalog import Catalog

    catalog = Catalog.load(catalog_path)
    (run_root / "data").mkdir(parents=True, exist_ok=True)
    (run_root / "ratings").mkdir(parents=True, exist_ok=True)
    catalog.save(run_root / "data" / "catalog.json")
    format_value = catalog.format_value
    records = []
    products = [p for p in catalog.products if isinstance(p.facts.get("warranty_years"), int)][:n]
    for i, product in enumerate(products):
        years = product.facts["warranty_years"]
        right = f"The {product.label} comes with a {format_value('warranty_years', years)} warranty."
        wrong = f"The {product.label} comes with a {format_value('warranty_years', years + 3)} warranty."
        worse = f"It has a {format_value('warranty_years', years + 5)} warranty."
        records.append({"item_id": f"qa-{i:03d}", "prompt": f"How long is the warranty of the {product.code}?",
                        "messages": [{"role": "user", "content": f"How long is the warranty of the {product.code}?"}],
                        "product": product.code, "reference": right, "facts": {"warranty_years": years},
                        "answers": {"base": wrong, "sft": worse if i % 4 == 3 else right}})
    with open(run_root / "ratings" / "candidates.jsonl", "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record) + "\n")
    return records
