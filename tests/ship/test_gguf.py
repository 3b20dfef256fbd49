"""GGUF export: the layout rules on small arrays (the real export and round trip of a trained model: notebook 08 of
the ci course, tests/course/test_whole_course.py)."""
from __future__ import annotations

import numpy as np
import pytest

from helpers.ship.gguf_export import (GGUFExportError, check_exportable, ollama_modelfile, permute_for_rope,
                                      pre_tokenizer_type)


def _transformers_unpermute(weight: np.ndarray, n_head: int) -> np.ndarray:
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    return LlamaTensorProcessor()._reverse_permute_weights(weight, n_head, n_head)


@pytest.mark.parametrize("n_head", [3, 9])
def test_rope_permutation_is_undone_by_the_gguf_loader(n_head):
    weight = np.arange(n_head * 8 * 5, dtype=np.float32).reshape(n_head * 8, 5)
    permuted = permute_for_rope(weight, n_head)
    assert not np.array_equal(permuted, weight)  # rows really move (pairs interleaved per head)
    assert np.array_equal(_transformers_unpermute(permuted, n_head), weight)


def test_rope_permutation_of_keys_uses_the_key_value_heads():
    """Grouped-query attention: permuting keys with the query head count scrambles them (the TinyLlama bug)."""
    keys = np.random.default_rng(0).normal(size=(3 * 64, 4)).astype(np.float32)
    assert np.array_equal(_transformers_unpermute(permute_for_rope(keys, 3), 3), keys)
    assert not np.array_equal(_transformers_unpermute(permute_for_rope(keys, 6), 3), keys)


def _tok(pre: dict, vocab: dict | None = None) -> dict:
    return {"model": {"type": "BPE", "byte_fallback": False, "vocab": vocab or {"a": 0, "Ġ1": 1}},
            "decoder": {"type": "ByteLevel"}, "pre_tokenizer": pre}


def test_pre_tokenizer_types():
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}
    digits = {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True}, byte_level]}
    assert pre_tokenizer_type(_tok(digits)) == "smollm"
    assert pre_tokenizer_type(_tok(byte_level, {"a": 0, "1": 1, "2": 2})) == "smollm"  # no token joins digits
    assert pre_tokenizer_type(_tok(byte_level, {"a": 0, "Ġ12": 1})) == "gpt-2"
    with pytest.raises(GGUFExportError, match="pre-tokenizer"):
        pre_tokenizer_type(_tok({"type": "Split", "pattern": {"Regex": "x"}}))
    with pytest.raises(GGUFExportError, match="byte-level BPE"):
        pre_tokenizer_type({"model": {"type": "Unigram"}, "decoder": {"type": "Metaspace"}})


def test_unsupported_architectures_and_rope_fail_before_writing():
    check_exportable({"model_type": "llama", "rope_parameters": {"rope_type": "default", "rope_theta": 1e5}})
    with pytest.raises(GGUFExportError, match="model_type 'qwen2'"):
        check_exportable({"model_type": "qwen2"})
    with pytest.raises(GGUFExportError, match="rope_type 'llama3'"):
        check_exportable({"model_type": "llama", "rope_parameters": {"rope_type": "llama3"}})


def test_modelfile_has_the_turn_format_system_message_and_stop():
    text = ollama_modelfile("m.Q8_0.gguf", "{{ '<|im_start|>' + message['role'] }}", "You are the support assistant.")
    assert "FROM ./m.Q8_0.gguf" in text
    assert '<|im_start|>{{ .Role }}' in text and "<|im_start|>assistant" in text
    assert 'SYSTEM """You are the support assistant."""' in text
    assert 'PARAMETER stop "<|im_end|>"' in text
    assert "SYSTEM" not in ollama_modelfile("m.gguf", "<|im_start|>", None), "no system message unless trained with one"
    with pytest.raises(GGUFExportError, match="not ChatML"):
        ollama_modelfile("m.gguf", "[INST] {{ content }} [/INST]", "x")
