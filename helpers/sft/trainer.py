"""Supervised fine-tuning with QLoRA (notebook 03 and ``python -m helpers.cli.train``).

Built on the transformers ``Trainer`` rather than TRL's ``SFTTrainer``: we need the Trainer's
checkpoints, exact resume, evaluation loop, schedules and multi-process launch, but not SFTTrainer's
dataset preparation (our examples are already chat messages, masked to the assistant turn by
:mod:`helpers.model.chat_format`) nor its defaults that cost speed on a CPU (gradient checkpointing, full
logits for metrics). Two speed levers are ours, each measured in ``benchmarks/``:

* batches are left-padded and length-grouped, so little of each batch is padding;
* the output head (a 49k-entry vocabulary: about a fifth of the model's matmul work) is applied only
  at the positions whose next token carries loss, through the model's own ``logits_to_keep`` argument
  given as a boolean mask (the selected hidden states are gathered into one contiguous block, so the
  head is one plain matrix product; a sliced window was a strided batched product, about 1.6x slower).
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ..core import record
from ..core.config import Settings, SettingsError, TrainSettings
from ..core.environment import library_versions, peak_memory_mb
from ..core.live_plot import LivePlot
from ..core.runs import RunDir, read_jsonl, write_json
from ..model.chat_format import IGNORE, check_encoded, encode_example
from ..model.loading import (check_adapter_base, compute_dtype, device, load_adapter, load_model, load_tokenizer,
                             resolve_model)
from ..model.turns import gpu_turn
from .overfit import OverfitDetector, stability

CHECKPOINTS = "checkpoints"
RANKS = "ranks"  # per-process reports of a multi-process run: examples seen, weight digests


class TrainingOOMError(RuntimeError):
    """The GPU ran out of memory; the message says which settings to lower."""


@dataclass
class TrainResult:
    """What a finished training run left in the run directory."""

    adapter_dir: Path
    summary: dict[str, Any]
    log_path: Path
    plot_path: Path | None
    overfit_message: str


# ---------------------------------------------------------------- settings checks before any model loads
def linear_module_names(model_name: str, trust_remote_code: bool = False) -> tuple[set[str], int]:
    """Short names of the model's linear layers and its context length, read without loading weights."""
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(resolve_model(model_name), trust_remote_code=trust_remote_code)
    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(config, trust_remote_code=trust_remote_code)
    names = {name.rsplit(".", 1)[-1] for name, mod in skeleton.named_modules() if isinstance(mod, torch.nn.Linear)}
    names.discard("lm_head")
    return names, int(getattr(config, "max_position_embeddings", 0) or 0)


def check_train_settings(settings: Settings, n_train: int) -> None:
    """Fail before any model loads on settings that cannot work, naming the field."""
    t = settings.train
    if n_train == 0:
        raise SettingsError("the training split is empty: run notebook 01 (data curation) or check "
                            "train.max_train_examples")
    names, context = linear_module_names(settings.model.base_model, settings.model.trust_remote_code)
    unknown = [m for m in t.target_modules if m != "all-linear" and m not in names]
    if unknown:
        raise SettingsError(f"train.target_modules: {unknown} not in the model; its linear layers are "
                            f"{sorted(names)} (or use ['all-linear'])")
    if context and settings.data.max_length > context:
        raise SettingsError(f"data.max_length {settings.data.max_length} is beyond the model's context of "
                            f"{context} tokens")


# ---------------------------------------------------------------- data
def load_split(run: RunDir, split: str, limit: int = 0) -> list[dict[str, Any]]:
    """Examples of one split (train/val/test), optionally the first ``limit``."""
    rows = read_jsonl(run.need(f"{split}_split"))
    return rows[:limit] if limit else rows


def appearances(example: dict[str, Any], train: TrainSettings) -> int:
    """Times ``example`` appears in one pass: a product question train.fact_repeats times (train.ticket_repeats
    times that if a support ticket asked it), anything else once."""
    if example.get("task") != "product_qa":
        return 1
    from_ticket = (example.get("meta") or {}).get("source") == "ticket"
    return train.fact_repeats * (train.ticket_repeats if from_ticket else 1)


def training_examples(run: RunDir, settings: Settings) -> list[dict[str, Any]]:
    """One pass of training as the trainer sees it: the training split (train.max_train_examples of it, if set) with
    each example as many times as it appears (:func:`appearances`), the copies told apart by their ids."""
    examples = load_split(run, "train", settings.train.max_train_examples)
    times = [appearances(ex, settings.train) for ex in examples]
    repeats = [{**ex, "id": f"{ex.get('id', i)}~{k}"} for k in range(1, max(times, default=1))
               for i, ex in enumerate(examples) if k < times[i]]
    return examples + repeats


