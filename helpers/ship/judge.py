"""The one place notebook 08 asks the catalog whether a product answer is right (swap the checker here only)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..catalog import Catalog


@dataclass(frozen=True)
class Verdict:
    """The catalog checker's reading of one product answer."""

    correct: bool        # every asked field stated with the catalog's value (the course's factual accuracy)
    hallucinated: bool   # some stated value contradicts the catalog, or a model code does not exist
    stated: tuple[str, ...]  # the catalog fields the answer states at all
    problem: str         # what was wrong, in words ('' when nothing was)

    @property
    def right(self) -> bool:
        """Right for a reviewer: correct and nothing contradicted."""
        return self.correct and not self.hallucinated


def judge(answer: str, product: str, asked: Sequence[str] | dict[str, Any] | None, catalog: Catalog) -> Verdict:
    """Verdict on ``answer`` about ``product``; ``asked=None`` (a pilot question) judges the fields it states."""
    check = catalog.check_answer(answer, product)
    stated = tuple(dict.fromkeys([*check.correct_fields, *check.wrong_fields]))
    fields = list(asked) if asked else list(stated)
    wrong = "; ".join(f"{name} said {', '.join(map(str, said))} (catalog: {catalog.get(product).facts.get(name, '?')})"
                      for name, said in check.wrong_fields.items())
    invented = "invented code " + ", ".join(check.unknown_codes) if check.unknown_codes else ""
    return Verdict(correct=bool(fields) and check.states_correctly(fields), hallucinated=check.hallucinated,
                   stated=stated, problem="; ".join(p for p in (wrong, invented) if p))


__all__ = ["Verdict", "judge"]
