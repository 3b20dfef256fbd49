"""Evaluation of every model of a run on held-out questions (notebook 06) and the prompting baseline (notebook 02).

Models, all from one base loaded once:
* ``base``: the base model, zero-shot, with the dataset's system message;
* ``prompted``: the base model with a prompt-engineered system message and a few worked examples;
* ``sft``: base + the fine-tuned adapter (``train/adapter``);
* ``dpo``: base + the preference-tuned adapter (``dpo/adapter``), when notebook 05 produced one.

Outputs: ``eval/generations.jsonl`` (one record per model and example: prompt, reference, answer,
timing, and its scores), ``eval/metrics.json`` (headline metrics with intervals, paired comparisons,
routing details, ratings), ``eval/breakdown.json`` (per category and per intent), plots, and the
``models`` block of the run's ``metrics.json``.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from ..core import record
from ..core.config import Settings
from ..core.examples import SYSTEM_PROMPT, prompt_messages, question, reference_answer
from ..core.record import HEADLINE
from ..core.runs import RunDir, read_jsonl, write_json, write_jsonl
from ..data.catalog import Catalog
from ..model.turns import gpu_turn
from .intervals import (Interval, bootstrap_ci, bootstrap_statistic, mcnemar_exact, paired_bootstrap,
                        paired_bootstrap_means, verdict)
from .metrics import UNPARSED, check_facts, macro_f1, predicted_intents, rouge_l, routing_scores

MODELS = ("base", "prompted", "sft", "dpo")
PROMPTED_SYSTEM = SYSTEM_PROMPT + (
    " Answer product questions with the exact specifications from the Voltaris catalog and keep answers "
    "short. Rules: always name the product and its model code; state each asked specification with its unit "
    "(W, VA, minutes, joules, m, mm, USD, years); never guess a number you are not sure of; never invent "
    "model codes. For a ticket, answer with exactly one line 'Intent: <intent>' using a lowercase intent "
    "name with underscores, such as track_order or get_refund.")
"""The prompt-engineered system message of the ``prompted`` baseline."""

ADAPTERS = {"sft": "train_adapter", "dpo": "dpo_adapter"}
"""The run artefact holding each tuned model's adapter."""

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


def few_shot(train: Sequence[dict[str, Any]], per_task: int = 1, seed: int = 0) -> list[tuple[str, str]]:
    """(question, reference answer) pairs from the training split, ``per_task`` of each task."""
    shots = []
    for task in ("product_qa", "routing"):
        pool = [ex for ex in train if ex["task"] == task and (task == "routing" or ex["meta"].get("fields"))]
        for ex in random.Random(seed).sample(pool, min(per_task, len(pool))):
            shots.append((question(ex), reference_answer(ex)))
    return shots


def intent_labels(*splits: Sequence[dict[str, Any]]) -> list[str]:
    """Every routing intent seen in the given splits, sorted."""
    return sorted({ex["meta"]["intent"] for split in splits for ex in split
                   if ex["task"] == "routing" and ex["meta"].get("intent")})


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


def model_generator(run: RunDir, settings: Settings, shots: Sequence[tuple[str, str]],
                    progress: bool = True) -> GenerateFn:
    """A function generating with any of MODELS, loading the base once and adapters as needed."""
    from ..model.generation import generate_answers, settings_kwargs
    from ..model.loading import load_adapter, load_from_settings, trained_adapter

    model, tokenizer = load_from_settings(settings.model)
    state = {"model": model, "loaded": set()}

    def generate(name: str, examples: Sequence[dict[str, Any]]) -> list[Any]:
        """Answers of model ``name``; adapters are attached once and switched, the base runs with them off."""
        kw: dict[str, Any] = {**settings_kwargs(settings.eval), "progress": progress, "desc": name}
        if name in ("base", "prompted"):
            if name == "prompted":
                kw.update(system_prompt=PROMPTED_SYSTEM, few_shot=shots)
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


