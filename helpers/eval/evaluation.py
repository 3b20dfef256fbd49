"""Evaluation of every model of a run on the test split (notebook 06), and the untrained baselines (notebook 02).

Models, all from one base loaded once:
* ``base``: the base model, zero-shot, with a one-line system message naming its role (``system_prompt``): the
  tuned models' examples carry no system message, but the base model was made to see one in every conversation;
* ``prompted``: the base model with the best prompt a careful practitioner would write (:mod:`.prompting`);
* ``sft``: base + the fine-tuned adapter (``train/adapter``);
* ``dpo``: base + the preference-tuned adapter (``dpo/adapter``), when notebook 05 produced one.

Every answer is kept in ``eval/answers.jsonl`` with a fingerprint of what produced it (model, adapter,
prompt, generation settings): notebook 02 answers the test questions with the two untrained models once,
and notebook 06 reuses those answers instead of generating them again. Nothing generated here is ever
trained, rated or tuned on.

Outputs: ``eval/generations.jsonl`` (one record per model and question: prompt, reference, answer, cost,
outcome and scores), ``eval/metrics.json`` (headline metrics with intervals, paired comparisons, ratings),
``eval/breakdown.json`` (per product, category and intent), plots, and the ``models`` block of the run's
``metrics.json``. The scoring itself is :mod:`.scoring`: one rule for every model.
"""
from __future__ import annotations

import hashlib
import json
import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from ..core import record
from ..core.config import Settings
from ..core.examples import prompt_messages, question, reference_answer, routing_answer, system_prompt
from ..core.runs import RunDir, read_jsonl, write_json, write_jsonl
from ..data.catalog import Catalog
from ..data.fact_check import FactChecker
from ..model.turns import gpu_turn
from .metrics import routing_scores
from .prompting import few_shot, intent_labels, prompted_system
from .scoring import breakdown, comparison_pairs, headline, main_model, paired_comparisons, routing_rows, score_records

MODELS = ("base", "prompted", "sft", "dpo")
Prompts = dict[str, tuple[str, list[tuple[str, str]]]]
"""How each untrained model is asked: model name -> (system message, few-shot (question, answer) pairs)."""
ADAPTERS = {"sft": "train_adapter", "dpo": "dpo_adapter"}
"""The run artefact holding each tuned model's adapter."""
ANSWERS_FILE = "answers.jsonl"
GENERATION_SETTINGS = ("batch_size", "max_new_tokens", "routing_max_new_tokens")
"""The eval settings an answer depends on; the others (intervals, bootstraps, how many examples) only read answers."""

GenerateFn = Callable[[str, Sequence[dict[str, Any]]], list[Any]]
"""(model name, examples) -> GenerationResult-like objects with .answer, .seconds, .new_tokens."""


# ---------------------------------------------------------------- choosing what to evaluate
def select_examples(examples: Sequence[dict[str, Any]], max_per_task: int, seed: int) -> list[dict[str, Any]]:
    """Up to ``max_per_task`` examples of each task (0 = all), a seeded sample, in the file's order."""
    chosen: set[str] = set()
    for task in sorted({ex["task"] for ex in examples}):
        ids = [ex["id"] for ex in examples if ex["task"] == task]
        if max_per_task and len(ids) > max_per_task:
            ids = random.Random(f"{seed}-{task}").sample(ids, max_per_task)
        chosen.update(ids)
    return [ex for ex in examples if ex["id"] in chosen]


# ---------------------------------------------------------------- generation
def generation_records(model_name: str, examples: Sequence[dict[str, Any]], results: Sequence[Any]) -> list[dict[str, Any]]:
    """One record per example: what was asked, the reference, the answer and its cost."""
    if len(results) != len(examples):
        raise ValueError(f"{len(results)} answers from '{model_name}' for {len(examples)} examples")
    return [{"id": ex["id"], "model": model_name, "task": ex["task"], "prompt": question(ex),
             "messages": prompt_messages(ex), "reference": reference_answer(ex), "answer": r.answer,
             "seconds": round(float(r.seconds), 4), "new_tokens": int(r.new_tokens),
             "product": ex["meta"].get("product"), "category": ex["meta"].get("category"),
             "fields": ex["meta"].get("fields") or {}, "intent": ex["meta"].get("intent")}
            for ex, r in zip(examples, results)]


