"""Turn ratings into preference pairs for DPO: ``ratings/preferences.jsonl`` in TRL's conversational format.

Each line is ``{"prompt": [system and user messages], "chosen": [{"role": "assistant", ...}],
"rejected": [{"role": "assistant", ...}]}``, the columns TRL's DPOTrainer reads.

The rule, item by item:
1. Only finished ratings count (a preference picked); skipped items are ignored, also when a choice was
   made before skipping. A rating showing other models than the item compares (a store mixing two
   candidate sets) leaves the item out as ``mismatched``, reported in ``problems``; the rest is exported.
2. Every rater has one vote: the preferred model, ``tie`` or ``both_bad``. The vote with strictly more
   votes than any other wins; when two votes share the top count the raters **disagree** and the item
   gives no pair.
3. A model wins -> pair (winner's answer, loser's answer). If the raters also found the loser
   inaccurate (mean accuracy 2 or below) and the item has a catalog reference answer, a second pair
   (reference, loser) is added: it teaches the catalog value itself, not only "less wrong".
4. ``tie`` -> no pair: there is no preference to learn.
5. ``both_bad`` -> with a reference answer, pairs (reference, A) and (reference, B); without one, none.
Pairs whose two answers are the same text are never written.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any, Sequence

from ..core.runs import write_json, write_jsonl
from .items import RatingItem
from .store import Rating

INACCURATE = 2


@dataclass
class ExportReport:
    """What the export did, item by item."""

    pairs: list[dict[str, Any]] = field(default_factory=list)
    outcome: dict[str, str] = field(default_factory=dict)  # item_id -> winner | tie | both_bad | disagreement |
    #                                                        unrated | mismatched
    problems: dict[str, str] = field(default_factory=dict)  # item_id -> why it was left out

    @property
    def counts(self) -> dict[str, int]:
        """How many items ended in each outcome (models' names count as 'decisive')."""
        special = {"tie", "both_bad", "disagreement", "unrated", "mismatched"}
        return dict(Counter(o if o in special else "decisive" for o in self.outcome.values()))

    def to_dict(self) -> dict[str, Any]:
        """Summary for ``ratings/export_summary.json``."""
        return {"pairs": len(self.pairs), "items": len(self.outcome), "outcomes": self.counts,
                "by_item": self.outcome, "problems": self.problems}


def _turn(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _pair(item: RatingItem, chosen: str, rejected: str) -> dict[str, Any] | None:
    if chosen.strip() == rejected.strip():
        return None
    return {"prompt": item.prompt_messages(), "chosen": _turn(chosen), "rejected": _turn(rejected)}


def _verdict(votes: list[str]) -> str:
    """Majority vote, or 'disagreement' when the top count is shared."""
    top = Counter(votes).most_common()
    if len(top) > 1 and top[0][1] == top[1][1]:
        return "disagreement"
    return top[0][0]


def preference_pairs(items: Sequence[RatingItem], ratings: Sequence[Rating]) -> ExportReport:
    """Apply the module's rule to every item; pure (no files)."""
    report = ExportReport()
    for item in items:
        sources = (item.answer_a_source, item.answer_b_source)
        rows = [r for r in ratings if r.item_id == item.item_id and r.vote is not None]
        strays = [r for r in rows if {r.shown_a, r.shown_b} != set(sources)]
        if strays:
            report.outcome[item.item_id] = "mismatched"
            report.problems[item.item_id] = "; ".join(
                f"rater {r.rater!r} rated {(r.shown_a, r.shown_b)!r} but the item compares {sources!r}" for r in strays)
            continue
        if not rows:
            report.outcome[item.item_id] = "unrated"
            continue
        verdict = _verdict([r.preferred for r in rows])
        report.outcome[item.item_id] = verdict
        candidates: list[tuple[str, str]] = []
        if verdict in sources:
            loser = sources[1] if verdict == sources[0] else sources[0]
            candidates.append((item.answers[verdict], item.answers[loser]))
            accuracy = [r.scores(loser)[1] for r in rows if r.scores(loser)[1] is not None]
            if item.reference and accuracy and mean(accuracy) <= INACCURATE:
                candidates.append((item.reference, item.answers[loser]))
        elif verdict == "both_bad" and item.reference:
            candidates += [(item.reference, item.answers[s]) for s in sources]
        seen: set[str] = set()
        for chosen, rejected in candidates:
            pair = _pair(item, chosen, rejected)
            key = f"{chosen}\x00{rejected}"
            if pair and key not in seen:
                seen.add(key)
                report.pairs.append(pair)
    return report


def export_preferences(items: Sequence[RatingItem], ratings: Sequence[Rating], ratings_dir: str | Path) -> ExportReport:
    """Write ``preferences.jsonl`` and ``export_summary.json`` into ``ratings_dir``; returns the report."""
    ratings_dir = Path(ratings_dir)
    report = preference_pairs(items, ratings)
    write_jsonl(ratings_dir / "preferences.jsonl", report.pairs)
    write_json(ratings_dir / "export_summary.json", report.to_dict())
    return report