def available_models(run: RunDir) -> list[str]:
    """The MODELS this run can evaluate: base and prompted always, sft and dpo when their adapter exists."""
    return [m for m in MODELS if m not in ADAPTERS or run.has(ADAPTERS[m])]


# ---------------------------------------------------------------- scoring
def score_records(records: Sequence[dict[str, Any]], catalog: Catalog, labels: Sequence[str]) -> pd.DataFrame:
    """The records as a table with scores: correct, hallucinated, rouge_l, predicted_intent and the problem."""
    rows = []
    for rec, rouge in zip(records, rouge_l([r["answer"] for r in records], [r["reference"] for r in records])):
        row = {**{k: v for k, v in rec.items() if k != "messages"}, "rouge_l": rouge, "correct": math.nan,
               "hallucinated": math.nan, "predicted_intent": None, "problem": ""}
        if rec["task"] == "routing":
            row["predicted_intent"] = predicted_intents([rec["answer"]], labels)[0]
            row["correct"] = float(row["predicted_intent"] == rec["intent"])
            if not row["correct"]:
                row["problem"] = ("names no known intent" if row["predicted_intent"] == UNPARSED
                                  else f"routed to {row['predicted_intent']}, expected {rec['intent']}")
        elif rec.get("product") in catalog:
            check = check_facts(rec["answer"], rec["product"], rec.get("fields") or {}, catalog)
            row["correct"] = float(check.correct) if rec.get("fields") else math.nan
            row["hallucinated"] = float(check.hallucinated)
            row["problem"] = check.problems(catalog, rec["product"])
        else:  # a product question about no (known) product: only invented codes can be checked
            unknown = catalog.find_unknown_codes(rec["answer"])
            row["hallucinated"] = float(bool(unknown))
            row["problem"] = "invented code " + ", ".join(unknown) if unknown else ""
        rows.append(row)
    return pd.DataFrame(rows)


def _qa(frame: pd.DataFrame) -> pd.DataFrame:
    """Product-question rows."""
    return frame[frame.task == "product_qa"]


def _routing(frame: pd.DataFrame) -> pd.DataFrame:
    """Routing rows."""
    return frame[frame.task == "routing"]


def metric_intervals(frame: pd.DataFrame, labels: Sequence[str], samples: int, seed: int) -> dict[str, Interval]:
    """Headline metrics of one model's scored rows, each with a bootstrap 95% interval."""
    qa, routing = _qa(frame), _routing(frame)
    out: dict[str, Interval] = {}
    for metric, column, rows in (("factual_accuracy", "correct", qa), ("hallucination_rate", "hallucinated", qa),
                                 ("rouge_l", "rouge_l", qa)):
        values = rows[column].dropna()
        if len(values):
            out[metric] = bootstrap_ci(values.to_numpy(), samples, seed)
    if len(routing):
        truth, pred = routing.intent.to_numpy(), routing.predicted_intent.to_numpy()
        out["intent_macro_f1"] = bootstrap_statistic(
            len(routing), lambda i: macro_f1(truth[i], pred[i], labels), samples, seed)
    return out


def headline(frame: pd.DataFrame, labels: Sequence[str], samples: int, seed: int) -> dict[str, dict[str, Any]]:
    """The ``models`` block of metrics.json: per model each metric, its ``_ci`` and the counts."""
    out = {}
    for model, rows in frame.groupby("model", sort=False):
        block: dict[str, Any] = {}
        for metric, ci in metric_intervals(rows, labels, samples, seed).items():
            block[metric], block[f"{metric}_ci"] = round(ci.value, 4), ci.as_list()
        block.update(n=int(len(rows)), n_product_qa=int(len(_qa(rows))), n_routing=int(len(_routing(rows))),
                     seconds_per_answer=round(float(rows.seconds.mean()), 4))
        out[str(model)] = block
    return out


def _paired(frame: pd.DataFrame, a: str, b: str, column: str, task: str) -> pd.DataFrame:
    """Rows of ``task`` where both models have a ``column`` value, aligned by example id."""
    rows = frame[frame.task == task]
    wide = rows.pivot(index="id", columns="model", values=column)
    return wide[[a, b]].dropna() if {a, b} <= set(wide.columns) else pd.DataFrame(columns=[a, b])


