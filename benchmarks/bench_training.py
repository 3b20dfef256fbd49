"""Benchmark: our QLoRA training path against TRL's SFTTrainer defaults, and one ablation per speed lever.

Each variant trains in a fresh process (so peak memory is its own), on the same curated examples with the
same model, LoRA settings, learning rate, schedule, batch size, seed and steps, then scores the same held-out
examples with the same loss function:

    .venv/bin/python -m benchmarks.bench_training --variant ours --steps 8 --out /tmp/ours.json

Variants: ``ours`` (every lever on), ``trl_defaults`` (the baseline), ``trl_tuned`` (TRL as a knowledgeable user
configures it on a CPU), and ablations of ours with one lever undone: ``ours_gradient_checkpointing``, ``ours_full_logits``, ``ours_random_order`` (no length grouping),
``ours_one_thread``, ``ours_lora_dropout``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch

VARIANTS = {
    "ours": "our path: no gradient checkpointing, no LoRA dropout, logits only where a target follows, left padding + "
            "length-grouped batches, all threads, float32",
    "trl_defaults": "trl.SFTTrainer with SFTConfig defaults (gradient checkpointing on, random order, right "
                    "padding, logits for every completion token); bf16=False because this CPU has no AVX512-BF16",
    "trl_tuned": "trl.SFTTrainer as a knowledgeable user sets it up on a CPU: no gradient checkpointing, length-grouped "
                 "batches, loss on the completion only (padding-free batches need FlashAttention, a CUDA kernel)",
    "ours_gradient_checkpointing": "ours with gradient checkpointing (lever undone: recompute activations)",
    "ours_full_logits": "ours with the output head applied to every position (lever undone: logits only where a target follows)",
    "ours_random_order": "ours with random batch order (lever undone: length-grouped batches)",
    "ours_one_thread": "ours on one thread (lever undone: all cores)",
    "ours_lora_dropout": "ours with dropout 0.05 on the LoRA branch (lever undone: no LoRA dropout)",
}


class StepClock:
    """Trainer callback: wall time and tokens seen at the end of each optimizer step."""

    def __init__(self, tokens: Callable[[], int]):
        self.tokens = tokens
        self.marks: list[tuple[float, int]] = []
        self.losses: list[float] = []

    def callback(self) -> Any:
        """The transformers TrainerCallback that records the marks and the logged training losses."""
        from transformers import TrainerCallback

        clock = self

        class Clock(TrainerCallback):
            def on_train_begin(self, args, state, control, **kwargs):
                clock.marks.append((time.perf_counter(), clock.tokens()))

            def on_step_end(self, args, state, control, **kwargs):
                clock.marks.append((time.perf_counter(), clock.tokens()))

            def on_log(self, args, state, control, logs=None, **kwargs):
                if logs and "loss" in logs:
                    clock.losses.append(float(logs["loss"]))

        return Clock()


def throughput(marks: list[tuple[float, int]], skip: int = 1) -> dict[str, float]:
    """Non-padding tokens per second over the steps after the first ``skip`` (warm-up) steps."""
    if len(marks) < skip + 2:
        raise ValueError(f"need at least {skip + 1} timed steps, got {len(marks) - 1}")
    (t0, n0), (t1, n1) = marks[skip], marks[-1]
    return {"tokens_per_second": (n1 - n0) / (t1 - t0), "timed_seconds": t1 - t0, "timed_tokens": n1 - n0,
            "timed_steps": len(marks) - 1 - skip, "first_step_seconds": marks[1][0] - marks[0][0]}


def heldout_loss(model: Any, tokenizer: Any, examples: list[dict[str, Any]], max_length: int,
                 batch_size: int = 8) -> float:
    """Mean next-token loss over the reply tokens of ``examples``: one scorer for every variant."""
    from helpers.model.chat_format import IGNORE
    from helpers.sft.trainer import LeftPadCollator, encode_split, selective_causal_lm_loss

    encoded = encode_split(tokenizer, examples, max_length)
    collate = LeftPadCollator(tokenizer.pad_token_id)
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for i in range(0, len(encoded), batch_size):
            batch = collate(encoded[i:i + batch_size])
            loss, _ = selective_causal_lm_loss(model, batch)
            n = int((batch["labels"][:, 1:] != IGNORE).sum())
            total, count = total + float(loss) * n, count + n
    return total / count


def every_position(labels: torch.Tensor) -> torch.Tensor:
    """Logits wanted at every position but the last (the only-where-a-target-follows lever undone)."""
    keep = torch.ones_like(labels, dtype=torch.bool)
    keep[:, -1] = False
    return keep


def _settings(steps: int, **train: Any) -> Any:
    """The cpu-demo settings with the benchmark's step count and any other ``train`` overrides."""
    from helpers.core.config import load_settings

    return load_settings("cpu-demo", {"train": {"max_steps": steps, **train}})


def _no_eval(args: Any) -> Any:
    """Training arguments without evaluation or checkpoints, logging every step (the timed loop only)."""
    return dataclasses.replace(args, eval_strategy="no", save_strategy="no", load_best_model_at_end=False,
                               eval_on_start=False, logging_steps=1, disable_tqdm=True)


