"""Constrained decoding: every answer is one of the allowed replies, in the examples' order, whatever the batching."""
from __future__ import annotations

import pytest

from helpers.core.examples import ROUTING_INSTRUCTION, routing_answer
from helpers.model.constrained import generate_constrained, reply_trie


class _Tokenizer:
    """Character-level ids: enough to build a trie."""

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [ord(c) for c in text]}


def test_trie_allows_each_reply_and_the_end_only_after_a_whole_reply():
    trie = reply_trie(_Tokenizer(), ["ab", "ac"], end_id=0)
    assert trie[()] == {ord("a")}
    assert trie[(ord("a"),)] == {ord("b"), ord("c")}
    assert trie[(ord("a"), ord("b"))] == {0}


@pytest.mark.slow
def test_answers_are_allowed_replies_in_order_and_do_not_depend_on_the_batching():
    from helpers.model.loading import load_model, load_tokenizer

    tokenizer, model = load_tokenizer(), load_model(for_generation=True)
    tickets = ["I want a refund", "can you please change the delivery address of my order to my office", "cancel it",
               "where is my parcel, it was due on Monday and nothing has arrived", "invoice"]
    examples = [{"task": "routing", "messages": [{"role": "user", "content": ROUTING_INSTRUCTION + t}]}
                for t in tickets]
    replies = [routing_answer(label)
               for label in ("get_refund", "change_shipping_address", "cancel_order", "track_order", "get_invoice")]
    batched = generate_constrained(model, tokenizer, examples, replies, batch_size=2)
    alone = generate_constrained(model, tokenizer, examples, replies, batch_size=1)
    assert [r.answer for r in batched] == [r.answer for r in alone]
    assert all(r.answer in replies for r in batched), [r.answer for r in batched]
