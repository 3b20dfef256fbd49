"""Batched, greedy generation of assistant answers (left padding, stop at the end of the turn)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

import torch
from tqdm.auto import tqdm

from .examples import prompt_messages


@dataclass
class GenerationResult:
    """One generated answer with its cost."""

    answer: str
    seconds: float
    new_tokens: int


def chat_messages(example: dict[str, Any], system_prompt: str | None = None,
                  few_shot: Sequence[tuple[str, str]] = ()) -> list[dict[str, str]]:
    """The messages the model sees: optional system override, few-shot turns, then the question."""
    messages = prompt_messages(example)
    system = [m for m in messages if m["role"] == "system"]
    if system_prompt is not None:
        system = [{"role": "system", "content": system_prompt}]
    shots = [turn for q, a in few_shot for turn in ({"role": "user", "content": q},
                                                     {"role": "assistant", "content": a})]
    return system + shots + [m for m in messages if m["role"] != "system"]


def end_of_turn_ids(tokenizer: Any, model: Any | None = None) -> list[int]:
    """Token ids that end an assistant turn (the tokenizer's and the model's end-of-sequence ids)."""
    ids = {tokenizer.eos_token_id}
    config_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids.update(config_eos if isinstance(config_eos, list) else [config_eos])
    return sorted(i for i in ids if i is not None)


def generate_answers(model: Any, tokenizer: Any, examples: Sequence[dict[str, Any]], *, batch_size: int = 16,
                     max_new_tokens: int = 64, system_prompt: str | None = None,
                     few_shot: Sequence[tuple[str, str]] = (), progress: bool = True,
                     desc: str = "generating") -> list[GenerationResult]:
    """Greedy answers for ``examples`` (schema of helpers.examples), in their order, generated in batches."""
    prompts = [tokenizer.apply_chat_template(chat_messages(ex, system_prompt, few_shot), tokenize=False,
                                             add_generation_prompt=True) for ex in examples]
    # Group prompts of similar length so batches carry little padding; answers are put back in order.
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    results: list[GenerationResult | None] = [None] * len(prompts)
    stop_ids = end_of_turn_ids(tokenizer, model)
    previous_side, tokenizer.padding_side = tokenizer.padding_side, "left"
    device = next(model.parameters()).device
    try:
        batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        for batch in tqdm(batches, desc=desc, disable=not progress):
            enc = tokenizer([prompts[i] for i in batch], return_tensors="pt", padding=True,
                            add_special_tokens=False).to(device)
            start = time.perf_counter()
            with torch.inference_mode():
                out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                     eos_token_id=stop_ids, pad_token_id=tokenizer.pad_token_id)
            seconds = (time.perf_counter() - start) / len(batch)
            new = out[:, enc["input_ids"].shape[1]:]
            for row, i in zip(new, batch):
                ended = [k for k, t in enumerate(row.tolist()) if t in stop_ids]
                n = ended[0] if ended else len(row)
                results[i] = GenerationResult(tokenizer.decode(row[:n], skip_special_tokens=True).strip(),
                                              seconds, n)
    finally:
        tokenizer.padding_side = previous_side
    return [r for r in results if r is not None]


def ask(model: Any, tokenizer: Any, questions: Sequence[str], system_prompt: str | None = None,
        max_new_tokens: int = 64) -> list[str]:
    """Answers to plain questions, for quick looks in a notebook."""
    examples = [{"messages": ([{"role": "system", "content": system_prompt}] if system_prompt else [])
                 + [{"role": "user", "content": q}]} for q in questions]
    return [r.answer for r in generate_answers(model, tokenizer, examples, max_new_tokens=max_new_tokens,
                                               progress=False)]
