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
    """The shape of helpers.catalog's AnswerCheck."""

    correct_fields: list[str] = field(default_factory=list)
    wrong_fields: list[str] = field(default_factory=list)
    unknown_codes: list[str] = field(default_factory=list)


class FakeCatalog:
    """check_answer over '<n> W' and '<n> years' mentions and VX-XX-0000 codes."""

    def check_answer(self, text: str, code: str | None) -> Check:
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
