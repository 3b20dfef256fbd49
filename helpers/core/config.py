"""Profiles and validated settings: one code path, several profiles, every field overridable.

A profile (``ci``, ``cpu-demo``, ``gpu``, ``workshop``) is a named set of overrides on top of the
defaults below. :func:`load_settings` takes the profile name and a dict of overrides coming from a
notebook's papermill ``parameters`` cell, e.g. ``{"train": {"learning_rate": 1e-4}}`` or the flat
dotted form ``{"train.learning_rate": 1e-4}``. Anything unknown or nonsensical fails at once with a
:class:`SettingsError` that names the field. Notebooks get their settings through
:func:`helpers.session.start`, which keeps them in the run (``settings.json``).
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
import typing
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MODEL = "default"
"""Sentinel for the embedded SmolLM2-135M-Instruct (see :mod:`helpers.model.loading`)."""


MAX_SEED = 2**32 - 1


class SettingsError(ValueError):
    """A setting is unknown or has a value that cannot work; the message names the field."""


def _positive(x: float) -> bool:
    return x > 0


def _nonneg(x: float) -> bool:
    return x >= 0


def _fraction(x: float) -> bool:
    return 0 <= x < 1


def _unit(x: float) -> bool:
    return 0 < x <= 1


def _seed(x: int) -> bool:
    return 0 <= x <= MAX_SEED


_RULES: dict[str, tuple[typing.Callable[[Any], bool], str]] = {
    "positive": (_positive, "must be greater than 0"),
    "nonneg": (_nonneg, "must be 0 or more"),
    "fraction": (_fraction, "must be in [0, 1)"),
    "unit": (_unit, "must be in (0, 1]"),
    "seed": (_seed, "must be from 0 to 2**32 - 1 (the seeds numpy and torch accept)"),
}


def _f(default: Any, rule: str | None = None, choices: tuple | None = None, doc: str = "") -> Any:
    """A dataclass field with a validation rule and a one-line description."""
    meta = {"rule": rule, "choices": choices, "doc": doc}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class ModelSettings:
    """Which base model and how to load it."""

    base_model: str = _f(DEFAULT_MODEL, doc="'default' (embedded SmolLM2-135M-Instruct), a hub id or a local path")
    quantize_4bit: bool = _f(True, doc="load the frozen base in 4-bit NF4 with double quantization (QLoRA)")
    trust_remote_code: bool = _f(False, doc="run model code shipped with the checkpoint; off unless you trust it")
    compute_dtype: str = _f("auto", choices=("auto", "float32", "bfloat16", "float16"),
                            doc="'auto' picks float32 on CPU, bfloat16 on GPUs that support it, else float16")


@dataclass
class DataSettings:
    """Curation and formatting of the training data (notebook 01)."""

    max_length: int = _f(256, "positive", doc="maximum tokens per formatted example")
    near_dup_threshold: float = _f(0.8, "unit", doc="Jaccard similarity above which two texts are near-duplicates")
    val_fraction: float = _f(0.1, "fraction", doc="share of ticket and routing groups held out for validation")
    feedback_fraction: float = _f(0.1, "fraction", doc="share of ticket and routing groups held out for rating "
                                                      "and preference tuning (notebooks 04-05)")
    test_fraction: float = _f(0.1, "fraction", doc="share of ticket and routing groups held out for the final test")
    seed: int = _f(13, "seed", doc="seed for generation of phrasings and for the splits")
    phrasings: dict = _f({"train": 2.5, "val": 0.2, "feedback": 0.3, "test": 0.4},
                         doc="questions per catalog fact and split, each in a phrasing of that split only "
                             "(a fraction: that share of the facts gets one)")
    code_only_train: float = _f(0.0, "fraction", doc="chance that a training question names its product by the code "
                                                     "alone instead of the form drawn evenly from name and code, name, "
                                                     "code, name with code (held-out questions keep the even draw)")
    answer_form: str = _f("name_code", choices=("name_code", "code_name"),
                          doc="how every answer introduces its product: 'Name (CODE)' or 'CODE (Name)' (code first: "
                              "a code-only question's code is copied, then its product's name is one step away)")
    noun_questions: int = _f(0, "nonneg", doc="per fact, this many more training questions 'Product: <word>?' naming "
                                              "the field by another of the schema's words for it (nouns)")
    routing_per_intent: int = _f(40, "positive", doc="at most this many Bitext routing examples per intent")
    max_products: int = _f(0, "nonneg", doc="teach only this many catalog products, taken in turn from each "
                                            "category (0 = all); CPU profiles teach a slice they can learn in minutes")
    routing_train_per_intent: int = _f(0, "nonneg", doc="at most this many routing examples per intent in the "
                                                        "training split (0 = all); held-out splits keep theirs")
    min_chars: int = _f(8, "positive", doc="shorter customer messages or replies are removed as too short")
    max_chars: int = _f(1200, "positive", doc="longer customer messages or replies are removed as too long")


@dataclass
class TrainSettings:
    """Supervised fine-tuning with (Q)LoRA (notebook 03)."""

    lora_r: int = _f(8, "positive", doc="LoRA rank")
    lora_alpha: int = _f(16, "positive", doc="LoRA scaling numerator (scale = alpha / r)")
    lora_dropout: float = _f(0.0, "fraction", doc="dropout on the LoRA branch (0 = off: at 0.05 its random masks made "
                              "CPU training steps 1.35x slower, and runs of a few epochs rarely need it)")
    target_modules: list = _f(["all-linear"], doc="module names to adapt, or ['all-linear']")
    learning_rate: float = _f(2e-5, "positive", doc="peak learning rate")
    batch_size: int = _f(4, "positive", doc="examples per optimisation step on one device")
    grad_accum: int = _f(1, "positive", doc="micro-batches accumulated per optimizer step")
    epochs: float = _f(3.0, "positive", doc="passes over the training split")
    max_steps: int = _f(0, "nonneg", doc="stop after this many optimizer steps (0 = run all epochs)")
    max_train_examples: int = _f(0, "nonneg", doc="use at most this many training examples (0 = all)")
    fact_repeats: int = _f(1, "positive", doc="times each product question appears in one pass over the training "
                                              "split: facts need more passes than routing, which is learned in fewer")
    ticket_repeats: int = _f(1, "positive", doc="times more each product question taken from a support ticket appears "
                                                "(several facts at once, 'it' for the product)")
    max_val_examples: int = _f(0, "nonneg", doc="validate on at most this many examples (0 = all)")
    warmup_ratio: float = _f(0.03, "fraction", doc="share of steps spent warming the learning rate up")
    weight_decay: float = _f(0.0, "nonneg", doc="AdamW weight decay")
    evals_per_epoch: int = _f(4, "positive", doc="validation-loss evaluations per epoch")
    log_every: int = _f(5, "positive", doc="log training loss every this many steps")
    early_stopping: bool = _f(True, doc="stop when validation loss keeps rising while training loss falls")
    patience: int = _f(3, "positive", doc="evaluations of rising validation loss before stopping")
    gradient_checkpointing: bool = _f(False, doc="trade compute for memory; only when memory requires it")
    seed: int = _f(42, "seed", doc="seed for adapter init and data order")


@dataclass
class DPOSettings:
    """Preference tuning from the ratings (notebook 05)."""

    beta: float = _f(0.1, "positive", doc="DPO temperature: how far the policy may move from the reference")
    learning_rate: float = _f(5e-6, "positive", doc="peak learning rate")
    batch_size: int = _f(4, "positive", doc="preference pairs per step")
    epochs: float = _f(1.0, "positive", doc="passes over the preference pairs")
    max_steps: int = _f(0, "nonneg", doc="stop after this many steps (0 = run all epochs)")
    min_pairs: int = _f(8, "positive", doc="fewer usable pairs than this and DPO is skipped with a message")
    eval_fraction: float = _f(0.2, "fraction", doc="share of pairs held out to measure preference accuracy")


@dataclass
class RatingSettings:
    """Human (or simulated) rating of answers (notebook 04)."""

    n_items: int = _f(40, "positive", doc="held-out prompts to rate")
    rater: str = _f("", doc="rater name; empty means the operating-system user")
    store_path: str = _f("", doc="SQLite file for ratings; empty means <run>/ratings/ratings.sqlite")
    simulated_raters: int = _f(2, "positive", doc="simulated raters used when running headless")
    seed: int = _f(11, "seed", doc="seed for choosing the items, the A/B order and the simulated raters")


@dataclass
class EvalSettings:
    """Generation and metrics (notebook 06)."""

    max_examples: int = _f(0, "nonneg", doc="evaluate at most this many test examples per task (0 = all)")
    batch_size: int = _f(16, "positive", doc="prompts generated together")
    max_new_tokens: int = _f(64, "positive", doc="cap on generated tokens per answer")
    routing_max_new_tokens: int = _f(16, "positive", doc="cap on generated tokens per routing answer (the label "
                                                         "is a few tokens; a rambling answer is read from its start)")
    bootstrap_samples: int = _f(1000, "positive", doc="bootstrap and permutation resamples (F1, ROUGE-L, paired tests)")
    interval_method: str = _f("wilson", choices=("wilson", "exact"),
                              doc="interval of a proportion (accuracy, hallucination): Wilson score or exact "
                                  "Clopper-Pearson")
    seed: int = _f(7, "seed", doc="seed for bootstraps")


@dataclass
class WorkshopSettings:
    """Sharing one GPU server among many participants."""

    seats: int = _f(1, "positive", doc="participants sharing each GPU")
    gpu_memory_gb: float = _f(0.0, "nonneg", doc="GPU size in GB (0 = read it from the device)")
    gpu_slots: int = _f(0, "nonneg", doc="concurrent training jobs per GPU (0 = from the planner)")
    lock_dir: str = _f("", doc="shared folder for slot locks; empty means no queueing")
    participant: str = _f("", doc="participant name for the run folder and ratings; empty = $COURSE_PARTICIPANT, "
                                  "$JUPYTERHUB_USER or the operating-system user")
    context_gb: float = _f(0.5, "nonneg", doc="GPU memory each process's CUDA context takes outside PyTorch's allocator")
    headroom: float = _f(0.1, "fraction", doc="share of GPU memory kept free for allocator caches and estimate error")
    poll_seconds: float = _f(2.0, "positive", doc="how often a job waiting for a GPU slot looks again")


@dataclass
class BudgetSettings:
    """Prices and effort behind the cost of a fine-tuning project (notebooks 02 and 07)."""

    gpu_hour_price: float = _f(2.0, "nonneg", doc="price of one GPU-hour in your currency (cloud list price or amortised)")
    gpu_memory_gb: float = _f(24.0, "positive", doc="memory of the GPU you plan to train on, in GB")
    annotation_minutes_per_example: float = _f(3.0, "nonneg", doc="minutes a person spends writing or checking one example")
    rating_minutes_per_item: float = _f(1.0, "nonneg", doc="minutes per rated answer when the store has no timestamps")
    hourly_rate: float = _f(60.0, "nonneg", doc="cost of one hour of an expert's time")
    experiments_per_run: int = _f(5, "positive", doc="training runs tried (settings, data fixes) for each final run")
    retrain_per_year: int = _f(4, "nonneg", doc="retraining rounds a year as products change")
    candidate_models: list = _f(["default", "1B", "7B", "13B", "70B"],
                                doc="base models compared in notebook 02: 'default' or size classes 1B/7B/13B/70B")


@dataclass
class Settings:
    """All settings of one run, grouped by the notebook that uses them."""

    profile: str = "cpu-demo"
    model: ModelSettings = field(default_factory=ModelSettings)
    data: DataSettings = field(default_factory=DataSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    dpo: DPOSettings = field(default_factory=DPOSettings)
    rating: RatingSettings = field(default_factory=RatingSettings)
    eval: EvalSettings = field(default_factory=EvalSettings)
    workshop: WorkshopSettings = field(default_factory=WorkshopSettings)
    budget: BudgetSettings = field(default_factory=BudgetSettings)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON-serialisable), e.g. for metadata files."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Stable JSON text of all settings."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


# The case study's recipe is the default of TrainSettings; profiles say only what differs.
PROFILES: dict[str, dict[str, Any]] = {
    # Smallest run that still shows real learning; used by the test suite.
    "ci": {
        "data": {"max_products": 6, "routing_train_per_intent": 8, "test_fraction": 0.2, "feedback_fraction": 0.15,
                 "phrasings": {"train": 3, "val": 0.5, "feedback": 1, "test": 0.5}},
        "train": {"learning_rate": 3e-3, "lora_r": 16, "lora_alpha": 32, "batch_size": 8,
                  "max_steps": 30, "epochs": 1, "max_val_examples": 24, "evals_per_epoch": 3,
                  "log_every": 2, "warmup_ratio": 0.05, "patience": 3},
        "dpo": {"learning_rate": 5e-5, "max_steps": 8, "batch_size": 4, "min_pairs": 8},
        "rating": {"n_items": 24},
        "eval": {"max_examples": 48, "batch_size": 32, "max_new_tokens": 40,
                 "bootstrap_samples": 300},
    },
    # A first look without a GPU (the whole course in 16-18 minutes; not the default, since the facts do not stick:
    # final factual accuracy 0.54-0.67 in six whole courses, hallucination above the base's; measured before every
    # answer named the product as 'Name (CODE)'). Three products (one per category of the first three) and 8 routing
    # utterances per intent; 160 steps of 8 see the slice about 3.9 times. Measured with the honest evaluation (training
    # alone, one thread, experiment x5): factual accuracy 0.73 [0.59, 0.83] on 48 test questions (base 0.00; the profile
    # now asks 81), hallucination 0.19 (base 0.15), routing macro F1 0.94 with 0.4% unparsed. Six products at 160 steps
    # gave 0.64 / 0.31 / 0.96, and at 80 steps 0.23 / 0.68 / 0.85: a fact needs several passes. Each product question
    # twice per pass (train.fact_repeats 2: about six passes over the facts, three over routing, in the same 160 steps)
    # gave 0.74 / 0.22 / 0.94 training alone but 0.64 / 0.32 / 0.96 in a whole course, as once (0.64 / 0.26 / 0.96): no
    # measurable gain, so the profile keeps 1. Six training wordings per fact instead of three gave 0.72 / 0.19 / 0.98
    # training alone: no gain at 160 steps, where memorization is the limit (they matter with more passes: see
    # cpu-full). See the README's lever table.
    "cpu-demo": {
        "data": {"max_products": 3, "routing_train_per_intent": 8, "test_fraction": 0.25, "feedback_fraction": 0.15,
                 "phrasings": {"train": 3, "val": 1, "feedback": 1, "test": 3}},  # >= 80 test product questions
        "train": {"learning_rate": 3e-3, "lora_r": 16, "lora_alpha": 32, "batch_size": 8,
                  "max_steps": 160, "epochs": 1, "max_val_examples": 24, "evals_per_epoch": 2,
                  "log_every": 2, "warmup_ratio": 0.05, "patience": 3},
        "dpo": {"learning_rate": 5e-5, "max_steps": 12, "batch_size": 4},
        "rating": {"n_items": 40},
        "eval": {"max_examples": 0, "batch_size": 48, "max_new_tokens": 48},
    },
    # The case study's recipe on a GPU: NF4 + double quantization, r=8, alpha=16, lr 2e-5, bs 4, 3 epochs.
    "gpu": {
        "dpo": {"learning_rate": 5e-6},
        "rating": {"n_items": 60},
        "eval": {"max_examples": 0, "batch_size": 32, "max_new_tokens": 96},
    },
    # gpu plus a per-participant memory cap and a shared ratings store.
    "workshop": {
        "rating": {"n_items": 30, "store_path": "/srv/course/shared/ratings.sqlite"},
        "eval": {"max_examples": 200, "batch_size": 16, "max_new_tokens": 96},
        "workshop": {"seats": 10, "lock_dir": "/srv/course/shared/locks"},
    },
}

# The default without a GPU: the facts made to stick. cpu-demo's three products asked in six training wordings per
# fact instead of three, for 240 steps (about five passes), with every answer naming the product by name and code.
# Measured training alone on one data draw (README's lever table): 240 steps gave factual accuracy 0.98 [0.92, 0.99]
# on 85 test questions, hallucination 0.00, routing macro F1 0.96 with 2.7% unparsed, training 10.8 minutes on a slow
# host; 400 steps 0.95 / 0.04 in 18.6 minutes; 160 steps 0.88 [0.80, 0.93] / 0.06, too near the targets' edge.
# About half the training questions name the product by its code alone (code_only_train 0.34 on top of the even draw's
# quarter): with the even draw, seed 2 failed the hallucination target in two whole courses of three, its
# contradictions nearly all code-only questions answered with another product's name or value (0.15 against the
# base's 0.10); with this share the same seed gave 0.93 accuracy and no contradiction, but seed 3 (which had passed)
# then failed it the same way (0.12 against 0.12): over seeds 1-3, 10 contradictions in 243 answers against 18 in 241.
# Answers then put the code first, 'CODE (Name)' (answer_form): the model copies the question's code and writes its
# product's name right after it, where 'Name (CODE)' made it choose the name before the code was written; seed 3's
# SFT model alone went from 9 code-only questions of 20 contradicted to 1 (README).
# The questions taken from support tickets were then the weak kind (45 of 63 right against 176 of 180 generated from
# the catalog, seeds 1-3), but asking each twice per pass (train.ticket_repeats 2) did not help: seed 1 went from 5
# contradictions to 3, seed 2 from 1 to 7 (5 on catalog questions, mostly one product's value given for another), with
# 7.3% of its routing answers naming no intent (fewer routing passes). The profile keeps 1 (README).
# Routing in fewer passes to save time (train.fact_repeats 2 for 176 steps: the facts as often as at 240 steps, routing
# 2.6 passes, a fifth fewer tokens) failed seed 1 from a fresh clone: 6.9% of routing answers named no intent and the
# SFT model contradicted 9 answers of 81 (1.1% and 3 at 240 steps). The profile keeps 240 steps (README).
# One validation pass per pass over the data instead of two (6 instead of 11 in 240 steps): each took 7.7 s (24
# examples, 1,857 tokens, a 137 GFLOPS host), so training is about 40 s shorter. The default seed then trained to
# another model than with two (0.87 / 0.02 after DPO instead of 0.90 / 0.02; every learning target met in both; README).
# DPO at learning rate 2e-5 instead of 5e-5: seed 4's DPO at 5e-5 (margin 2.95 on its 11 held-out pairs) rewrote one
# product's code in its answers ("The Quartz Flex (VX-AD-2890)" for VX-AD-2120; 14 of the 57 pairs were about it,
# their rejected answers repeating "2120"): 4 of the 26 validation product questions contradicted the catalog (SFT 0)
# and 6 of 79 test questions, against an allowance of 4. At 2e-5, from the same SFT adapter and pairs: held-out
# preference accuracy 0.55 -> 1.00 as at 5e-5 (margin 1.08), no validation contradiction (README).
# Each fact is also asked 'Product: <word>?' with two more of the words the schema gives for its field
# (data.noun_questions 2; 40 training examples, the held-out splits unchanged): catalog questions call a field by its
# label only, so 'wattage' was a word of tickets about the two 60 W products, and seed 1's model answered the 100 W
# charger's wattage with 60 in 3 of its 5 contradictions after DPO (2 of 4 after SFT). With them: 3 after SFT and 3
# after DPO, none of them a wattage (README).
PROFILES["cpu-full"] = {**PROFILES["cpu-demo"],
                        "data": {**PROFILES["cpu-demo"]["data"], "code_only_train": 0.34, "answer_form": "code_name",
                                 "noun_questions": 2,
                                 "phrasings": {**PROFILES["cpu-demo"]["data"]["phrasings"], "train": 6}},
                        "train": {**PROFILES["cpu-demo"]["train"], "max_steps": 240, "evals_per_epoch": 1},
                        "dpo": {**PROFILES["cpu-demo"]["dpo"], "learning_rate": 2e-5}}

_GROUPS = {f.name: f.type for f in dataclasses.fields(Settings) if f.name != "profile"}


DEFAULT_CPU_PROFILE = "cpu-full"
"""The profile without a GPU: the CPU profile whose facts stick (issue #18 puts the learning targets first)."""


def default_profile() -> str:
    """'gpu' when a CUDA device is visible, else DEFAULT_CPU_PROFILE."""
    try:
        import torch

        return "gpu" if torch.cuda.is_available() else DEFAULT_CPU_PROFILE
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return DEFAULT_CPU_PROFILE


def _nest(overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Turn {'train.lr': 1, 'eval': {...}} into {'train': {'lr': 1}, 'eval': {...}}."""
    if not isinstance(overrides, dict):
        raise SettingsError(f"overrides must be a dict such as {{'train': {{'learning_rate': 1e-4}}}} or "
                            f"{{'train.learning_rate': 1e-4}}, got {type(overrides).__name__} {overrides!r}")
    nested: dict[str, dict[str, Any]] = {}
    for key, value in overrides.items():
        if not isinstance(key, str):
            raise SettingsError(f"setting names must be strings, got {key!r}")
        if "." in key:
            group, _, name = key.partition(".")
            nested.setdefault(group, {})[name] = value
        elif isinstance(value, dict):
            nested.setdefault(key, {}).update(value)
        else:
            raise SettingsError(
                f"unknown setting '{key}': name a group and a field, e.g. 'train.learning_rate' "
                f"(groups: {', '.join(sorted(_GROUPS))})")
    return nested


def _coerce(path: str, value: Any, annotation: Any) -> Any:
    """Check (and gently convert, int->float) a value against a field's annotation."""
    target = {"int": int, "float": float, "bool": bool, "str": str, "list": list, "dict": dict}.get(
        annotation if isinstance(annotation, str) else getattr(annotation, "__name__", ""), None)
    if target is None:
        return value
    if target is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if target is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if target is not bool and isinstance(value, bool) or not isinstance(value, target):
        raise SettingsError(f"{path} must be {target.__name__}, got {value!r} ({type(value).__name__})")
    if target is float and not math.isfinite(value):
        raise SettingsError(f"{path} must be a finite number, got {value!r}")
    return value


def _apply(group_obj: Any, group: str, values: dict[str, Any]) -> None:
    """Validate and set each value of one group."""
    fields = {f.name: f for f in dataclasses.fields(group_obj)}
    for name, value in values.items():
        path = f"{group}.{name}"
        if name not in fields:
            raise SettingsError(f"unknown setting '{path}'; known in '{group}': {', '.join(sorted(fields))}")
        f = fields[name]
        value = _coerce(path, value, f.type)
        rule, choices = f.metadata.get("rule"), f.metadata.get("choices")
        if rule and not _RULES[rule][0](value):
            raise SettingsError(f"{path} {_RULES[rule][1]}, got {value!r}")
        if choices and value not in choices:
            raise SettingsError(f"{path} must be one of {', '.join(map(str, choices))}; got {value!r}")
        setattr(group_obj, name, value)


def _apply_layer(settings: Settings, layer: dict[str, Any]) -> None:
    """Validate and set every value of one layer of overrides."""
    for group, values in _nest(layer).items():
        if group not in _GROUPS:
            raise SettingsError(f"unknown settings group '{group}'; groups: {', '.join(sorted(_GROUPS))}")
        if not isinstance(values, dict):
            raise SettingsError(f"settings group '{group}' must be a dict of fields")
        _apply(getattr(settings, group), group, values)


def _check_consistency(s: Settings) -> None:
    """Rules that involve several fields."""
    if s.data.min_chars > s.data.max_chars:
        raise SettingsError(f"data.min_chars ({s.data.min_chars}) must not exceed data.max_chars "
                            f"({s.data.max_chars}): every text would be removed as too short or too long")
    if s.data.val_fraction + s.data.feedback_fraction + s.data.test_fraction >= 0.9:
        raise SettingsError("data.val_fraction + data.feedback_fraction + data.test_fraction must leave at least "
                            "10% for training")
    most = {"train": 6, "val": 3, "feedback": 3, "test": 3}  # train has six wordings of its own, the others three
    bad = {k: v for k, v in s.data.phrasings.items() if k not in most or isinstance(v, bool)
           or not isinstance(v, (int, float)) or not 0 <= v <= most[k]}
    if bad or not s.data.phrasings.get("train"):
        raise SettingsError(f"data.phrasings must map train to a number above 0 and at most 6, and val, feedback and "
                            f"test to numbers from 0 to 3; got {s.data.phrasings!r}")
    if not s.train.target_modules or not all(isinstance(m, str) and m for m in s.train.target_modules):
        raise SettingsError("train.target_modules must be a non-empty list of module names, or ['all-linear']")


def load_settings(profile: str | None = None, overrides: dict[str, Any] | None = None,
                  **kw_overrides: Any) -> Settings:
    """Settings of a profile with overrides applied, validated; raises SettingsError naming the field."""
    profile = profile or default_profile()
    if profile not in PROFILES:
        raise SettingsError(f"unknown profile '{profile}'; choose one of {', '.join(PROFILES)}")
    settings = Settings(profile=profile)
    for layer in (PROFILES[profile], {} if overrides is None else overrides, kw_overrides):
        _apply_layer(settings, layer)
    _check_consistency(settings)
    return settings


def with_overrides(settings: Settings, overrides: dict[str, Any]) -> Settings:
    """A copy of ``settings`` with ``overrides`` (nested or dotted, as for load_settings) applied and validated."""
    out = copy.deepcopy(settings)
    _apply_layer(out, overrides)
    _check_consistency(out)
    return out


def changes(before: Settings, after: Settings) -> dict[str, tuple[Any, Any]]:
    """Dotted fields whose value differs: {'train.learning_rate': (0.003, 0.0001)}."""
    a, b = before.to_dict(), after.to_dict()
    return {f"{group}.{name}": (a[group][name], b[group][name]) for group in _GROUPS
            for name in a[group] if a[group][name] != b[group][name]}


def parse_assignment(text: str) -> tuple[str, Any]:
    """'train.lora_r=8' -> ('train.lora_r', 8); values are read as JSON when they parse, else as text."""
    key, sep, raw = text.partition("=")
    if not sep or "." not in key:
        raise SettingsError(f"--set expects group.field=value, got {text!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def seed_overrides(seed: int) -> dict[str, int]:
    """Overrides that set every group's seed to ``seed``: one knob for all of a course's random choices."""
    defaults = Settings()
    return {f"{group}.seed": seed for group in _GROUPS if hasattr(getattr(defaults, group), "seed")}


def describe(settings: Settings, group: str) -> list[tuple[str, Any, str]]:
    """(field, value, what it means) rows of one group, for showing in a notebook."""
    obj = getattr(settings, group)
    return [(f.name, getattr(obj, f.name), f.metadata.get("doc", "")) for f in dataclasses.fields(obj)]


__all__ = ["DEFAULT_CPU_PROFILE", "DEFAULT_MODEL", "PROFILES", "Settings", "SettingsError", "changes", "default_profile",
           "describe", "load_settings", "seed_overrides", "with_overrides"]
