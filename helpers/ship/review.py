"""The pilot reviewer (core ipywidgets): one logged answer at a time, marked right or wrong, wrong ones corrected.

The catalog checker's verdict and suggested correction are filled in as a starting point; the reviewer's
click decides. Customer and model text is HTML-escaped: shown as text, never as markup.
CSS classes: ``review-box``, ``review-question``, ``review-answer``, ``review-right``, ``review-wrong``,
``review-correction``, ``review-next``, ``review-status``.
"""
from __future__ import annotations

import dataclasses
import html
from typing import Sequence

import ipywidgets as W

from .pilot_log import Review


def _text(text: str) -> str:
    """Escaped, pre-wrapped text."""
    return f'<div style="white-space: pre-wrap">{html.escape(text)}</div>'


class PilotReviewer:
    """Walk through the checker's reviews; a click makes the decision the reviewer's own."""

    def __init__(self, reviews: Sequence[Review], reviewer: str):
        if not reviews:
            raise ValueError("the pilot log holds no conversations to review")
        self.reviews, self.reviewer, self.index = list(reviews), reviewer, 0
        self.question, self.answer, self.checker = W.HTML(), W.HTML(), W.HTML()
        self.question.add_class("review-question")
        self.answer.add_class("review-answer")
        self.correction = W.Textarea(placeholder="The right answer (for a wrong one): it becomes a training example",
                                     layout=W.Layout(width="100%", height="5em"))
        self.correction.add_class("review-correction")
        self.buttons = {}
        for name, label in (("right", "✓ Right"), ("wrong", "✗ Wrong"), ("back", "◀ Back"), ("next", "Next ▶")):
            button = W.Button(description=label)
            button.add_class(f"review-{name}")
            self.buttons[name] = button
        self.buttons["right"].on_click(lambda _b: self.mark(True))
        self.buttons["wrong"].on_click(lambda _b: self.mark(False))
        self.buttons["back"].on_click(lambda _b: self.show(self.index - 1))
        self.buttons["next"].on_click(lambda _b: self.show(self.index + 1))
        self.status = W.HTML()
        self.status.add_class("review-status")
        self.widget = W.VBox([W.HTML("<b>Customer</b>"), self.question, W.HTML("<b>Model</b>"), self.answer,
                              self.checker, self.correction, W.HBox(list(self.buttons.values())), self.status])
        self.widget.add_class("review-box")
        self.show(0)

    def show(self, index: int) -> None:
        """Show review ``index`` (clamped to the list)."""
        self.index = max(0, min(index, len(self.reviews) - 1))
        r = self.reviews[self.index]
        self.question.value = _text(r.question)
        self.answer.value = _text(r.answer)
        verdict = {True: "right", False: "wrong", None: "undecided"}[r.right]
        self.checker.value = _text(f"{r.reviewer}: {verdict}" + (f" ({r.note})" if r.note else ""))
        self.correction.value = r.correction
        self.status.value = html.escape(f"{self.index + 1} of {len(self.reviews)}; decided by you: "
                                        f"{sum(x.reviewer == self.reviewer for x in self.reviews)}")

    def mark(self, right: bool) -> Review:
        """Record the reviewer's decision (and correction) on the shown answer, then move on."""
        review = dataclasses.replace(self.reviews[self.index], right=right, reviewer=self.reviewer,
                                     correction="" if right else self.correction.value.strip())
        self.reviews[self.index] = review
        self.show(self.index + 1)
        return review

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


__all__ = ["PilotReviewer"]
