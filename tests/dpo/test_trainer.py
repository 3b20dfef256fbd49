"""DPO from preference pairs: validation of the pairs, clean skips, and real learning on held-out pairs (checked on
the ci course run, whose notebook 05 trains DPO from notebook 04's ratings)."""
import json
from types import SimpleNamespace

import pytest
import torch

from helpers.core.config import load_settings
from helpers.core.runs import read_jsonl, write_jsonl
from helpers.dpo.trainer import (PreferenceDataError, dpo_config, evaluation_at_end, load_pairs, prompt_key,
                                 score_reply_tokens_only, split_pairs, train_dpo, usable_pairs)
from support.toy_run import add_preferences, make_toy_run


def _pair(chosen, rejected):
    return {"prompt": [{"role": "user", "content": "q"}], "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}]}


def test_bad_pair_is_named_by_line(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [_pair("a", "b"), {"prompt": "q", "chosen": "a"}])
    with pytest.raises(PreferenceDataError, match=r"p\.jsonl:2: missing or empty rejected"):
        load_pairs(path)


def test_all_ties_and_too_few_pairs_say_what_to_do():
    with pytest.raises(PreferenceDataError, match="all ties"):
        usable_pairs([_pair("same", "same")] * 20, min_pairs=8)
    with pytest.raises(PreferenceDataError, match=r"only 3 usable .* at least 8 \(dpo\.min_pairs\)"):
        usable_pairs([_pair("a", f"b{i}") for i in range(3)] + [_pair("x", "x")], min_pairs=8)


def test_split_holds_out_whole_prompts_and_is_seeded():
    pairs = [{**_pair("a", f"b{i}"), "prompt": [{"role": "user", "content": f"Question {i % 10}?"}]}
             for i in range(30)]  # ten prompts with three pairs each
    train, held = split_pairs(pairs, 0.2, seed=1)
    assert len(held) == 6 and len(train) == 24
    assert split_pairs(pairs, 0.2, seed=1) == (train, held)
    assert not {prompt_key(p) for p in train} & {prompt_key(p) for p in held}
    assert prompt_key({"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": " Hi  THERE "}]}) \
        == "hi there"
    one_prompt = [{**_pair("a", f"b{i}"), "prompt": "same question"} for i in range(9)]
    assert split_pairs(one_prompt, 0.2, seed=1) == (one_prompt, [])  # never every prompt held out


class _Trainer:
    """Just what evaluation_at_end reads of a trainer: its state, and evaluate() that counts its calls."""

    def __init__(self, global_step, log_history):
        self.state = SimpleNamespace(global_step=global_step, log_history=log_history)
        self.evaluations = 0

    def evaluate(self):
        self.evaluations += 1
        return {"eval_loss": 0.1, "step": self.state.global_step}


def test_held_out_batches_are_equal_so_trl_batch_means_are_pair_means(tmp_path):
    """TRL averages margins and accuracies per batch; a short last batch would weigh its pairs more."""
    settings = load_settings("ci", {"dpo": {"batch_size": 4}})
    for n_eval, size in ((8, 4), (6, 3), (7, 1), (2, 2)):
        config = dpo_config(settings, tmp_path, n_train=20, n_eval=n_eval)
        assert config.per_device_eval_batch_size == size and n_eval % size == 0


def test_the_evaluation_at_the_last_step_is_reused_not_run_again():
    logged = [{"eval_loss": 0.69, "step": 0}, {"loss": 0.5, "step": 8}, {"eval_loss": 0.4, "step": 8}]
    trainer = _Trainer(8, logged)
    assert evaluation_at_end(trainer) == logged[-1] and trainer.evaluations == 0
    trainer = _Trainer(9, logged)  # the last logged evaluation is a step behind: evaluate once more
    assert evaluation_at_end(trainer) == {"eval_loss": 0.1, "step": 9} and trainer.evaluations == 1


