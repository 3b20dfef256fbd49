"""Batched generation: batches never mix answer caps, every routing label fits its cap, greedy answers unchanged."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers.core.config import load_settings
from helpers.core.examples import ROUTING_INSTRUCTION
from helpers.model.generation import (answer_batches, batch_inputs, chat_messages, end_of_turn_ids, generate_answers,
                                      settings_kwargs, shared_prefix_length)


def test_batches_keep_one_cap_each_and_cover_every_prompt_once():
    lengths = [5, 1, 9, 3, 7, 2, 8]
    caps = [16, 48, 16, 48, 48, 16, 48]
    batches = answer_batches(lengths, caps, batch_size=2)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(len({caps[i] for i in b}) == 1 and len(b) <= 2 for b in batches)
    assert [[lengths[i] for i in b] for b in batches] == [[2, 5], [9], [1, 3], [7, 8]]


def test_every_profile_caps_routing_answers_above_the_longest_label():
    from helpers.core.examples import routing_answer
    from helpers.data.pipeline import BITEXT_SAMPLE
    from helpers.data.sources import load_bitext
    from helpers.model.loading import load_tokenizer

    tokenizer = load_tokenizer()
    rows, _ = load_bitext(BITEXT_SAMPLE)
    longest = max(len(tokenizer(routing_answer(r["intent"]))["input_ids"]) for r in rows)
    for profile in ("ci", "cpu-demo", "gpu", "workshop"):
        cap = settings_kwargs(load_settings(profile).eval)["task_max_new_tokens"]["routing"]
        assert cap > longest, (profile, cap, longest)  # room for the label and the end-of-turn token


@pytest.mark.slow
def test_task_caps_shorten_only_their_task_and_keep_greedy_answers():
    from helpers.model.loading import load_model, load_tokenizer

    tokenizer, model = load_tokenizer(), load_model(for_generation=True)
    examples = [{"task": task, "messages": [{"role": "user", "content": text}]} for task, text in (
        ("routing", ROUTING_INSTRUCTION + "I want my money back for order 12"),
        ("product_qa", "Tell me about USB-C cables, in detail."),
        ("routing", ROUTING_INSTRUCTION + "where is my parcel"))]
    kw = {"batch_size": 1, "max_new_tokens": 24, "progress": False}  # one per batch: padding cannot differ
    full = generate_answers(model, tokenizer, examples, **kw)
    capped = generate_answers(model, tokenizer, examples, task_max_new_tokens={"routing": 6}, **kw)
    for ex, a, b in zip(examples, full, capped):
        if ex["task"] == "routing":
            assert b.new_tokens <= 6 and a.answer.startswith(b.answer)
        else:
            assert b.answer == a.answer and b.stopped == a.stopped


def test_shared_prefix_leaves_every_prompt_a_token_of_its_own():
    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 3, 5, 6], [1, 2, 9]]) == 2
    assert shared_prefix_length([[1, 2, 3], [1, 2, 3, 4]]) == 2  # a prompt is never all prefix
    assert shared_prefix_length([[7, 8]]) == 1
    assert shared_prefix_length([[1], [2]]) == shared_prefix_length([]) == 0


def test_batch_inputs_pad_between_the_prefix_and_each_prompt():
    enc = batch_inputs([5, 6], [[7], [8, 9, 10]], pad_id=0, device="cpu")
    assert enc["input_ids"].tolist() == [[5, 6, 0, 0, 7], [5, 6, 8, 9, 10]]
    assert enc["attention_mask"].tolist() == [[1, 1, 0, 0, 1], [1, 1, 1, 1, 1]]


@pytest.mark.slow
def test_cached_prefix_gives_the_answers_of_plain_one_at_a_time_generation():
    from helpers.data.catalog import Catalog
    from helpers.eval.prompting import prompted_system
    from helpers.model.loading import load_model, load_tokenizer

    tokenizer, model = load_tokenizer(), load_model(for_generation=True)
    catalog = Catalog.load(Path(__file__).resolve().parents[2] / "data_samples" / "voltaris" / "catalog.json")
    shots = [("What is the warranty of the Argent One (VX-CB-1260)?",
              "The Argent One (VX-CB-1260) has a 1-year warranty."),
             (ROUTING_INSTRUCTION + "where is my order", "Intent: track_order")]
    examples = [{"task": "routing", "messages": [{"role": "user", "content": ROUTING_INSTRUCTION + t}]}
                for t in ("I want a refund", "can you change my delivery address to my office please", "cancel it")]
    system = prompted_system(catalog, ["refund", "change_shipping_address", "cancel_order"])
    kw = {"max_new_tokens": 12, "system_prompt": system, "few_shot": shots, "progress": False}
    batched = generate_answers(model, tokenizer, examples, batch_size=3, **kw)
    plain = []
    for ex in examples:  # the reference: each prompt alone through a plain generate (no cache, no padding)
        prompt = tokenizer.apply_chat_template(chat_messages(ex, system, shots), add_generation_prompt=True,
                                               return_dict=True, return_tensors="pt")
        out = model.generate(**prompt, max_new_tokens=12, do_sample=False,
                             eos_token_id=end_of_turn_ids(tokenizer, model), pad_token_id=tokenizer.pad_token_id)
        plain.append(tokenizer.decode(out[0, prompt["input_ids"].shape[1]:], skip_special_tokens=True).strip())
    assert [r.answer for r in batched] == plain
