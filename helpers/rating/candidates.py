"""The answers to rate: questions of the feedback split answered by the base and the fine-tuned model.

Rating items come from the feedback split only (notebook 01 keeps it apart from training, validation and
test): the preferences they give train DPO in notebook 05, and the test split stays unseen. Of the feedback
questions, those whose two answers differ in something worth judging come first: one answer right and the
other wrong, then both stating values, and only then pairs where neither answer says anything useful.

``ratings/candidates.jsonl`` is written once per run (see :mod:`helpers.rating.items` for its format);
the widget, the simulated raters and the tests read only that file, never a model.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Sequence

from ..core.config import Settings
from ..core.examples import prompt_messages, question, reference_answer
from ..core.runs import RunDir, read_jsonl, write_jsonl

SOURCES = ("base", "sft")


def usable_questions(examples: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Product questions that name a product and the facts they ask."""
    return [ex for ex in examples if ex.get("task") == "product_qa"
            and (ex.get("meta") or {}).get("fields") and ex["meta"].get("product")]


def interest(outcomes: Sequence[str]) -> int:
    """How much a rater learns from comparing two answers with these outcomes (0 most, 2 least).

    0: the outcomes differ and one of them is correct or contradicts the catalog (a clear preference);
    1: both state values (right or wrong), so the rater checks them against the catalog;
    2: neither states a value (vague, declined or degenerate): a tedious "both bad".
    """
    stating = {"correct", "contradicts"}
    if len(set(outcomes)) > 1 and stating & set(outcomes):
        return 0
    return 1 if set(outcomes) <= stating else 2


def choose_items(examples: Sequence[dict[str, Any]], outcomes: Sequence[Sequence[str]], n: int,
                 seed: int = 0) -> list[int]:
    """Indices of ``n`` examples to rate: the most interesting first (see :func:`interest`), seeded within a level."""
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    order.sort(key=lambda i: interest(outcomes[i]))
    return sorted(order[:n])


def build_candidates(examples: Sequence[dict[str, Any]], answers: dict[str, Sequence[str]]) -> list[dict[str, Any]]:
    """Candidate records: one per example, with every model's answer; answers must align with examples."""
    for source, texts in answers.items():
        if len(texts) != len(examples):
            raise ValueError(f"{len(texts)} answers from '{source}' for {len(examples)} examples")
    return [{"item_id": ex["id"], "prompt": question(ex), "messages": prompt_messages(ex),
             "product": ex["meta"].get("product"), "reference": reference_answer(ex),
             "facts": ex["meta"]["fields"], "answers": {s: texts[i] for s, texts in answers.items()}}
            for i, ex in enumerate(examples)]


def ensure_candidates(run: RunDir, settings: Settings, rebuild: bool = False) -> Path:
    """``ratings/candidates.jsonl``, generating it (base vs fine-tuned answers) if missing or ``rebuild``."""
    path = run.path("candidates")
    if path.exists() and not rebuild:
        return path
    from ..data.catalog import Catalog
    from ..data.fact_check import FactChecker
    from ..data.outcomes import classify
    from ..model.loading import trained_adapter
    from ..model.turns import gpu_turn

    feedback = run.need("feedback_split")
    adapter = trained_adapter(run, "train_adapter", settings.model.base_model)
    examples = usable_questions(read_jsonl(feedback))
    if not examples:
        raise ValueError(f"{feedback} has no product_qa examples with meta.product and meta.fields to rate: "
                         "raise data.phrasings['feedback'] or data.feedback_fraction and run notebook 01 again")
    with gpu_turn(settings):  # a workshop: the fit check, then a GPU slot before the model loads
        answers = generate_candidates(settings, examples, adapter)
    checker = FactChecker(Catalog.load(run.need("catalog")))
    outcomes = [[classify(answers[s][i], ex["meta"]["product"], list(ex["meta"]["fields"]), checker).outcome
                 for s in SOURCES] for i, ex in enumerate(examples)]
    chosen = choose_items(examples, outcomes, settings.rating.n_items, settings.rating.seed)
    return write_jsonl(path, build_candidates([examples[i] for i in chosen],
                                              {s: [answers[s][i] for i in chosen] for s in SOURCES}))


def generate_candidates(settings: Settings, examples: Sequence[dict[str, Any]], adapter: Path) -> dict[str, list[str]]:
    """Every source's answers to ``examples``: the base model, then the base with the SFT adapter."""
    from ..model.generation import generate_answers, settings_kwargs
    from ..model.loading import load_adapter, load_from_settings

    model, tokenizer = load_from_settings(settings.model)
    kw = settings_kwargs(settings.eval)
    answers = {"base": [r.answer for r in generate_answers(model, tokenizer, examples, desc="base", **kw)]}
    model = load_adapter(model, adapter)
    answers["sft"] = [r.answer for r in generate_answers(model, tokenizer, examples, desc="sft", **kw)]
    return answers