def paired_comparisons(frame: pd.DataFrame, a: str, b: str, labels: Sequence[str], samples: int,
                       seed: int) -> list[dict[str, Any]]:
    """Paired comparison of model ``b`` against ``a`` on every headline metric, with a verdict each."""
    out = []
    for metric, column, task in (("factual_accuracy", "correct", "product_qa"),
                                 ("hallucination_rate", "hallucinated", "product_qa"),
                                 ("rouge_l", "rouge_l", "product_qa")):
        pair = _paired(frame, a, b, column, task)
        if pair.empty:
            continue
        result = paired_bootstrap_means(pair[a].to_numpy(), pair[b].to_numpy(), samples, seed)
        p, test = result.p_value, "paired bootstrap"
        if column != "rouge_l":  # right/wrong outcomes: McNemar's exact test
            p, test = mcnemar_exact(pair[a].to_numpy() > 0, pair[b].to_numpy() > 0).p_value, "McNemar exact"
        out.append(_comparison(metric, a, b, result, p, test, len(pair)))
    pred = _paired(frame, a, b, "predicted_intent", "routing")
    if not pred.empty:
        truth = frame[frame.task == "routing"].drop_duplicates("id").set_index("id").intent.loc[pred.index].to_numpy()
        pa, pb = pred[a].to_numpy(), pred[b].to_numpy()
        result = paired_bootstrap(len(pred), lambda i: macro_f1(truth[i], pa[i], labels),
                                  lambda i: macro_f1(truth[i], pb[i], labels), samples, seed)
        out.append(_comparison("intent_macro_f1", a, b, result, result.p_value, "paired bootstrap", len(pred)))
    return out


def _comparison(metric: str, a: str, b: str, result: Any, p: float, test: str, n: int) -> dict[str, Any]:
    """One row of the comparison table."""
    return {"metric": metric, "a": a, "b": b, "n": n, "difference": round(result.difference, 4),
            "ci": [round(result.low, 4), round(result.high, 4)], "p_value": round(p, 6), "test": test,
            "verdict": verdict(metric.replace("_", " "), a, b, result, record.METRICS[metric].higher_is_better,
                               p_value=p)}


def comparison_pairs(models: Sequence[str]) -> list[tuple[str, str]]:
    """The comparisons worth reading: prompting and fine-tuning against the base, and each step after."""
    wanted = [("base", "prompted"), ("base", "sft"), ("prompted", "sft"), ("sft", "dpo")]
    return [(a, b) for a, b in wanted if a in models and b in models]


def breakdown(frame: pd.DataFrame, labels: Sequence[str]) -> dict[str, Any]:
    """Per category accuracy and per intent F1, for the best-trained model and for every model."""
    by_model: dict[str, Any] = {}
    for model, rows in frame.groupby("model", sort=False):
        qa = _qa(rows).dropna(subset=["correct"])
        category = {str(c): {"accuracy": round(float(g.correct.mean()), 4), "n": int(len(g)),
                             "hallucination_rate": round(float(g.hallucinated.mean()), 4)}
                    for c, g in qa.groupby(qa.category.fillna("(none)"))}
        routing = _routing(rows)
        intent = {}
        if len(routing):
            scores = routing_scores(routing.intent.tolist(), routing.predicted_intent.tolist(), labels)
            intent = {lab: {"f1": round(f1, 4), "n": scores.support[lab]} for lab, f1 in scores.per_intent.items()
                      if scores.support[lab]}
        by_model[str(model)] = {"category": category, "intent": intent}
    models = list(by_model)
    main = next((m for m in ("dpo", "sft") if m in by_model), models[-1] if models else None)
    return {"model": main, **(by_model.get(main) or {"category": {}, "intent": {}}), "by_model": by_model}


