"""The one place notebook 08 asks whether a product answer is right: the course's outcome rule, as in notebook 06."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..data.fact_check import FactChecker
from ..data.outcomes import classify


@dataclass(frozen=True)
class Verdict:
    """The outcome of one product answer and what it states."""

    outcome: str             # correct, contradicts, no_answer or degenerate (helpers.data.outcomes)
    stated: tuple[str, ...]  # the catalog fields the answer states at all
    problem: str             # what was wrong, in words ('' when nothing was)

    @property
    def right(self) -> bool:
        """Right for a reviewer: every asked value stated as the catalog has it, nothing contradicted."""
        return self.outcome == "correct"

    @property
    def hallucinated(self) -> bool:
        """The catalog contradicts something the answer states."""
        return self.outcome == "contradicts"


def judge(answer: str, product: str, asked: Sequence[str] | dict[str, Any] | None, checker: FactChecker) -> Verdict:
    """Verdict on ``answer`` about ``product``; ``asked=None`` (a pilot question) judges the fields it states."""
    check = checker.check(answer, product)
    stated = tuple(dict.fromkeys([*check.correct_fields, *check.wrong_fields, *check.vague_fields]))
    result = classify(answer, product, list(asked) if asked else list(stated), checker)
    return Verdict(result.outcome, stated, result.reason)


__all__ = ["Verdict", "judge"]