def test_too_few_pairs_skip_cleanly(tmp_path):
    run = make_toy_run(tmp_path)
    (run.train / "adapter").mkdir(parents=True)
    (run.train / "adapter" / "adapter_config.json").write_text("{}")
    write_jsonl(run.ratings / "preferences.jsonl", [_pair("a", "b")] * 3)
    result = train_dpo(run, load_settings("ci"), show_plot=False)
    assert result.skipped and "only 3 usable" in result.reason and "at least 8" in result.reason
    assert json.loads((run.dpo / "summary.json").read_text())["skipped"] is True
    assert not (run.dpo / "adapter").exists()


def test_missing_inputs_name_the_notebooks(tmp_path):
    from helpers.core.runs import MissingInputError
    run = make_toy_run(tmp_path)
    with pytest.raises(MissingInputError, match="04_human_rating"):
        train_dpo(run, load_settings("ci"), show_plot=False)
    add_preferences(run)
    with pytest.raises(MissingInputError, match="03_qlora_training"):
        train_dpo(run, load_settings("ci"), show_plot=False)


@pytest.mark.slow
def test_dpo_raises_held_out_preference_accuracy(ci_course):
    ci_course.notebook("05_preference_tuning")
    root = ci_course.root
    assert len(read_jsonl(root / "ratings" / "preferences.jsonl")) >= 8
    s = json.loads((root / "dpo" / "summary.json").read_text())
    assert s["skipped"] is False and s["steps"] == load_settings("ci").dpo.max_steps, s
    assert s["held_out_accuracy_after"] > 0.5, s
    assert s["held_out_margin_after"] > s["held_out_margin_before"], s
    assert s["held_out_loss_after"] < s["held_out_loss_before"], s
    adapter = root / "dpo" / "adapter"
    assert (adapter / "adapter_model.safetensors").exists()
    assert not (adapter / "ref").exists()  # only the policy adapter is saved
    assert json.loads((adapter / "metadata.json").read_text())["final_metrics"] == s
    assert (root / "plots" / "dpo.png").exists() and (root / "dpo" / "log.csv").exists()
    assert not (root / "dpo" / "work").exists()  # the trainer's scratch folder is cleaned up
    metrics = json.loads((root / "metrics.json").read_text())
    dpo = metrics["training"]["dpo"]
    assert dpo["heldout_accuracy"] == s["held_out_accuracy_after"] and dpo["heldout_pairs"] == s["pairs_held_out"] > 0
    assert dpo["heldout_prompts_in_training"] == s["held_out_prompts_in_training"] == 0


def test_dpo_head_scores_only_the_reply_tokens_and_keeps_their_log_probs(monkeypatch):
    import trl.trainer.utils as trl_utils

    from helpers.model.loading import load_model, load_tokenizer

    tokenizer, model = load_tokenizer(), load_model(quantize_4bit=False)
    batch = tokenizer(["Which wattage has the Marlow? The Marlow is rated at 450 W.", "Route: refund please"],
                      return_tensors="pt", padding=True)
    labels = batch["input_ids"].clone()
    labels[:, :6] = -100  # the prompt
    labels[batch["attention_mask"] == 0] = -100
    with torch.no_grad():
        logits = model(**batch).logits[:, :-1]
    target = labels[:, 1:]
    expected = logits.log_softmax(-1).gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)[target != -100]

    scored_rows: list[int] = []
    original = trl_utils._ChunkedLogProbFunction

    class Spy:
        @staticmethod
        def apply(hidden, *args):
            scored_rows.append(hidden.shape[0])
            return original.apply(hidden, *args)

    monkeypatch.setattr(trl_utils, "_ChunkedLogProbFunction", Spy)
    monkeypatch.setattr(trl_utils, "_use_triton", trl_utils._use_triton)  # undone after the test
    assert score_reply_tokens_only()
    patched = trl_utils._use_triton
    assert score_reply_tokens_only() and trl_utils._use_triton is patched  # a second call does not wrap twice
    trl_utils.add_fused_lm_head(model)
    with torch.no_grad():
        out = model(**batch, labels=labels, fused_lm_head=True)
    assert scored_rows == [int((target != -100).sum())]
    torch.testing.assert_close(out.log_probs[target != -100], expected, atol=1e-4, rtol=1e-4)