def worst_answers(frame: pd.DataFrame, model: str, n: int = 10) -> pd.DataFrame:
    """The model's worst answers (wrong or hallucinated first, then lowest ROUGE-L) with what was wrong."""
    rows = frame[frame.model == model].copy()
    rows["bad"] = (rows.correct == 0).astype(int) + (rows.hallucinated == 1).astype(int)
    rows = rows[(rows.bad > 0)].sort_values(["bad", "rouge_l"], ascending=[False, True])
    return rows[["id", "task", "prompt", "answer", "reference", "problem", "rouge_l"]].head(n).reset_index(drop=True)


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


def goals(models: dict[str, dict[str, Any]], model: str = "sft", min_gain: float = 0.30,
          min_f1: float = 0.80) -> pd.DataFrame:
    """The course's targets for the fine-tuned model against the base, each with whether it is met."""
    tuned, base = models.get(model, {}), models.get("base", {})
    if not tuned or not base:
        raise ValueError(f"goals need metrics of both 'base' and '{model}'; have {', '.join(models) or 'none'}")
    gain = tuned.get("factual_accuracy", 0) - base.get("factual_accuracy", 0)
    rows = [(f"factual accuracy gain >= {min_gain:.2f}", f"{gain:+.3f}", gain >= min_gain - 1e-9),
            ("accuracy intervals do not overlap", f"{base.get('factual_accuracy_ci')} vs {tuned.get('factual_accuracy_ci')}",
             bool(base.get("factual_accuracy_ci") and tuned.get("factual_accuracy_ci"))
             and tuned["factual_accuracy_ci"][0] > base["factual_accuracy_ci"][1]),
            ("hallucination rate lower than base",
             f"{tuned.get('hallucination_rate', float('nan')):.3f} vs {base.get('hallucination_rate', float('nan')):.3f}",
             tuned.get("hallucination_rate", 1) < base.get("hallucination_rate", 0)),
            (f"routing macro F1 >= {min_f1:.2f}", f"{tuned.get('intent_macro_f1', float('nan')):.3f}",
             tuned.get("intent_macro_f1", 0) >= min_f1)]
    return pd.DataFrame(rows, columns=["goal", "value", "met"]).set_index("goal")


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
            for metric in HEADLINE:
                if metric in block:
                    low, high = block[f"{metric}_ci"]
                    row[metric] = f"{block[metric]:.3f} [{low:.3f}, {high:.3f}]"
            rows.append(row)
        return pd.DataFrame(rows).set_index("model")

    def routing(self, model: str) -> Any:
        """RoutingScores (F1 per intent, confusion matrix) of one model."""
        rows = _routing(self.frame[self.frame.model == model])
        return routing_scores(rows.intent.tolist(), rows.predicted_intent.tolist(), self.labels)


def summarise(records: Sequence[dict[str, Any]], catalog: Catalog, labels: Sequence[str], settings: Settings,
              ratings: pd.DataFrame | None = None) -> Evaluation:
    """Score generation records and compute metrics, intervals, comparisons and breakdowns (no model needed)."""
    frame = score_records(records, catalog, labels)
    samples, seed = settings.eval.bootstrap_samples, settings.eval.seed
    models = headline(frame, labels, samples, seed)
    rows = [row for a, b in comparison_pairs(list(models)) for row in paired_comparisons(frame, a, b, labels, samples, seed)]
    return Evaluation(frame, models, pd.DataFrame(rows), breakdown(frame, labels), list(labels), ratings)


def load_catalog(run: RunDir) -> Catalog:
    """The run's catalog copy (written by notebook 01)."""
    return Catalog.load(run.need("catalog"))


def generate_records(examples: Sequence[dict[str, Any]], models: Sequence[str],
                     generate: GenerateFn) -> list[dict[str, Any]]:
    """Generation records of every model on ``examples``."""
    return [rec for name in models for rec in generation_records(name, examples, generate(name, examples))]