def encode_split(tokenizer: Any, examples: list[dict[str, Any]], max_length: int) -> list[dict[str, list[int]]]:
    """Encoded examples, checked: each keeps a target token and ends its reply with end-of-turn."""
    encoded = [encode_example(tokenizer, ex, max_length) for ex in examples]
    check_encoded(tokenizer, examples, encoded)
    return encoded


class LeftPadCollator:
    """Left-pads a batch so every reply ends at the right edge; adds position ids that skip padding."""

    def __init__(self, pad_token_id: int):
        self.pad = pad_token_id
        self.seen: list[str] = []  # ids of the training examples batched in this process, in order

    def __call__(self, rows: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        """Batch tensors: input_ids, attention_mask, position_ids, labels."""
        self.seen += [r["example_id"] for r in rows if "example_id" in r]
        width = max(len(r["input_ids"]) for r in rows)
        batch: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": []}
        for r in rows:
            gap = width - len(r["input_ids"])
            batch["input_ids"].append([self.pad] * gap + r["input_ids"])
            batch["attention_mask"].append([0] * gap + r["attention_mask"])
            batch["labels"].append([IGNORE] * gap + r["labels"])
        out = {k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()}
        out["position_ids"] = (out["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        return out


def loss_positions(labels: torch.Tensor) -> torch.Tensor:
    """(batch, length) mask of the positions whose next token carries loss: the only logits the loss needs."""
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != IGNORE
    return keep


def selective_causal_lm_loss(model: Any, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Mean next-token loss over target tokens, computing logits only where a target follows; and tokens seen."""
    labels = inputs["labels"]
    keep = loss_positions(labels)
    out = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                position_ids=inputs["position_ids"], logits_to_keep=keep)
    loss = F.cross_entropy(out.logits.float(), labels[:, 1:][keep[:, :-1]], ignore_index=IGNORE)
    return loss, int(inputs["attention_mask"].sum())


# ---------------------------------------------------------------- model
def lora_config(settings: Settings) -> Any:
    """The LoraConfig these settings train (rank, alpha, dropout, target modules)."""
    from peft import LoraConfig

    t = settings.train
    target = "all-linear" if t.target_modules == ["all-linear"] else t.target_modules
    return LoraConfig(r=t.lora_r, lora_alpha=t.lora_alpha, lora_dropout=t.lora_dropout, target_modules=target,
                      bias="none", task_type="CAUSAL_LM")


def prepare_peft_model(settings: Settings) -> tuple[Any, Any]:
    """The base model (4-bit NF4 or full precision) with a fresh LoRA adapter drawn from train.seed, and its tokenizer."""
    from peft import get_peft_model, prepare_model_for_kbit_training
    from transformers import set_seed

    m, t = settings.model, settings.train
    tokenizer = load_tokenizer(m.base_model, m.trust_remote_code)
    model = load_model(m.base_model, m.quantize_4bit, m.compute_dtype, m.trust_remote_code)
    if m.quantize_4bit:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=t.gradient_checkpointing)
    elif t.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    set_seed(t.seed)  # the adapter's random init; the Trainer seeds only later, for data order and dropout
    return get_peft_model(model, lora_config(settings)), tokenizer


# ---------------------------------------------------------------- the trainer and its callbacks
def _trainer_class() -> type:
    """A Trainer whose loss computes logits only where the reply is (see module docstring)."""
    from transformers import Trainer

    class SelectiveLossTrainer(Trainer):
        """transformers.Trainer with the loss computed only where a target follows, and a count of real (non-padding) tokens."""

        loss_is_scaled_for_ga = False
        tokens_seen = 0

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # noqa: D102
            loss, tokens = selective_causal_lm_loss(model, inputs)
            if model.training:
                self.tokens_seen += tokens
            return (loss, {}) if return_outputs else loss

    return SelectiveLossTrainer


def _callback(plot: LivePlot | None, detector: OverfitDetector, early_stopping: bool, echo: bool) -> Any:
    """Trainer callback: feeds the live plot and the overfitting watch, and stops early when asked."""
    from transformers import TrainerCallback

    class LossWatch(TrainerCallback):
        last_train = float("nan")

        def on_train_begin(self, args, state, control, **kwargs):
            for entry in state.log_history:  # a resumed run redraws what it had already done
                self._record(entry, state)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs:
                self._record({**logs, "step": state.global_step}, state)
                if plot is not None:
                    plot.redraw()

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            if metrics and "eval_loss" in metrics and state.global_step > 0:
                if detector.update(state.global_step, self.last_train, metrics["eval_loss"]) and early_stopping:
                    control.should_training_stop = True

        def _record(self, entry: dict[str, Any], state: Any) -> None:
            step = entry.get("step", state.global_step)
            if "loss" in entry and plot is not None:
                plot.add("train loss", step, entry["loss"])
            if "loss" in entry:
                self.last_train = entry["loss"]
            if "eval_loss" in entry and plot is not None:
                plot.add("validation loss", step, entry["eval_loss"])
                vals = plot.series["validation loss"]
                best = min(range(len(vals[2])), key=vals[2].__getitem__)
                plot.mark("best", vals[1][best], vals[2][best])
                if detector.began_at is not None:
                    plot.vline("overfitting began", detector.began_at)
            if echo and "eval_loss" in entry:
                print(f"step {step:4d}  validation loss {entry['eval_loss']:.4f}", flush=True)

    return LossWatch()


def lora_fingerprint(model: Any) -> str:
    """A short digest of the trainable weights (per-tensor sums, computed on the device): equal weights, equal digest."""
    sums = [torch.stack([p.detach().double().sum(), p.detach().double().abs().sum()])
            for _, p in sorted(model.named_parameters()) if p.requires_grad]
    return hashlib.sha256(torch.cat(sums).cpu().numpy().tobytes()).hexdigest()[:16]


def _rank_report(collator: LeftPadCollator, path: Path, rank: int, world: int) -> Any:
    """Callback of a multi-process run: each process writes the examples it trained on and its weights after each step."""
    from transformers import TrainerCallback

    class RankReport(TrainerCallback):
        def __init__(self) -> None:
            self.fingerprints: dict[int, str] = {}

        def on_step_end(self, args, state, control, model=None, **kwargs):
            self.fingerprints[state.global_step] = lora_fingerprint(model)

        def on_train_end(self, args, state, control, **kwargs):
            write_json(path, {"rank": rank, "world_size": world, "example_ids": collator.seen,
                              "lora_fingerprint_by_step": self.fingerprints})

    return RankReport()


def _schedule(settings: Settings, n_train: int, world: int) -> tuple[int, int]:
    """(total optimizer steps, evaluation interval) from epochs/max_steps and evals_per_epoch."""
    t = settings.train
    per_step = t.batch_size * t.grad_accum * world
    steps_per_epoch = max(1, math.ceil(n_train / per_step))
    total = t.max_steps or max(1, math.ceil(t.epochs * steps_per_epoch))
    eval_every = max(1, min(total, steps_per_epoch) // t.evals_per_epoch)
    return total, eval_every


def training_arguments(settings: Settings, output_dir: Path, n_train: int, world: int = 1) -> Any:
    """TrainingArguments for our settings: evaluation, checkpoints and best-model selection in step with each other."""
    from transformers import TrainingArguments

    t = settings.train
    total, eval_every = _schedule(settings, n_train, world)
    dtype = compute_dtype(settings.model.compute_dtype)
    on_gpu = torch.cuda.is_available()
    return TrainingArguments(
        output_dir=str(output_dir), max_steps=total, per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.batch_size * 2, gradient_accumulation_steps=t.grad_accum,
        learning_rate=t.learning_rate, lr_scheduler_type="cosine", warmup_steps=max(1, round(t.warmup_ratio * total)),
        weight_decay=t.weight_decay, logging_steps=t.log_every, eval_strategy="steps", eval_steps=eval_every,
        eval_on_start=True, save_strategy="steps", save_steps=eval_every, save_total_limit=2,
        load_best_model_at_end=True, metric_for_best_model="eval_loss", greater_is_better=False,
        prediction_loss_only=True, train_sampling_strategy="group_by_length", seed=t.seed, data_seed=t.seed,
        bf16=on_gpu and dtype == torch.bfloat16, fp16=on_gpu and dtype == torch.float16,
        activation_checkpointing=False, report_to="none", remove_unused_columns=False, dataloader_num_workers=0,
        ddp_find_unused_parameters=False, disable_tqdm=False, save_only_model=False, use_cpu=not on_gpu)


def _settings_fingerprint(settings: Settings, hashes: dict[str, str]) -> str:
    """Identity of a training configuration: resume only a run that had the same settings and data."""
    payload = json.dumps({"model": settings.model.__dict__, "data": settings.data.__dict__,
                          "train": settings.train.__dict__, "hashes": hashes}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def write_log_csv(log_history: list[dict[str, Any]], path: Path) -> Path:
    """One row per logged step: training loss, validation loss, learning rate, epoch."""
    rows: dict[int, dict[str, Any]] = {}
    for entry in log_history:
        row = rows.setdefault(entry.get("step", 0), {"step": entry.get("step", 0)})
        for key, col in (("loss", "train_loss"), ("eval_loss", "val_loss"), ("learning_rate", "learning_rate"),
                         ("epoch", "epoch")):
            if key in entry:
                row[col] = entry[key]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["step", "epoch", "train_loss", "val_loss", "learning_rate"])
        writer.writeheader()
        for step in sorted(rows):
            writer.writerow(rows[step])
    return path


def train_sft(run: RunDir, settings: Settings, show_plot: bool = True, resume: bool = True,
              echo: bool = True) -> TrainResult:
    """Fine-tune the base model with (Q)LoRA on the run's curated data; keeps the best adapter by validation loss."""
    t = settings.train
    train_examples = training_examples(run, settings)
    val_examples = load_split(run, "val", t.max_val_examples)
    check_train_settings(settings, len(train_examples))
    hashes = run.split_hashes()
    with gpu_turn(settings):  # a workshop: the fit check, then one of the GPU's slots before any model loads
        return _train_loaded(run, settings, train_examples, val_examples, hashes, show_plot, resume, echo)


def _train_loaded(run: RunDir, settings: Settings, train_examples: list[dict[str, Any]],
                  val_examples: list[dict[str, Any]], hashes: dict[str, str], show_plot: bool, resume: bool,
                  echo: bool) -> TrainResult:
    """The training itself, once the data and settings are checked (and a workshop's GPU slot is held)."""
    from datasets import Dataset

    t = settings.train
    model, tokenizer = prepare_peft_model(settings)
    train_ds = Dataset.from_list(encode_split(tokenizer, train_examples, settings.data.max_length))
    val_ds = Dataset.from_list(encode_split(tokenizer, val_examples, settings.data.max_length))
    train_ds = train_ds.add_column("length", [len(x) for x in train_ds["input_ids"]])
    train_ds = train_ds.add_column("example_id", [str(e.get("id", i)) for i, e in enumerate(train_examples)])

    ckpt_dir = run.train / CHECKPOINTS
    fingerprint = _settings_fingerprint(settings, hashes)
    stamp = ckpt_dir / "fingerprint.txt"
    can_resume = resume and stamp.exists() and stamp.read_text() == fingerprint and any(ckpt_dir.glob("checkpoint-*"))
    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    is_main = rank == 0
    if is_main:  # one process prepares the shared folders; the others only read them
        if not can_resume and ckpt_dir.exists():
            shutil.rmtree(ckpt_dir)
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        stamp.write_text(fingerprint)
        shutil.rmtree(run.train / RANKS, ignore_errors=True)

    args = training_arguments(settings, ckpt_dir, len(train_ds), world)
    plot = LivePlot(f"QLoRA fine-tuning of {Path(resolve_model(settings.model.base_model)).name}"
                    if settings.model.quantize_4bit
                    else "LoRA fine-tuning", show=show_plot and is_main) if is_main else None
    detector = OverfitDetector(patience=t.patience)
    collator = LeftPadCollator(tokenizer.pad_token_id)
    callbacks = [_callback(plot, detector, t.early_stopping, echo and is_main)]
    if world > 1:
        callbacks.append(_rank_report(collator, run.train / RANKS / f"rank-{rank}.json", rank, world))
    trainer = _trainer_class()(model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds,
                               data_collator=collator, callbacks=callbacks)
    start = time.perf_counter()
    try:
        output = trainer.train(resume_from_checkpoint=True if can_resume else None)
    except torch.cuda.OutOfMemoryError as exc:
        raise TrainingOOMError(
            f"The GPU ran out of memory with train.batch_size={t.batch_size}, data.max_length="
            f"{settings.data.max_length}. Try train.batch_size={max(1, t.batch_size // 2)} with "
            f"train.grad_accum={t.grad_accum * 2} (same effective batch), a shorter data.max_length, "
            f"train.gradient_checkpointing=True, or model.quantize_4bit=True.") from exc
    wall = time.perf_counter() - start

    adapter_dir = run.path("train_adapter")
    if not trainer.is_world_process_zero():
        return TrainResult(adapter_dir, {}, run.train / "log.csv", None, detector.message)
    history = trainer.state.log_history
    evals = [e["eval_loss"] for e in history if "eval_loss" in e]
    trainable, total_params = model.get_nb_trainable_parameters()
    summary = {
        "tokens_per_second": round(trainer.tokens_seen / max(output.metrics["train_runtime"], 1e-9), 1),
        "tokens_trained": trainer.tokens_seen, "peak_memory_mb": round(peak_memory_mb(), 1),
        "wall_seconds": round(wall, 1), "steps": trainer.state.global_step,
        "trainable_parameters": trainable, "trainable_share": round(trainable / total_params, 5),
        "first_val_loss": round(evals[0], 4) if evals else None,
        "best_val_loss": round(min(evals), 4) if evals else None,
        "best_step": trainer.state.best_global_step, "stopped_early": trainer.state.global_step < args.max_steps,
        "overfitting_began_at": detector.began_at, **stability(history, args.warmup_steps), "resumed": can_resume,
        "device": str(device()), "quantized_4bit": settings.model.quantize_4bit, "world_size": world,
    }
    if adapter_dir.exists():
        shutil.rmtree(adapter_dir)
    trainer.model.save_pretrained(adapter_dir)  # the best adapter: load_best_model_at_end restored it
    write_json(adapter_dir / "metadata.json", {
        "base_model": settings.model.base_model, "resolved_base_model": resolve_model(settings.model.base_model),
        "split_hashes": hashes, "settings": settings.to_dict(), "libraries": library_versions(),
        "final_metrics": summary})
    log_path = write_log_csv(history, run.train / "log.csv")
    write_json(run.path("train_summary"), summary)
    record.update(run, {"profile": settings.profile, "base_model": settings.model.base_model,
                        "training": {"sft": {k: summary[k] for k in (
                            "tokens_per_second", "peak_memory_mb", "wall_seconds", "best_val_loss",
                            "first_val_loss", "stopped_early", "stable", "train_spike_ratio")}}})
    plot_path = plot.save(run.plots / "loss.png") if plot is not None else None
    shutil.rmtree(ckpt_dir, ignore_errors=True)  # finished: the next run starts fresh
    return TrainResult(adapter_dir, summary, log_path, plot_path, detector.message)


# ---------------------------------------------------------------- before and after: what the learner looks at
@dataclass
class SanityReport:
    """What the model will be trained on, checked before the first step."""

    n_train: int
    n_val: int
    min_target_tokens: int
    mean_target_share: float
    example_shown: str


def sanity_check(run: RunDir, settings: Settings) -> SanityReport:
    """Encode both splits and fail on silent mistakes; one example shown with its trained part in [[...]]."""
    from ..model.chat_format import show_masking, trained_token_count

    tokenizer = load_tokenizer(settings.model.base_model, settings.model.trust_remote_code)
    train = training_examples(run, settings)
    val = load_split(run, "val", settings.train.max_val_examples)
    check_train_settings(settings, len(train))
    enc_train = encode_split(tokenizer, train, settings.data.max_length)
    encode_split(tokenizer, val, settings.data.max_length)
    counts = [trained_token_count(e) for e in enc_train]
    shares = [c / len(e["input_ids"]) for c, e in zip(counts, enc_train)]
    return SanityReport(len(train), len(val), min(counts), sum(shares) / len(shares),
                        show_masking(tokenizer, enc_train[0]))


def side_by_side(run: RunDir, settings: Settings, adapter_dir: Path, n: int = 6,
                 task: str = "product_qa") -> list[dict[str, Any]]:
    """Base and fine-tuned answers to the same held-out questions (one model in memory, adapter toggled)."""
    from ..core.examples import question, reference_answer
    from ..model.generation import generate_answers, settings_kwargs

    check_adapter_base(adapter_dir, settings.model.base_model)
    examples = [e for e in load_split(run, "test") if e["task"] == task][:n]
    kwargs = {**settings_kwargs(settings.eval), "progress": False}

    def answers() -> tuple[list[Any], list[Any]]:
        """(base, fine-tuned) answers; the model lives only inside this call, so the GPU turn ends without it."""
        m = settings.model
        tokenizer = load_tokenizer(m.base_model, m.trust_remote_code)
        model = load_adapter(load_model(m.base_model, m.quantize_4bit, m.compute_dtype, m.trust_remote_code,
                                        for_generation=True), adapter_dir)
        tuned = generate_answers(model, tokenizer, examples, **kwargs)
        with model.disable_adapter():
            return generate_answers(model, tokenizer, examples, **kwargs), tuned

    with gpu_turn(settings):  # a workshop: wait for a GPU slot before the model loads
        base, tuned = answers()
    return [{"question": question(e), "reference": reference_answer(e), "base": b.answer, "fine-tuned": t.answer,
             "fine-tuned stopped": t.stopped}
            for e, b, t in zip(examples, base, tuned)]
