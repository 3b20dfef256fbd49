"""Loss only on the assistant turn, end-of-turn kept, left-padded batches and logits only where a target follows."""
import pytest
import torch

from helpers.model.chat_format import (FormattingError, IGNORE, check_encoded, encode_example, show_masking,
                                       trained_token_count)
from helpers.model.loading import load_tokenizer
from helpers.sft.trainer import LeftPadCollator, loss_positions
from support.toy_run import _qa


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer()


def test_only_the_reply_carries_loss(tok):
    ex = _qa("VX-PS-4471", "Tessera Pro", 650, 0)
    enc = encode_example(tok, ex, 512)
    trained = tok.decode([t for t, l in zip(enc["input_ids"], enc["labels"]) if l != IGNORE])
    assert trained.startswith("The Tessera Pro (VX-PS-4471) is rated at 650 W.")
    assert tok.eos_token in trained
    shown = show_masking(tok, enc)
    assert "[[The Tessera Pro" in shown and "rated wattage" in shown.split("[[")[0]


def test_truncated_reply_is_rejected_by_name(tok):
    ex = _qa("VX-PS-4471", "Tessera Pro", 650, 0)
    enc = encode_example(tok, ex, 40)  # the prompt alone is longer than this
    with pytest.raises(FormattingError, match="qa-VX-PS-4471-0.*no token carries loss"):
        check_encoded(tok, [ex], [enc])
    full = encode_example(tok, ex, 512)
    cut = {k: v[:-3] for k, v in full.items()}  # reply kept but end-of-turn cut off
    with pytest.raises(FormattingError, match="end-of-turn"):
        check_encoded(tok, [ex], [cut])


def test_left_padding_aligns_replies_and_logits_are_kept_exactly_where_targets_follow(tok):
    rows = [encode_example(tok, _qa("VX-PS-4471", "Tessera Pro", 650, t), 512) for t in range(4)]
    batch = LeftPadCollator(tok.pad_token_id)(rows)
    width = batch["input_ids"].shape[1]
    for i, r in enumerate(rows):
        assert batch["input_ids"][i, width - len(r["input_ids"]):].tolist() == r["input_ids"]
        assert batch["attention_mask"][i].sum() == len(r["input_ids"])
        assert batch["position_ids"][i, -1] == len(r["input_ids"]) - 1
    keep = loss_positions(batch["labels"])
    targets = batch["labels"][:, 1:] != IGNORE
    assert keep[:, :-1].equal(targets) and not keep[:, -1].any()  # position p is kept iff token p+1 is a target
    assert keep.sum() == sum(trained_token_count(r) for r in rows)
    assert keep.sum() < keep.numel() / 2  # most positions need no logits


def test_selective_loss_equals_full_loss(tok):
    from helpers.model.loading import load_model
    from helpers.sft.trainer import selective_causal_lm_loss

    model = load_model()
    rows = [encode_example(tok, _qa("VX-PS-4471", "Tessera Pro", 650, t), 512) for t in range(3)]
    batch = LeftPadCollator(tok.pad_token_id)(rows)
    with torch.no_grad():
        ours, tokens = selective_causal_lm_loss(model, batch)
        full = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                     position_ids=batch["position_ids"], labels=batch["labels"]).loss
    assert tokens == sum(len(r["input_ids"]) for r in rows)
    assert abs(ours.item() - full.item()) < 1e-4