def write_evaluation(run: RunDir, evaluation: Evaluation, records: Sequence[dict[str, Any]]) -> dict[str, Path]:
    """Write generations (with scores), eval metrics, breakdown, plots and the run's ``models`` block."""
    from .plots import plot_category_accuracy, plot_confusion, plot_metric_bars

    out = [{**rec, **{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}}
           for rec, row in zip(records, evaluation.frame.to_dict("records"))]
    paths = {"generations": write_jsonl(run.eval / "generations.jsonl", out)}
    ratings = None if evaluation.ratings is None else evaluation.ratings.to_dict("records")
    paths["metrics"] = write_json(run.eval / "metrics.json", {
        "models": evaluation.models, "comparisons": evaluation.comparisons.to_dict("records"),
        "intents": evaluation.labels, "ratings": ratings})
    paths["breakdown"] = write_json(run.path("eval_breakdown"), evaluation.breakdown)
    figures = {"eval_metrics": plot_metric_bars(evaluation.models),
               "eval_categories": plot_category_accuracy(evaluation.breakdown["by_model"])}
    main = evaluation.breakdown["model"]
    if main and len(_routing(evaluation.frame)):
        figures[f"eval_confusion_{main}"] = plot_confusion(evaluation.routing(main).confusion, f"Routing: {main}")
    for name, fig in figures.items():
        paths[name] = run.plots / f"{name}.png"
        fig.savefig(paths[name], dpi=110)
    record.update(run, {"models": evaluation.models})
    return paths


def evaluate_run(run: RunDir, settings: Settings, models: Sequence[str] | None = None, progress: bool = True,
                 generate: GenerateFn | None = None) -> Evaluation:
    """Generate with each model on the test split, score, compare, and write everything (notebook 06)."""
    models = list(models or available_models(run))
    if generate is None:
        from ..model.loading import trained_adapter

        for name in set(models) & set(ADAPTERS):  # fail before any generation, not after the base model's
            trained_adapter(run, ADAPTERS[name], settings.model.base_model)
    test = read_jsonl(run.need("test_split"))
    train = read_jsonl(run.need("train_split"))
    catalog = load_catalog(run)
    examples = select_examples(test, settings.eval.max_examples, settings.eval.seed)
    with gpu_turn(settings):  # a workshop: the fit check, then a GPU slot; the models go when the turn ends
        records = generate_records(examples, models, generate or model_generator(
            run, settings, few_shot(train, seed=settings.eval.seed), progress))
    evaluation = summarise(records, catalog, intent_labels(train, test), settings, ratings_summary(run, settings))
    write_evaluation(run, evaluation, records)
    return evaluation


def baseline_report(run: RunDir, settings: Settings, progress: bool = True,
                    generate: GenerateFn | None = None) -> Evaluation:
    """The base model zero-shot and prompt-engineered on the VALIDATION questions (notebook 02).

    Writes ``eval/baseline_generations.jsonl`` and ``eval/baseline.json``; the run's metrics.json is left
    to notebook 06, which measures on the test split.
    """
    val = read_jsonl(run.need("val_split"))
    train = read_jsonl(run.need("train_split"))
    examples = select_examples(val, settings.eval.baseline_max_examples or settings.eval.max_examples,
                               settings.eval.seed)
    with gpu_turn(settings):  # a workshop: the fit check, then a GPU slot; the model goes when the turn ends
        records = generate_records(examples, ["base", "prompted"], generate or model_generator(
            run, settings, few_shot(train, seed=settings.eval.seed), progress))
    evaluation = summarise(records, load_catalog(run), intent_labels(train, val), settings)
    write_jsonl(run.eval / "baseline_generations.jsonl", records)
    write_json(run.eval / "baseline.json", {"split": "val", "models": evaluation.models,
                                            "comparisons": evaluation.comparisons.to_dict("records")})
    return evaluation


__all__ = ["ADAPTERS", "Evaluation", "HEADLINE", "MODELS", "PROMPTED_SYSTEM", "available_models", "baseline_report",
           "breakdown", "comparison_pairs", "evaluate_run", "few_shot", "goals", "generate_records",
           "generation_records", "headline", "intent_labels", "load_catalog", "metric_intervals", "model_generator",
           "paired_comparisons", "ratings_summary", "score_records", "select_examples", "summarise", "worst_answers",
           "write_evaluation"]
