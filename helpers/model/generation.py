"""Batched, greedy generation of assistant answers (shared prompt prefix encoded once, stop at the end of the turn)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import torch
from tqdm.auto import tqdm

from ..core.examples import prompt_messages


@dataclass
class GenerationResult:
    """One generated answer with its cost."""

    answer: str
    seconds: float
    new_tokens: int
    stopped: bool = True  # ended its turn before the token cap


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


def settings_kwargs(eval_settings: Any) -> dict[str, Any]:
    """Batch size and answer caps of a run's ``settings.eval``, as keyword arguments of generate_answers."""
    return {"batch_size": eval_settings.batch_size, "max_new_tokens": eval_settings.max_new_tokens,
            "task_max_new_tokens": {"routing": eval_settings.routing_max_new_tokens}}


def answer_batches(lengths: Sequence[int], caps: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices of the prompts in batches of one token cap each, prompts of similar length together (little padding)."""
    order = sorted(range(len(lengths)), key=lambda i: (caps[i], lengths[i]))
    batches: list[list[int]] = []
    for i in order:
        if batches and len(batches[-1]) < batch_size and caps[batches[-1][0]] == caps[i]:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def shared_prefix_length(ids: Sequence[Sequence[int]]) -> int:
    """How many leading tokens every prompt shares, leaving each at least one token of its own."""
    if not ids:
        return 0
    limit, first, n = min(map(len, ids)) - 1, ids[0], 0
    while n < limit and all(row[n] == first[n] for row in ids):
        n += 1
    return n


def prefix_cache(model: Any, prefix: Sequence[int], device: Any) -> Any | None:
    """The keys and values of the prompt prefix all answers share, computed once (None without a prefix)."""
    if not prefix:
        return None
    from transformers import DynamicCache

    with torch.inference_mode():
        return model(torch.tensor([list(prefix)], device=device), cache=DynamicCache(config=model.config),
                     use_cache=True, logits_to_keep=1).cache


def batch_cache(model: Any, prefix: Any | None, rows: int, length: int) -> Any:
    """A cache of ``length`` positions for ``rows`` answers, allocated once, holding the shared prefix.

    Preallocated, not grown: a growing cache copies all its keys and values at every decoding step, which took
    45% of the prompted baseline's generation time on a CPU (its ~250-token prefix repeated in every row).
    """
    from transformers import StaticCache

    cache = StaticCache(config=model.config, max_cache_len=length)
    for layer, kept in zip(cache.layers, prefix.layers if prefix is not None else ()):
        layer.update(kept.keys.expand(rows, -1, -1, -1), kept.values.expand(rows, -1, -1, -1))
    return cache


def batch_inputs(prefix: Sequence[int], suffixes: Sequence[Sequence[int]], pad_id: int,
                 device: Any) -> dict[str, torch.Tensor]:
    """input_ids and attention_mask of prefix + padding + each prompt's own tokens (the padding is masked out)."""
    width = max(map(len, suffixes))
    rows = [[*prefix, *[pad_id] * (width - len(s)), *s] for s in suffixes]
    mask = [[1] * len(prefix) + [0] * (width - len(s)) + [1] * len(s) for s in suffixes]
    return {"input_ids": torch.tensor(rows, device=device), "attention_mask": torch.tensor(mask, device=device)}


def generate_answers(model: Any, tokenizer: Any, examples: Sequence[dict[str, Any]], *, batch_size: int = 16,
                     max_new_tokens: int = 64, task_max_new_tokens: Mapping[str, int] | None = None,
                     system_prompt: str | None = None, few_shot: Sequence[tuple[str, str]] = (),
                     progress: bool = True, desc: str = "generating") -> list[GenerationResult]:
    """Greedy answers for ``examples`` (schema of helpers.core.examples), in their order, generated in batches.

    ``task_max_new_tokens`` caps the answers of the named tasks (e.g. a routing label needs a few tokens);
    other examples get ``max_new_tokens``. The prompt prefix every example shares (system message and
    few-shot turns) is encoded once and its key/value cache copied into each batch's preallocated cache: the
    prompted baseline's ~250-token prefix otherwise dominates its generation time.
    """
    prompts = [tokenizer.apply_chat_template(chat_messages(ex, system_prompt, few_shot), tokenize=False,
                                             add_generation_prompt=True) for ex in examples]
    ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    caps = [(task_max_new_tokens or {}).get(ex.get("task", ""), max_new_tokens) for ex in examples]
    results: list[GenerationResult | None] = [None] * len(ids)
    stop_ids = end_of_turn_ids(tokenizer, model)
    device = next(model.parameters()).device
    start = time.perf_counter()
    prefix = ids[0][:shared_prefix_length(ids)] if ids else []
    cache = prefix_cache(model, prefix, device)
    prefix_seconds = (time.perf_counter() - start) / max(1, len(ids))
    for batch in tqdm(answer_batches([len(i) for i in ids], caps, batch_size), desc=desc, disable=not progress):
        enc = batch_inputs(prefix, [ids[i][len(prefix):] for i in batch], tokenizer.pad_token_id, device)
        start = time.perf_counter()
        kv = batch_cache(model, cache, len(batch), enc["input_ids"].shape[1] + caps[batch[0]])
        with torch.inference_mode():
            out = model.generate(**enc, cache=kv, max_new_tokens=caps[batch[0]], do_sample=False,
                                 eos_token_id=stop_ids, pad_token_id=tokenizer.pad_token_id)
        seconds = (time.perf_counter() - start) / len(batch) + prefix_seconds
        new = out[:, enc["input_ids"].shape[1]:]
        for row, i in zip(new, batch):
            ended = [k for k, t in enumerate(row.tolist()) if t in stop_ids]
            n = ended[0] if ended else len(row)
            results[i] = GenerationResult(tokenizer.decode(row[:n], skip_special_tokens=True).strip(),
                                          seconds, n, stopped=bool(ended))
    return [r for r in results if r is not None]


def ask(model: Any, tokenizer: Any, questions: Sequence[str], system_prompt: str | None = None,
        max_new_tokens: int = 64) -> list[str]:
    """Answers to plain questions, for quick looks in a notebook."""
    examples = [{"messages": ([{"role": "system", "content": system_prompt}] if system_prompt else [])
                 + [{"role": "user", "content": q}]} for q in questions]
    return [r.answer for r in generate_answers(model, tokenizer, examples, max_new_tokens=max_new_tokens,
                                               progress=False)]
