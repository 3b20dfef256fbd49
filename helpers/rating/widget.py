"""The rating app: core ipywidgets only, every click saved to the store before the screen changes.

The screen is always redrawn from the database row just written, so what you see is what is stored
(two browser tabs on one kernel show the same widgets, and both show the stored values).
Model answers are text: they are HTML-escaped before display, so markup or script in an answer is
shown literally and never runs.

Keyboard: click into the grey "keys" box once, then type (JupyterLab's own shortcuts do not fire
while a text box has focus):
``1``-``5`` score the highlighted scale (then the highlight moves on: helpfulness A, accuracy A,
helpfulness B, accuracy B; ``j`` / ``k`` move the highlight down / up) · ``a`` A is better · ``b`` B is better · ``t`` tie · ``x`` both bad ·
``n`` next · ``p`` previous · ``s`` skip.
"""
from __future__ import annotations

import html
from typing import Any

import ipywidgets as W

from .items import RatingItem, shown_order
from .store import SCORE_FIELDS, Rating, RatingStore

SCALE_LABELS = {"help_a": "Helpfulness", "acc_a": "Accuracy", "help_b": "Helpfulness", "acc_b": "Accuracy"}
CHOICE_LABELS = {"A": "A is better", "B": "B is better", "tie": "Tie", "both_bad": "Both bad"}
CHOICE_KEYS = {"a": "A", "b": "B", "t": "tie", "x": "both_bad"}
NAV_KEYS = {"n": "next", "p": "back", "s": "skip"}
KEY_HELP = "keys: 1-5 score the ▶ scale · j / k move ▶ · a / b / t / x choose · n next · p back · s skip"


def _text(text: str, css: str = "") -> str:
    """Escaped text in a pre-wrapped block: shown literally, never interpreted as markup."""
    return f'<div class="{css}" style="white-space: pre-wrap">{html.escape(text)}</div>'


def _facts_html(item: RatingItem) -> str:
    """The reference facts as an escaped list."""
    rows = "".join(f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>"
                   for k, v in item.reference_facts.items())
    product = f"<p>Product: {html.escape(item.product)}</p>" if item.product else ""
    reference = (f"<p>Reference answer:</p>{_text(item.reference, 'rate-reference')}"
                 if item.reference else "")
    return f"{product}<ul>{rows}</ul>{reference}"


