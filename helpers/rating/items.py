"""What a rater sees: one prompt, its reference facts and two answers, read from ``ratings/candidates.jsonl``.

Each line of the candidates file is one held-out product question with the answers of several models:
```
{"item_id": "qa-00042", "prompt": "How many watts ...?", "messages": [{"role": "user", ...}],
 "product": "VX-PS-4471", "reference": "The Tessera Pro (VX-PS-4471) is rated at 650 W.",
 "facts": {"wattage_w": 650}, "answers": {"base": "...", "sft": "..."}}
```
The items are plain data, so the widget, the simulated rater and the tests need no model.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REQUIRED = ("item_id", "prompt", "facts", "answers")


@dataclass(frozen=True)
class RatingItem:
    """One prompt with two answers to compare; which answer is shown as A is decided per rater."""

    item_id: str
    prompt: str
    reference_facts: dict[str, Any]
    answer_a_source: str
    answer_b_source: str
    answers: dict[str, str]
    reference: str = ""
    product: str | None = None
    messages: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> str:
        """Stable JSON text of the item (stored in the ratings database)."""
        return json.dumps(self.__dict__, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "RatingItem":
        """The item stored by :meth:`to_json`."""
        return cls(**json.loads(text))

    def prompt_messages(self) -> list[dict[str, str]]:
        """The conversation the model was asked (TRL's conversational prompt)."""
        return self.messages or [{"role": "user", "content": self.prompt}]


def shown_order(item: RatingItem, rater: str, seed: int = 0) -> tuple[str, str]:
    """The (A, B) sources shown to this rater for this item: a stable coin flip per rater and item."""
    digest = hashlib.sha256(f"{seed}|{rater}|{item.item_id}".encode()).digest()
    pair = (item.answer_a_source, item.answer_b_source)
    return pair if digest[0] % 2 == 0 else pair[::-1]


def _item_from_record(record: dict[str, Any], where: str, pair: tuple[str, str] | None) -> RatingItem:
    """Validate one candidates record and turn it into an item; errors name the line and field."""
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for name in REQUIRED:
        if name not in record:
            raise ValueError(f"{where}: missing field '{name}'")
    answers = record["answers"]
    if not isinstance(answers, dict) or not all(isinstance(v, str) for v in answers.values()):
        raise ValueError(f"{where}: field 'answers' must map a model name to its answer text")
    if not isinstance(record["facts"], dict):
        raise ValueError(f"{where}: field 'facts' must be an object of catalog fields and values")
    sources = tuple(pair) if pair else tuple(answers)[:2]
    missing = [s for s in sources if s not in answers]
    if len(sources) != 2 or sources[0] == sources[1] or missing:
        raise ValueError(f"{where}: field 'answers' needs two distinct answers {sources}; "
                         f"has {sorted(answers)}")
    return RatingItem(item_id=str(record["item_id"]), prompt=str(record["prompt"]),
                      reference_facts=dict(record["facts"]), answer_a_source=sources[0],
                      answer_b_source=sources[1], answers=dict(answers),
                      reference=str(record.get("reference") or ""), product=record.get("product"),
                      messages=list(record.get("messages") or []))


def load_items(path: str | Path, pair: tuple[str, str] | None = None) -> list[RatingItem]:
    """Rating items from a candidates JSONL file, comparing ``pair`` (default: the first two answers)."""
    path = Path(path)
    items: list[RatingItem] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}, line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{where}: not valid JSON ({err.msg})") from None
            item = _item_from_record(record, where, pair)
            if item.item_id in seen:
                raise ValueError(f"{where}: item_id '{item.item_id}' appears twice")
            seen.add(item.item_id)
            items.append(item)
    if not items:
        raise ValueError(f"{path} holds no candidates: run the 'candidates' step of notebook 04 again")
    return items