def model_generator(run: RunDir, settings: Settings, prompts: Prompts, progress: bool = True) -> GenerateFn:
    """A function generating with any of MODELS, loading the base once and adapters as needed.

    ``prompts`` says how the untrained models (base, prompted) are asked.
    """
    from ..model.generation import generate_answers, settings_kwargs
    from ..model.loading import load_adapter, load_from_settings, trained_adapter

    model, tokenizer = load_from_settings(settings.model)
    state = {"model": model, "loaded": set()}

    def generate(name: str, examples: Sequence[dict[str, Any]]) -> list[Any]:
        """Answers of model ``name``; adapters are attached once and switched, the base runs with them off."""
        kw: dict[str, Any] = {**settings_kwargs(settings.eval), "progress": progress, "desc": name}
        if name in prompts:
            kw.update(system_prompt=prompts[name][0], few_shot=prompts[name][1])
            if state["loaded"]:
                with state["model"].disable_adapter():
                    return generate_answers(state["model"], tokenizer, examples, **kw)
            return generate_answers(state["model"], tokenizer, examples, **kw)
        adapter = trained_adapter(run, ADAPTERS[name], settings.model.base_model)
        if not state["loaded"]:
            state["model"] = load_adapter(state["model"], adapter, adapter_name=name)
        elif name not in state["loaded"]:
            state["model"].load_adapter(str(adapter), adapter_name=name, is_trainable=False)
        state["loaded"].add(name)
        state["model"].set_adapter(name)
        return generate_answers(state["model"], tokenizer, examples, **kw)

    return generate


def fingerprint(run: RunDir, settings: Settings, name: str, prompts: Prompts) -> str:
    """What an answer of model ``name`` depends on: base model, adapter weights, prompt and generation settings."""
    parts: dict[str, Any] = {"model": settings.model.__dict__,
                             "eval": {k: getattr(settings.eval, k) for k in GENERATION_SETTINGS}}
    if name in prompts:
        parts["prompt"] = [prompts[name][0], list(prompts[name][1])]
    if name in ADAPTERS and run.has(ADAPTERS[name]):
        weights = sorted(run.path(ADAPTERS[name]).glob("*.safetensors"))
        parts["adapter"] = [hashlib.sha256(w.read_bytes()).hexdigest() for w in weights]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def cached_generator(run: RunDir, generate: GenerateFn, fingerprints: dict[str, str]) -> GenerateFn:
    """``generate`` that reuses answers kept in eval/answers.jsonl under the same fingerprint, and keeps new ones."""
    path = run.eval / ANSWERS_FILE
    kept = read_jsonl(path) if path.exists() else []
    index = {(r["model"], r["fingerprint"], r["id"]): r for r in kept}

    def answers(name: str, examples: Sequence[dict[str, Any]]) -> list[Any]:
        """Answers of ``name`` for ``examples``: the kept ones, and newly generated ones for the rest."""
        key = fingerprints[name]
        missing = [ex for ex in examples if (name, key, ex["id"]) not in index]
        if missing:
            for ex, result in zip(missing, generate(name, missing)):
                index[(name, key, ex["id"])] = {"model": name, "fingerprint": key, "id": ex["id"],
                                                "answer": result.answer, "seconds": result.seconds,
                                                "new_tokens": result.new_tokens}
            write_jsonl(path, list(index.values()))
        return [Answer(**{k: index[(name, key, ex["id"])][k] for k in ("answer", "seconds", "new_tokens")})
                for ex in examples]

    return answers


@dataclass(frozen=True)
class Answer:
    """A kept answer, shaped like a GenerationResult."""

    answer: str
    seconds: float
    new_tokens: int


def available_models(run: RunDir) -> list[str]:
    """The MODELS this run can evaluate: base and prompted always, sft and dpo when their adapter exists."""
    return [m for m in MODELS if m not in ADAPTERS or run.has(ADAPTERS[m])]


def ratings_summary(run: RunDir, settings: Settings) -> pd.DataFrame | None:
    """Per-model mean helpfulness/accuracy and win rate from notebook 04's ratings, or None without ratings."""
    from ..rating import read_ratings, store_path
    from ..rating.agreement import source_summary

    path = store_path(run, settings)
    if not path.exists():
        print(f"No ratings at {path}: run notebook 04_human_rating to add human judgements here.")
        return None
    _, ratings = read_ratings(path)
    summary = source_summary(ratings)
    summary["simulated"] = any(r.simulated for r in ratings)
    return summary


