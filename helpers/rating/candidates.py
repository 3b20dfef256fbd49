"""The answers to rate: held-out product questions answered by the base and the fine-tuned model.

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


def select_examples(examples: Sequence[dict[str, Any]], n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` held-out product questions that name a product and its facts, in a seeded random order."""
    usable = [ex for ex in examples if ex.get("task") == "product_qa"
              and (ex.get("meta") or {}).get("fields") and ex["meta"].get("product")]
    random.Random(seed).shuffle(usable)
    return usable[:n]


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
    from ..model.loading import trained_adapter
    from ..model.turns import gpu_turn

    test = run.need("test_split")
    adapter = trained_adapter(run, "train_adapter", settings.model.base_model)
    examples = select_examples(read_jsonl(test), settings.rating.n_items, settings.rating.seed)
    if not examples:
        raise ValueError(f"{test} has no product_qa examples with meta.product and meta.fields to rate")
    with gpu_turn(settings):  # a workshop: the fit check, then a GPU slot before the model loads
        answers = generate_candidates(settings, examples, adapter)
    return write_jsonl(path, build_candidates(examples, answers))


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
