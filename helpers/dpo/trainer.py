"""Preference tuning (DPO) from the exported ratings, with TRL's DPOTrainer (notebook 05).

The policy is the fine-tuned model: the 4-bit base with the SFT adapter, trainable. The reference is
the same base with a frozen copy of that adapter, which TRL adds itself under the name ``ref`` when
it is given a PEFT model and no reference model. Nothing of the base model is duplicated: the two
adapters (a few MB each) share one 4-bit base, and PEFT switches between them. (Disabling the adapter
altogether would make the untuned base the reference, which penalises every step away from it,
including what SFT taught; TRL's copy keeps the reference where DPO starts.)

TRL's defaults that cost speed or break on a CPU are set explicitly: no gradient checkpointing, the
reference's log-probabilities computed once per pair before training (not again at every step and
evaluation), and bf16 only on GPUs that support it.

TRL's fused output head is documented to score only the reply tokens, but off CUDA/XPU it scores every
position, prompt and padding included (to keep tensor shapes fixed for XLA devices), through the default
model's 49k-entry vocabulary. :func:`score_reply_tokens_only` makes it score only the reply tokens on a
CPU as well: notebook 05's DPO under ``cpu-demo`` took 140 s instead of 207 s here, with the same
held-out loss, margin and accuracy to four decimals.
"""
from __future__ import annotations

import json
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..core import record
from ..core.config import Settings
from ..core.environment import library_versions, peak_memory_mb
from ..core.live_plot import LivePlot
from ..core.runs import RunDir, file_hash, read_jsonl, write_json, write_jsonl
from ..model.loading import compute_dtype, load_adapter, load_model, load_tokenizer, trained_adapter
from ..model.turns import gpu_turn
from ..sft.trainer import write_log_csv

PLOT_PANELS = ("loss", "reward margin", "preference accuracy")
MAX_HELD_OUT = 24  # held-out pairs are scored at every evaluation: enough to read a trend, cheap on a CPU


def score_reply_tokens_only() -> bool:
    """Let TRL's fused LM head score only the reply tokens on a CPU too; False if this TRL has no such switch."""
    import trl.trainer.utils as trl_utils

    uses_triton = getattr(trl_utils, "_use_triton", None)
    if uses_triton is None:
        return False
    if not getattr(uses_triton, "reply_tokens_only", False):
        def compact_scoring(device: torch.device) -> bool:
            return device.type == "cpu" or uses_triton(device)

        compact_scoring.reply_tokens_only = True  # type: ignore[attr-defined]
        trl_utils._use_triton = compact_scoring
    return True


class PreferenceDataError(ValueError):
    """The preference pairs cannot be used for DPO; the message says why and what to do."""


@dataclass
class DPOResult:
    """What DPO did, or why it was skipped."""

    skipped: bool
    reason: str = ""
    adapter_dir: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)


def load_pairs(path: Path) -> list[dict[str, Any]]:
    """Preference pairs from JSONL, validated; PreferenceDataError names the line of a bad record."""
    pairs = []
    for line_no, row in enumerate(read_jsonl(path), start=1):
        missing = [k for k in ("prompt", "chosen", "rejected") if not row.get(k)]
        if missing:
            raise PreferenceDataError(f"{path}:{line_no}: missing or empty {', '.join(missing)}")
        pairs.append({k: row[k] for k in ("prompt", "chosen", "rejected")})
    return pairs


def usable_pairs(pairs: list[dict[str, Any]], min_pairs: int) -> list[dict[str, Any]]:
    """Pairs whose answers differ; PreferenceDataError when fewer than ``min_pairs`` remain."""
    decisive = [p for p in pairs if p["chosen"] != p["rejected"]]
    if not decisive:
        raise PreferenceDataError("every preference pair has identical answers (all ties): there is nothing to "
                                  "prefer. Rate more items in notebook 04, picking A or B where one is better.")
    if len(decisive) < min_pairs:
        raise PreferenceDataError(f"only {len(decisive)} usable preference pairs; DPO needs at least {min_pairs} "
                                  "(dpo.min_pairs). Rate more items in notebook 04 or lower dpo.min_pairs.")
    return decisive