class RatingApp:
    """Rate items one by one for one rater; resumes at the first unfinished item."""

    def __init__(self, store: RatingStore, items: list[RatingItem] | None = None, seed: int = 0):
        self.store = store
        if items is not None:
            store.add_items(items)
        self.items = store.items() if items is None else list(items)
        if not self.items:
            raise ValueError(f"{store.path} holds no items to rate; build the candidates first")
        self.seed = seed
        self.index = 0
        self.active = SCORE_FIELDS[0]
        self.row: Rating | None = None
        self._syncing = False
        self._build()
        first_open = next((i for i, it in enumerate(self.items) if not self._done(it)), None)
        self.show_summary() if first_open is None else self.show(first_open)

    # construction ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = W.HTML()
        self.progress = W.IntProgress(min=0, max=len(self.items), description="Done")
        self.progress.add_class("rate-progress")
        self.question = W.HTML()
        self.question.add_class("rate-question")
        self.facts = W.HTML()
        self.answers = {pos: W.HTML() for pos in "AB"}
        self.scales: dict[str, W.ToggleButtons] = {}
        for field in SCORE_FIELDS:
            toggle = W.ToggleButtons(options=[(str(v), v) for v in range(1, 6)], value=None,
                                     description=SCALE_LABELS[field],
                                     style={"button_width": "2.4em", "description_width": "6.5em"})
            toggle.add_class(f"rate-{field.replace('_', '-')}")
            toggle.observe(lambda change, f=field: self._save(f, change["new"]), names="value")
            self.scales[field] = toggle
        self.choice_buttons: dict[str, W.Button] = {}
        for choice, label in CHOICE_LABELS.items():
            button = W.Button(description=label)
            button.add_class(f"rate-choice-{choice.replace('_', '-').lower()}")
            button.on_click(lambda _b, c=choice: self.choose(c))
            self.choice_buttons[choice] = button
        self.comment = W.Textarea(placeholder="Comment (optional, saved when you click elsewhere)",
                                  continuous_update=False, layout=W.Layout(width="100%"))
        self.comment.add_class("rate-comment")
        self.comment.observe(lambda change: self._save("comment", change["new"]), names="value")
        self.nav: dict[str, W.Button] = {}
        for name, label in (("back", "◀ Back"), ("skip", "Skip"), ("next", "Next ▶")):
            button = W.Button(description=label)
            button.add_class(f"rate-{name}")
            button.on_click(lambda _b, n=name: getattr(self, n)())
            self.nav[name] = button
        self.keys = W.Text(placeholder=KEY_HELP, continuous_update=True, layout=W.Layout(width="100%"))
        self.keys.add_class("rate-keys")
        self.keys.observe(lambda change: self._on_keys(change["new"]), names="value")
        self.status = W.HTML()
        self.status.add_class("rate-status")
        columns = [W.VBox([W.HTML(f"<h4>Answer {pos}</h4>"), self.answers[pos],
                           self.scales[f"help_{pos.lower()}"], self.scales[f"acc_{pos.lower()}"]],
                          layout=W.Layout(width="50%", padding="0 8px"))
                   for pos in "AB"]
        for pos, column in zip("AB", columns):
            column.add_class(f"answer-{pos.lower()}")
        self.rating_view = W.VBox([
            self.title, self.progress, W.HTML("<h4>Question</h4>"), self.question,
            W.Accordion([self.facts], titles=("Reference facts from the catalog",), selected_index=0),
            W.HBox(columns), W.HBox(list(self.choice_buttons.values())), self.comment,
            W.HBox(list(self.nav.values())), self.keys, self.status])
        self.summary = W.HTML()
        self.summary.add_class("rate-summary")
        review = W.Button(description="Review from the first unfinished item")
        review.add_class("rate-review")
        review.on_click(lambda _b: self.show(self._first_unfinished()))
        self.summary_view = W.VBox([self.summary, review])
        self.widget = W.VBox([self.rating_view])
        self.widget.add_class("rating-app")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Display the app itself in a notebook cell."""
        return self.widget._repr_mimebundle_(**kwargs)

    # state -------------------------------------------------------------------------------------
    @property
    def item(self) -> RatingItem:
        """The item on screen."""
        return self.items[self.index]

    def order(self, item: RatingItem | None = None) -> tuple[str, str]:
        """The (A, B) sources of an item for this rater: the stored order, or a new per-rater coin flip."""
        item = item or self.item
        row = self.row if item is self.item and self.row else self.store.get(item.item_id)
        return (row.shown_a, row.shown_b) if row else shown_order(item, self.store.rater, self.seed)

    def shown_answers(self) -> tuple[str, str]:
        """The answer texts shown as A and B."""
        a, b = self.order()
        return self.item.answers[a], self.item.answers[b]

    def _done(self, item: RatingItem) -> bool:
        row = self.store.get(item.item_id)
        return bool(row and row.done)

    def _first_unfinished(self) -> int:
        return next((i for i, it in enumerate(self.items) if not self._done(it)), 0)

    def done_count(self) -> int:
        """Items this rater has finished (chosen or skipped)."""
        return sum(r.done for r in self.store.ratings(all_raters=False))

    # actions (buttons, keys and the simulated rater all come through here) ---------------------
    def _save(self, field: str, value: Any) -> None:
        """Persist one value at once, then redraw from what was stored."""
        if self._syncing:
            return
        try:
            self.row = self.store.set(self.item.item_id, field, value, self.order())
        except Exception as err:  # shown to the rater; the stored row is unchanged
            self.status.value = f"<span style='color:#b00'>Not saved: {html.escape(str(err))}</span>"
            self._render()
            raise
        if field in SCORE_FIELDS:
            self.active = SCORE_FIELDS[(SCORE_FIELDS.index(field) + 1) % len(SCORE_FIELDS)]
        self._render()
        self.status.value = f"saved {field} · {self.row.updated_at[11:19]} UTC"

    def score(self, field: str, value: int) -> None:
        """Give a 1-5 score on one scale (same as clicking its button)."""
        self.scales[field].value = value

    def choose(self, choice: str) -> None:
        """Pick A, B, tie or both_bad for the item on screen."""
        self._save("choice", choice)
        if self.row and self.row.skipped:
            self._save("skipped", False)

    def skip(self) -> None:
        """Mark the item skipped and move on."""
        self._save("skipped", True)
        self.next()

    def next(self) -> None:
        """The next item, or the summary after the last one."""
        if self.index + 1 < len(self.items):
            self.show(self.index + 1)
        else:
            self.show_summary()

    def back(self) -> None:
        """The previous item (from the summary: the last item)."""
        if self.widget.children[0] is self.summary_view:
            self.show(len(self.items) - 1)
        elif self.index > 0:
            self.show(self.index - 1)

    def press(self, key: str) -> None:
        """Act on one typed key (see the module docstring)."""
        key = key.lower()
        if len(key) == 1 and key in "12345":
            self.score(self.active, int(key))
        elif key in ("j", "k"):
            step = 1 if key == "j" else -1
            self.active = SCORE_FIELDS[(SCORE_FIELDS.index(self.active) + step) % len(SCORE_FIELDS)]
            self._render()
        elif key in CHOICE_KEYS:
            self.choose(CHOICE_KEYS[key])
        elif key in NAV_KEYS:
            getattr(self, NAV_KEYS[key])()

    def _on_keys(self, text: str) -> None:
        if not text:
            return
        self.keys.value = ""
        for key in text:
            self.press(key)

    # views -------------------------------------------------------------------------------------
    def show(self, index: int) -> None:
        """Show item ``index`` with its stored values."""
        self.index = max(0, min(index, len(self.items) - 1))
        self.row = self.store.get(self.item.item_id)
        unset = [f for f in SCORE_FIELDS if getattr(self.row, f, None) is None]
        self.active = unset[0] if unset else SCORE_FIELDS[0]
        self.widget.children = [self.rating_view]
        self.status.value = ""
        self._render()

    def _render(self) -> None:
        """Set every control from the stored row (without saving again)."""
        item, row = self.item, self.row
        a, b = self.order()
        done = self.done_count()
        self._syncing = True
        try:
            self.title.value = (f"<h3>Item {self.index + 1} of {len(self.items)}</h3>"
                                f"<p>Rater: {html.escape(self.store.rater)} · {done} done</p>")
            self.progress.value = done
            self.question.value = _text(item.prompt)
            self.facts.value = _facts_html(item)
            for pos, source in zip("AB", (a, b)):
                self.answers[pos].value = _text(item.answers[source], f"rate-answer-{pos.lower()}")
            for field, toggle in self.scales.items():
                toggle.value = getattr(row, field) if row else None
                toggle.description = ("▶ " if field == self.active else "") + SCALE_LABELS[field]
            for choice, button in self.choice_buttons.items():
                button.button_style = "info" if row and row.choice == choice else ""
            self.comment.value = row.comment if row else ""
            self.nav["skip"].button_style = "warning" if row and row.skipped else ""
        finally:
            self._syncing = False

    def show_summary(self) -> None:
        """The end view: what this rater has done (the models behind A and B stay hidden)."""
        rows = self.store.ratings(all_raters=False)
        choices = {c: sum(r.vote == c for r in rows) for c in CHOICE_LABELS}
        skipped = sum(r.skipped for r in rows)
        open_items = len(self.items) - sum(r.done for r in rows)
        lines = "".join(f"<li>{CHOICE_LABELS[c]}: {n}</li>" for c, n in choices.items())
        self.summary.value = (
            f"<h3>Thank you, {html.escape(self.store.rater)}!</h3>"
            f"<p>{sum(choices.values())} rated, {skipped} skipped, {open_items} still open "
            f"of {len(self.items)}.</p><ul>{lines}</ul>"
            f"<p>Your ratings are saved in {html.escape(str(self.store.path))}.</p>")
        self.progress.value = len(self.items) - open_items
        self.widget.children = [self.summary_view]
