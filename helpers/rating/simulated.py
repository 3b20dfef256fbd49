"""A scripted rater for headless runs: scores answers against the catalog facts, clicking through the app.

Nobody can click under papermill, CI or ``make run``, so each simulated rater opens the same
:class:`~helpers.rating.widget.RatingApp` a person would, sets the same score buttons, clicks the same
choice and next buttons, and therefore writes through the same store and code path. Its rows are
flagged ``simulated`` in the database; nothing about them is human judgement.

How it judges one answer (the course's fact checker, ``FactChecker.check(text, product)``, gives the stated
fields that match or contradict the catalog, and invented or wrong products):
- accuracy 5: every asked fact stated correctly, nothing contradicted; 4: most asked facts correct;
  3: some correct, or correct with a contradiction; 2: no fact stated; 1: only contradictions.
- helpfulness: the accuracy, minus one for an empty, rambling (over 60 words) or repetitive answer.
- choice: both answers at accuracy 2 or below -> both bad; otherwise the higher 2*accuracy+helpfulness,
  equal -> tie.
Each rater adds a little seeded noise (so agreement is high but not perfect), and a rater may be given
a lean towards answer A in close calls, so the position-bias check has something to find.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

from .items import RatingItem
from .store import RatingStore
from .widget import RatingApp


class FactChecker(Protocol):
    """What the simulated rater needs from :class:`helpers.data.fact_check.FactChecker`."""

    def check(self, text: str, code: str) -> Any:
        """An object with ``correct_fields`` and ``hallucinated``."""


@dataclass(frozen=True)
class Judgement:
    """The simulated rater's view of one answer before noise."""

    accuracy: int
    helpfulness: int


def judge(answer: str, item: RatingItem, checker: FactChecker) -> Judgement:
    """Accuracy and helpfulness (1-5) of an answer, from the catalog facts the question asks."""
    check = checker.check(answer, item.product or "")
    asked = set(item.reference_facts)
    correct = asked & set(check.correct_fields)
    contradicted = bool(check.hallucinated)
    if asked and correct == asked and not contradicted:
        accuracy = 5
    elif correct and not contradicted:
        accuracy = 4 if 2 * len(correct) >= len(asked) else 3
    elif correct:
        accuracy = 3
    else:
        accuracy = 1 if contradicted else 2
    words = answer.split()
    rambling = len(words) > 60 or (len(words) >= 8 and len(set(words)) < len(words) / 2)
    helpfulness = max(1, accuracy - 1) if not words or rambling else accuracy
    return Judgement(accuracy, helpfulness)


@dataclass
class SimulatedRater:
    """A named scripted rater with its own noise and position lean."""

    name: str
    noise: float = 0.15
    lean_to_a: float = 0.0
    seed: int = 0

    def _jitter(self, rng: random.Random, score: int, chance: float) -> int:
        if rng.random() < chance:
            score += rng.choice((-1, 1))
        return min(5, max(1, score))

    def rate(self, app: RatingApp, checker: FactChecker) -> int:
        """Rate every unfinished item of the app through its controls; returns how many were rated."""
        rng = random.Random(f"{self.seed}|{self.name}")
        rated = 0
        while app.widget.children[0] is app.rating_view:
            row = app.row
            if row is not None and row.done:
                app.nav["next"].click()
                continue
            judged = [judge(text, app.item, checker) for text in app.shown_answers()]
            scores = []
            for pos, j in zip("ab", judged):
                helpfulness = self._jitter(rng, j.helpfulness, self.noise)
                accuracy = self._jitter(rng, j.accuracy, self.noise / 3)
                app.scales[f"help_{pos}"].value = helpfulness
                app.scales[f"acc_{pos}"].value = accuracy
                scores.append((accuracy, helpfulness))
            app.choice_buttons[self._choice(rng, scores)].click()
            if app.row is not None and app.row.choice == "both_bad":
                app.comment.value = "Neither answer states the catalog value."
            rated += 1
            app.nav["next"].click()
        return rated

    def _choice(self, rng: random.Random, scores: list[tuple[int, int]]) -> str:
        (acc_a, help_a), (acc_b, help_b) = scores
        if max(acc_a, acc_b) <= 2:
            return "both_bad"
        total_a, total_b = 2 * acc_a + help_a, 2 * acc_b + help_b
        if abs(total_a - total_b) <= 1 and rng.random() < self.lean_to_a:
            return "A"
        if total_a == total_b:
            return "tie"
        return "A" if total_a > total_b else "B"


def default_raters(n: int, seed: int = 0) -> list[SimulatedRater]:
    """``n`` simulated raters; the second leans towards A in close calls (a position bias to detect)."""
    return [SimulatedRater(f"simulated-{i + 1}", noise=0.1 + 0.05 * i, lean_to_a=0.5 if i == 1 else 0.0,
                           seed=seed) for i in range(n)]


def simulate_ratings(store_path: str | Path, items: Sequence[RatingItem], checker: FactChecker,
                     raters: Sequence[SimulatedRater], seed: int = 0) -> dict[str, int]:
    """Let each simulated rater rate the items through the app; returns items rated per rater."""
    done: dict[str, int] = {}
    for rater in raters:
        with RatingStore(store_path, rater.name, simulated=True) as store:
            done[rater.name] = rater.rate(RatingApp(store, list(items), seed=seed), checker)
    return done