# ---------------------------------------------------------------- the whole evaluation
@dataclass
class Evaluation:
    """Everything an evaluation produced, also written to the run directory."""

    frame: pd.DataFrame
    models: dict[str, dict[str, Any]]
    comparisons: pd.DataFrame
    breakdown: dict[str, Any]
    labels: list[str]
    ratings: pd.DataFrame | None = None

    def table(self) -> pd.DataFrame:
        """Headline metrics per model with their intervals, as a small table."""
        rows = []
        for model, block in self.models.items():
            row: dict[str, Any] = {"model": model, "n": block["n"]}
            for metric in record.HEADLINE:
                if metric in block:
                    low, high = block[f"{metric}_ci"]
                    row[metric] = f"{block[metric]:.3f} [{low:.3f}, {high:.3f}]"
            rows.append(row)
        return pd.DataFrame(rows).set_index("model")

    def routing(self, model: str) -> Any:
        """RoutingScores (F1 per intent, confusion matrix) of one model."""
        rows = routing_rows(self.frame[self.frame.model == model])
        return routing_scores(rows.intent.tolist(), rows.predicted_intent.tolist(), self.labels)


def train_counts(train: Sequence[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Training examples per product and per intent (what the next round weighs errors against)."""
    return {"product": dict(Counter(ex["meta"]["product"] for ex in train if ex["meta"].get("product"))),
            "intent": dict(Counter(ex["meta"]["intent"] for ex in train if ex["meta"].get("intent")))}


def summarise(records: Sequence[dict[str, Any]], checker: FactChecker, labels: Sequence[str], settings: Settings,
              counts: dict[str, dict[str, int]] | None = None, ratings: pd.DataFrame | None = None) -> Evaluation:
    """Score generation records and compute metrics, intervals, comparisons and breakdowns (no model needed)."""
    frame = score_records(records, checker, labels)
    samples, seed = settings.eval.bootstrap_samples, settings.eval.seed
    models = headline(frame, labels, samples, seed, settings.eval.interval_method)
    rows = [row for a, b in comparison_pairs(list(models))
            for row in paired_comparisons(frame, a, b, labels, samples, seed)]
    return Evaluation(frame, models, pd.DataFrame(rows), breakdown(frame, labels, counts or {}), list(labels), ratings)


def load_catalog(run: RunDir) -> Catalog:
    """The run's catalog copy (written by notebook 01)."""
    return Catalog.load(run.need("catalog"))


def generate_records(examples: Sequence[dict[str, Any]], models: Sequence[str],
                     generate: GenerateFn) -> list[dict[str, Any]]:
    """Generation records of every model on ``examples``."""
    return [rec for name in models for rec in generation_records(name, examples, generate(name, examples))]


def write_evaluation(run: RunDir, evaluation: Evaluation, records: Sequence[dict[str, Any]]) -> dict[str, Path]:
    """Write generations (with scores), eval metrics, breakdown, plots and the run's ``models`` block."""
    from .plots import plot_category_accuracy, plot_confusion, plot_metric_bars, plot_outcomes

    out = [{**rec, **{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}}
           for rec, row in zip(records, evaluation.frame.to_dict("records"))]
    paths = {"generations": write_jsonl(run.eval / "generations.jsonl", out)}
    ratings = None if evaluation.ratings is None else evaluation.ratings.to_dict("records")
    paths["metrics"] = write_json(run.eval / "metrics.json", {
        "models": evaluation.models, "comparisons": evaluation.comparisons.to_dict("records"),
        "intents": evaluation.labels, "ratings": ratings})
    paths["breakdown"] = write_json(run.path("eval_breakdown"), evaluation.breakdown)
    figures = {"eval_metrics": plot_metric_bars(evaluation.models), "eval_outcomes": plot_outcomes(evaluation.models),
               "eval_categories": plot_category_accuracy(evaluation.breakdown["by_model"])}
    main = evaluation.breakdown["model"]
    if main and len(routing_rows(evaluation.frame)):
        figures[f"eval_confusion_{main}"] = plot_confusion(evaluation.routing(main).confusion, f"Routing: {main}")
    for name, fig in figures.items():
        paths[name] = run.plots / f"{name}.png"
        fig.savefig(paths[name], dpi=110)
    record.update(run, {"models": evaluation.models})
    return paths


def _prepare(run: RunDir, settings: Settings) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Catalog,
                                                       list[str], Prompts]:
    """(test questions to ask, training split, catalog, routing labels, how the untrained models are asked)."""
    test = read_jsonl(run.need("test_split"))
    train = read_jsonl(run.need("train_split"))
    catalog = load_catalog(run)
    labels = intent_labels(train, test)
    prompts = {"base": (system_prompt(catalog.vendor), []),
               "prompted": (prompted_system(catalog, labels), few_shot(train, seed=settings.eval.seed))}
    return select_examples(test, settings.eval.max_examples, settings.eval.seed), train, catalog, labels, prompts


def prompted_baseline(run: RunDir, settings: Settings) -> tuple[str, list[tuple[str, str]]]:
    """The prompted baseline's system message and few-shot (question, answer) pairs for this run."""
    return _prepare(run, settings)[4]["prompted"]


def _generator(run: RunDir, settings: Settings, models: Sequence[str], prompts: Prompts, progress: bool,
               generate: GenerateFn | None) -> GenerateFn:
    """The answers of ``models``: from eval/answers.jsonl where kept, else generated (the model loads only then)."""
    state: dict[str, GenerateFn] = {}

    def lazily(name: str, examples: Sequence[dict[str, Any]]) -> list[Any]:
        if "fn" not in state:
            state["fn"] = generate or model_generator(run, settings, prompts, progress)
        return state["fn"](name, examples)

    return cached_generator(run, lazily, {m: fingerprint(run, settings, m, prompts) for m in models})


def evaluate_run(run: RunDir, settings: Settings, models: Sequence[str] | None = None, progress: bool = True,
                 generate: GenerateFn | None = None) -> Evaluation:
    """Answer the test questions with each model (reusing kept answers), score, compare, write everything (06)."""
    examples, train, catalog, labels, prompts = _prepare(run, settings)
    models = list(models or available_models(run))
    if generate is None:
        from ..model.loading import trained_adapter

        for name in set(models) & set(ADAPTERS):  # fail before any generation, not after the base model's
            trained_adapter(run, ADAPTERS[name], settings.model.base_model)
    with gpu_turn(settings):  # a workshop: the fit check, then a GPU slot; the models go when the turn ends
        records = generate_records(examples, models, _generator(run, settings, models, prompts, progress, generate))
    evaluation = summarise(records, FactChecker(catalog), labels, settings, train_counts(train),
                           ratings_summary(run, settings))
    write_evaluation(run, evaluation, records)
    return evaluation


def baseline_report(run: RunDir, settings: Settings, progress: bool = True,
                    generate: GenerateFn | None = None) -> Evaluation:
    """The base model zero-shot and prompt-engineered on the test questions (notebook 02).

    The answers are kept for notebook 06, which scores them with the tuned models' on the same questions;
    ``eval/baseline.json`` holds this first look. The run's metrics.json is left to notebook 06.
    """
    examples, train, catalog, labels, prompts = _prepare(run, settings)
    models = ["base", "prompted"]
    with gpu_turn(settings):  # a workshop: the fit check, then a GPU slot; the model goes when the turn ends
        records = generate_records(examples, models, _generator(run, settings, models, prompts, progress, generate))
    evaluation = summarise(records, FactChecker(catalog), labels, settings, train_counts(train))
    write_json(run.eval / "baseline.json", {"split": "test", "models": evaluation.models,
                                            "comparisons": evaluation.comparisons.to_dict("records")})
    return evaluation


def constrained_routing(run: RunDir, settings: Settings, evaluation: Evaluation, model: str) -> pd.DataFrame:
    """Routing of ``model`` on the evaluated tickets, free text (as evaluated) beside constrained decoding."""
    from ..model.constrained import generate_constrained
    from ..model.loading import load_adapter, load_from_settings, trained_adapter
    from .metrics import predicted_intents

    free = routing_rows(evaluation.frame[evaluation.frame.model == model])
    tickets = {ex["id"]: ex for ex in read_jsonl(run.need("test_split"))}
    examples = [tickets[i] for i in free.id]
    with gpu_turn(settings):
        lm, tokenizer = load_from_settings(settings.model)
        if model in ADAPTERS:
            lm = load_adapter(lm, trained_adapter(run, ADAPTERS[model], settings.model.base_model))
        replies = [routing_answer(label) for label in evaluation.labels]
        results = generate_constrained(lm, tokenizer, examples, replies, batch_size=settings.eval.batch_size)
    constrained = predicted_intents([r.answer for r in results], evaluation.labels)
    rows = []
    for name, predicted in (("free text", free.predicted_intent.tolist()), ("constrained", constrained)):
        scores = routing_scores(free.intent.tolist(), predicted, evaluation.labels)
        rows.append({"decoding": name, "macro_f1": round(scores.macro_f1, 4), "accuracy": round(scores.accuracy, 4),
                     "unparsed_rate": round(scores.unparsed_rate, 4), "n": len(predicted)})
    return pd.DataFrame(rows).set_index("decoding")


__all__ = ["ADAPTERS", "Evaluation", "MODELS", "available_models", "baseline_report", "cached_generator",
           "constrained_routing", "prompted_baseline",
           "evaluate_run", "fingerprint", "generate_records", "generation_records", "load_catalog", "main_model",
           "model_generator", "ratings_summary", "select_examples", "summarise", "train_counts", "write_evaluation"]