def train_ours(variant: str, train: list[dict[str, Any]], steps: int, out_dir: Path) -> tuple[Any, Any, Any, StepClock]:
    """Our training path (helpers.sft.trainer) with one lever undone for the ablation variants."""
    from datasets import Dataset

    from helpers.sft import trainer as training

    undone = {"ours_gradient_checkpointing": {"gradient_checkpointing": True},
              "ours_lora_dropout": {"lora_dropout": 0.05}}.get(variant, {})
    settings = _settings(steps, **undone)
    if variant == "ours_full_logits":
        training.loss_positions = every_position
    if variant == "ours_one_thread":
        torch.set_num_threads(1)
    model, tokenizer = training.prepare_peft_model(settings)
    encoded = training.encode_split(tokenizer, train, settings.data.max_length)
    ds = Dataset.from_list(encoded).add_column("length", [len(e["input_ids"]) for e in encoded])
    args = _no_eval(training.training_arguments(settings, out_dir, len(ds)))
    if variant == "ours_random_order":
        args = dataclasses.replace(args, train_sampling_strategy="random")
    trainer = training._trainer_class()(model=model, args=args, train_dataset=ds,
                                        data_collator=training.LeftPadCollator(tokenizer.pad_token_id))
    clock = StepClock(lambda: trainer.tokens_seen)
    trainer.add_callback(clock.callback())
    trainer.train()
    return trainer.model, tokenizer, settings, clock


def trl_dataset(examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Examples in TRL's conversational prompt/completion format, so SFTTrainer masks the prompt."""
    from helpers.core.examples import prompt_messages

    return [{"prompt": prompt_messages(ex), "completion": [m for m in ex["messages"] if m["role"] == "assistant"]}
            for ex in examples]


def train_trl(train: list[dict[str, Any]], steps: int, out_dir: Path,
              tuned: bool = False) -> tuple[Any, Any, Any, StepClock]:
    """TRL's SFTTrainer, SFTConfig defaults except what a fair comparison must hold equal (and, ``tuned``, the
    settings a knowledgeable user changes for speed on a CPU)."""
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    from helpers.model.loading import load_model, load_tokenizer

    settings = _settings(steps)
    m, t = settings.model, settings.train
    tokenizer = load_tokenizer(m.base_model)
    model = load_model(m.base_model, m.quantize_4bit, m.compute_dtype)
    lora = LoraConfig(r=t.lora_r, lora_alpha=t.lora_alpha, lora_dropout=t.lora_dropout, target_modules="all-linear",
                      bias="none", task_type="CAUSAL_LM")
    config = SFTConfig(  # held equal: what is learned (lr, schedule, batch, steps, seed, length) and the device
        output_dir=str(out_dir), max_steps=steps, per_device_train_batch_size=t.batch_size,
        learning_rate=t.learning_rate, lr_scheduler_type="cosine", warmup_steps=max(1, round(t.warmup_ratio * steps)),
        weight_decay=t.weight_decay, seed=t.seed, data_seed=t.seed, max_length=settings.data.max_length,
        use_cpu=True, bf16=False, logging_steps=1, save_strategy="no", report_to="none", disable_tqdm=True,
        **({"gradient_checkpointing": False, "train_sampling_strategy": "group_by_length", "completion_only_loss": True}
           if tuned else {}))
    trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(trl_dataset(train)),
                         processing_class=tokenizer, peft_config=lora)
    clock = StepClock(lambda: trainer._total_train_tokens)
    trainer.add_callback(clock.callback())
    trainer.train()
    return trainer.model, tokenizer, settings, clock


def run_variant(variant: str, n_val: int, steps: int) -> dict[str, Any]:
    """Train one variant on ``steps x batch_size`` curated examples; speed, memory and losses."""
    from helpers.core.environment import peak_memory_mb
    from helpers.model.chat_format import trained_token_count
    from helpers.sft.trainer import encode_split

    from .data import split_examples

    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {sorted(VARIANTS)}")
    batch = _settings(steps).train.batch_size
    train, val = split_examples("train", steps * batch), split_examples("val", n_val)
    with tempfile.TemporaryDirectory() as tmp:
        trainer_fn = ((lambda *a: train_trl(*a, tuned=variant == "trl_tuned")) if variant.startswith("trl_")
                      else (lambda *a: train_ours(variant, *a)))
        model, tokenizer, settings, clock = trainer_fn(train, steps, Path(tmp))
    result = {"variant": variant, "description": VARIANTS[variant], **throughput(clock.marks),
              "peak_memory_mb": round(peak_memory_mb(), 1), "threads": torch.get_num_threads(),
              "steps": len(clock.marks) - 1, "batch_size": batch, "train_examples": len(train),
              "train_losses": clock.losses, "final_train_loss": clock.losses[-1] if clock.losses else None}
    result["gradient_checkpointing"] = bool(getattr(model, "is_activation_checkpointing", False))
    result["heldout_loss"] = heldout_loss(model, tokenizer, val, settings.data.max_length)
    encoded = encode_split(tokenizer, train, settings.data.max_length)
    result["target_token_share"] = (sum(map(trained_token_count, encoded))
                                    / sum(len(e["input_ids"]) for e in encoded))
    result["heldout_examples"] = len(val)
    result["mean_sequence_tokens"] = result["timed_tokens"] / (result["timed_steps"] * batch)
    return result


def main() -> None:
    """Command line: train one variant in this process and write its figures as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="ours")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--val", type=int, default=32, help="held-out examples scored after training")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    res = run_variant(args.variant, args.val, args.steps)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"{args.variant}: {res['tokens_per_second']:.1f} tokens/s, peak {res['peak_memory_mb']:.0f} MB, "
          f"held-out loss {res['heldout_loss']:.4f}", flush=True)


if __name__ == "__main__":
    main()
