"""Constrained decoding: the model may only write one of a fixed set of replies (e.g. 'Intent: <a known intent>').

At each step the tokens allowed are those that continue some allowed reply (a trie of their token ids), and
the end-of-turn token once a reply is complete; transformers' ``prefix_allowed_tokens_fn`` applies the rule
inside ``generate``. Greedy decoding then picks the most likely allowed reply token by token. Notebook 06 shows
it beside the free-text answers: it removes invented labels by construction, so it measures how well the
model ranks the real labels, not whether it can write one.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from .generation import GenerationResult, chat_messages, end_of_turn_ids


def reply_trie(tokenizer: Any, replies: Sequence[str], end_id: int) -> dict[tuple[int, ...], set[int]]:
    """For every prefix of every reply's token ids, the token ids that may follow it (``end_id`` after a full reply)."""
    trie: dict[tuple[int, ...], set[int]] = {}
    for reply in replies:
        ids = tokenizer(reply, add_special_tokens=False)["input_ids"] + [end_id]
        for k in range(len(ids)):
            trie.setdefault(tuple(ids[:k]), set()).add(ids[k])
    return trie


def generate_constrained(model: Any, tokenizer: Any, examples: Sequence[dict[str, Any]], replies: Sequence[str],
                         batch_size: int = 32) -> list[GenerationResult]:
    """Greedy answers that are always one of ``replies``, for ``examples`` in their order."""
    import time

    if not replies:
        raise ValueError("constrained decoding needs at least one allowed reply")
    end_id = end_of_turn_ids(tokenizer, model)[0]
    trie = reply_trie(tokenizer, replies, end_id)
    longest = max(len(k) for k in trie) + 1
    device = next(model.parameters()).device
    prompts = [tokenizer.apply_chat_template(chat_messages(ex), tokenize=False, add_generation_prompt=True)
               for ex in examples]
    results: list[GenerationResult] = []
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        for start in range(0, len(prompts), batch_size):
            enc = tokenizer(prompts[start:start + batch_size], return_tensors="pt", padding=True,
                            add_special_tokens=False).to(device)
            width = enc["input_ids"].shape[1]

            def allowed(_: int, ids: torch.Tensor) -> list[int]:
                """Tokens that continue an allowed reply after what this row generated so far."""
                return sorted(trie.get(tuple(ids[width:].tolist()), {end_id}))

            began = time.perf_counter()
            with torch.inference_mode():
                out = model.generate(**enc, max_new_tokens=longest, do_sample=False, eos_token_id=end_id,
                                     pad_token_id=tokenizer.pad_token_id, prefix_allowed_tokens_fn=allowed)
            seconds = (time.perf_counter() - began) / len(out)
            for row in out[:, width:]:
                tokens = [t for t in row.tolist() if t not in (end_id, tokenizer.pad_token_id)]
                results.append(GenerationResult(tokenizer.decode(tokens, skip_special_tokens=True).strip(), seconds,
                                                len(tokens)))
    finally:
        tokenizer.padding_side = side
    return results


__all__ = ["generate_constrained", "reply_trie"]