def prompt_key(pair: dict[str, Any]) -> str:
    """What identifies a pair's prompt: its last user message, whitespace and case normalised."""
    prompt = pair["prompt"]
    text = prompt if isinstance(prompt, str) else next(
        (m["content"] for m in reversed(prompt) if m.get("role") == "user"), json.dumps(prompt, sort_keys=True))
    return " ".join(str(text).lower().split())


def split_pairs(pairs: list[dict[str, Any]], eval_fraction: float, seed: int) -> tuple[list, list]:
    """(train, held-out) pairs split BY PROMPT: every pair of a held-out prompt is held out, none trains.

    Prompts are drawn in a seeded order until at least ``eval_fraction`` of the pairs (4 at least, about
    MAX_HELD_OUT at most) are held out, so held-out accuracy measures preferences on questions DPO never saw.
    """
    by_prompt: dict[str, list[dict[str, Any]]] = {}
    for pair in pairs:
        by_prompt.setdefault(prompt_key(pair), []).append(pair)
    keys = sorted(by_prompt)
    random.Random(seed).shuffle(keys)
    target = min(MAX_HELD_OUT, max(min(4, len(pairs) // 3), round(eval_fraction * len(pairs))))
    held: list[dict[str, Any]] = []
    held_keys: set[str] = set()
    for key in keys:
        if len(held) >= target or len(held_keys) == len(keys) - 1:
            break
        held += by_prompt[key]
        held_keys.add(key)
    return [p for k in keys if k not in held_keys for p in by_prompt[k]], held


def _callback(plot: LivePlot | None) -> Any:
    """Feeds loss, reward margin and preference accuracy (train and held-out) to the live plot."""
    from transformers import TrainerCallback

    keys = {"loss": "loss", "rewards/margins": "reward margin", "rewards/accuracies": "preference accuracy"}

    class DPOWatch(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if plot is None or not logs or not state.is_world_process_zero:
                return
            for key, panel in keys.items():
                if key in logs:
                    plot.add(f"train {panel}", state.global_step, logs[key], panel=panel)
                if f"eval_{key}" in logs:
                    plot.add(f"held-out {panel}", state.global_step, logs[f"eval_{key}"], panel=panel)
            plot.redraw()

    return DPOWatch()


def keep_adapter_dtype(model: Any, dtype: torch.dtype) -> int:
    """Cast trainable (adapter) weights back to the compute dtype; returns how many tensors changed.

    TRL casts a quantized model's adapter to bfloat16 (the QLoRA paper's choice on GPUs). On a CPU without
    native bfloat16 that makes every step about 20x slower, so the adapter follows the hardware's dtype.
    """
    changed = 0
    for param in model.parameters():
        if param.requires_grad and param.dtype != dtype:
            param.data = param.data.to(dtype)
            changed += 1
    return changed


def even_batch(n: int, most: int) -> int:
    """The largest batch size up to ``most`` that splits ``n`` items into equal batches."""
    return next(size for size in range(max(1, min(most, n)), 0, -1) if n % size == 0)


def dpo_config(settings: Settings, output_dir: Path, n_train: int, n_eval: int | None = None) -> Any:
    """DPOConfig from our settings, with CPU-friendly choices made explicit.

    TRL reports held-out margins and accuracies as the mean of per-batch means, so the evaluation batch
    divides the ``n_eval`` held-out pairs evenly: then that mean is the mean over pairs.
    """
    from trl import DPOConfig

    d = settings.dpo
    steps_per_epoch = max(1, -(-n_train // d.batch_size))
    total = d.max_steps or max(1, round(d.epochs * steps_per_epoch))
    dtype = compute_dtype(settings.model.compute_dtype)
    on_gpu = torch.cuda.is_available()
    return DPOConfig(
        output_dir=str(output_dir), beta=d.beta, learning_rate=d.learning_rate, max_steps=total,
        per_device_train_batch_size=d.batch_size, per_device_eval_batch_size=even_batch(n_eval or d.batch_size, d.batch_size),
        lr_scheduler_type="constant_with_warmup", warmup_steps=max(1, total // 10), logging_steps=1,
        eval_strategy="steps", eval_steps=max(1, total // 2), save_strategy="no", max_length=settings.data.max_length,
        activation_checkpointing=False, precompute_ref_log_probs=True,  # reference scores each pair once, not per step
        bf16=on_gpu and dtype == torch.bfloat16, fp16=on_gpu and dtype == torch.float16,
        use_cpu=not on_gpu, report_to="none", seed=settings.train.seed, disable_tqdm=False)


def evaluation_at_end(trainer: Any) -> dict[str, float]:
    """Held-out metrics after the last step: the trainer's own evaluation when it ran there, else a new one."""
    state = trainer.state
    last = next((entry for entry in reversed(state.log_history) if "eval_loss" in entry), None)
    if last is not None and last.get("step") == state.global_step:
        return last
    return trainer.evaluate()


def train_dpo(run: RunDir, settings: Settings, show_plot: bool = True) -> DPOResult:
    """DPO on ratings/preferences.jsonl starting from the SFT adapter; skips cleanly when the pairs cannot work."""
    pairs_path = run.need("preferences")
    adapter_in = trained_adapter(run, "train_adapter", settings.model.base_model)
    try:
        pairs = usable_pairs(load_pairs(pairs_path), settings.dpo.min_pairs)
    except PreferenceDataError as exc:
        write_json(run.dpo / "summary.json", {"skipped": True, "reason": str(exc)})
        return DPOResult(skipped=True, reason=str(exc))
    train_pairs, eval_pairs = split_pairs(pairs, settings.dpo.eval_fraction, settings.train.seed)

    adapter_out = run.path("dpo_adapter")
    with gpu_turn(settings):  # a workshop: the fit check, then a GPU slot before any model loads
        before, after, wall, steps, history = _tune(run, settings, train_pairs, eval_pairs, adapter_in, adapter_out,
                                                    show_plot)
    summary = {
        "skipped": False, "pairs_total": len(pairs), "pairs_train": len(train_pairs), "pairs_held_out": len(eval_pairs),
        "prompts_held_out": len({prompt_key(p) for p in eval_pairs}),
        "held_out_prompts_in_training": len({prompt_key(p) for p in eval_pairs} & {prompt_key(p) for p in train_pairs}),
        "steps": steps, "wall_seconds": round(wall, 1), "peak_memory_mb": round(peak_memory_mb(), 1),
        "held_out_accuracy_before": round(before.get("eval_rewards/accuracies", 0.0), 4),
        "held_out_accuracy_after": round(after.get("eval_rewards/accuracies", 0.0), 4),
        "held_out_margin_before": round(before.get("eval_rewards/margins", 0.0), 4),
        "held_out_margin_after": round(after.get("eval_rewards/margins", 0.0), 4),
        "held_out_loss_before": round(before["eval_loss"], 4), "held_out_loss_after": round(after["eval_loss"], 4),
    }
    write_json(adapter_out / "metadata.json", {
        "base_model": settings.model.base_model, "starts_from": str(adapter_in), "pairs_hash": file_hash(pairs_path),
        "settings": settings.to_dict(), "libraries": library_versions(), "final_metrics": summary})
    write_json(run.dpo / "summary.json", summary)
    write_log_csv(history, run.dpo / "log.csv")
    record.update(run, {"training": {"dpo": {
        **{k: summary[k] for k in ("wall_seconds", "peak_memory_mb", "held_out_accuracy_before", "pairs_total")},
        "heldout_accuracy": summary["held_out_accuracy_after"], "heldout_pairs": summary["pairs_held_out"],
        "heldout_prompts_in_training": summary["held_out_prompts_in_training"]}}})
    shutil.rmtree(run.dpo / "work", ignore_errors=True)
    return DPOResult(skipped=False, adapter_dir=adapter_out, summary=summary)


def _tune(run: RunDir, settings: Settings, train_pairs: list[dict[str, Any]], eval_pairs: list[dict[str, Any]],
          adapter_in: Path, adapter_out: Path, show_plot: bool) -> tuple[dict, dict, float, int, list[dict]]:
    """The DPO training itself (models live only in this call); saves the adapter and the plot.

    Returns the held-out metrics before and after, the training's wall seconds, its steps and its log.
    """
    from datasets import Dataset
    from trl import DPOTrainer

    m = settings.model
    tokenizer = load_tokenizer(m.base_model, m.trust_remote_code)
    base = load_model(m.base_model, m.quantize_4bit, m.compute_dtype, m.trust_remote_code)
    model = load_adapter(base, adapter_in, trainable=True)
    score_reply_tokens_only()
    plot = LivePlot("DPO from the ratings", show=show_plot, panels=PLOT_PANELS)
    trainer = DPOTrainer(model=model, args=dpo_config(settings, run.dpo / "work", len(train_pairs), len(eval_pairs)),
                         train_dataset=Dataset.from_list(train_pairs), eval_dataset=Dataset.from_list(eval_pairs),
                         processing_class=tokenizer, callbacks=[_callback(plot)])
    keep_adapter_dtype(trainer.model, compute_dtype(m.compute_dtype))
    before = trainer.evaluate()
    start = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - start
    after = evaluation_at_end(trainer)
    write_jsonl(run.path("dpo_logps"), heldout_logps(trainer))
    if adapter_out.exists():
        shutil.rmtree(adapter_out)
    trainer.model.save_pretrained(adapter_out, selected_adapters=["default"])
    plot.save(run.plots / "dpo.png")
    return before, after, wall, trainer.state.global_step, trainer.state.log_history


def heldout_logps(trainer: Any) -> list[dict[str, float]]:
    """Per held-out pair, the summed log-probabilities of the chosen and rejected replies under the policy (now)
    and the reference (TRL's precomputed ones), from the same masked forward pass TRL's loss uses."""
    model = trainer.model
    was_training = model.training
    model.eval()
    rows: list[dict[str, float]] = []
    try:
        for batch in trainer.get_eval_dataloader():
            batch = trainer._prepare_inputs(batch)
            kwargs = {k: v for k, v in batch.items() if k not in ("completion_mask", "ref_chosen_logps",
                                                                  "ref_rejected_logps")}
            labels = batch["input_ids"].masked_fill(batch["completion_mask"] == 0, -100)
            with torch.no_grad():
                per_token = model(**kwargs, use_cache=False, labels=labels, fused_lm_head=True).log_probs
            logps = per_token[:, -(batch["completion_mask"].size(1) - 1):].sum(dim=1)
            chosen, rejected = logps.chunk(2, dim=0)
            for values in zip(chosen, rejected, batch["ref_chosen_logps"], batch["ref_rejected_logps"]):
                rows.append(dict(zip(("policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected"),
                                     (round(float(v), 6) for v in values))))
    finally:
        model.train(was_training)
    return rows


def pairs_table(pairs: list[dict[str, Any]], n: int = 5) -> list[dict[str, str]]:
    """The first ``n`` pairs as question / chosen / rejected text, for a look in the notebook."""
    def text(turns: Any) -> str:
        return turns if isinstance(turns, str) else turns[-1]["content"]
    return [{"question": text(p["prompt"]), "chosen": text(p["chosen"]), "rejected": text(p["rejected"])}
            for p in pairs[:n]]
