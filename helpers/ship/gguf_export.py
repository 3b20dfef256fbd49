"""A merged Hugging Face checkpoint to a GGUF file, written with the ``gguf`` package (llama.cpp's own writer).

What llama.cpp, Ollama and transformers' GGUF loader need, and where exporters most often go wrong
(each a known failure in the llama.cpp, Ollama, unsloth and LLaMA-Factory trackers):

* **tensor names** from llama.cpp's map (``gguf.TensorNameMap``), never typed by hand;
* **rotary layout**: Hugging Face stores the query and key projections of llama models permuted
  against llama.cpp's rotary pairs; they are permuted back per head, the keys with the number of
  key/value heads (the grouped-query case that once turned TinyLlama exports into gibberish);
* **tied embeddings**: the output head *is* the token embedding; no ``output.weight`` is written, so
  llama.cpp and transformers both tie them again on load;
* **rope**: only plain rotary embeddings are exported; a scaled rope (llama 3.1, yarn) needs a
  ``rope_freqs`` tensor this exporter does not write, and fails here rather than at answer time;
* **tokenizer**: the byte-level BPE vocabulary with token types, merges, special token ids and the
  *pre-tokenizer type*; a missing or wrong ``tokenizer.ggml.pre`` makes llama.cpp warn or refuse;
* **chat template** inside the file (``tokenizer.chat_template``), so a runtime formats turns exactly
  as in training; Ollama gets it once more, in Go-template form, in the ``Modelfile``.

``gguf`` 0.19 quantizes in Python to Q8_0, Q5_0/Q5_1, Q4_0/Q4_1 (not the k-quants, which need llama.cpp's
``llama-quantize``). 1-D tensors (norms) stay float32; a matrix whose rows are not a whole number of
32-value blocks is kept as float16.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

QUANT_TYPES = ("Q8_0", "Q4_1", "Q4_0", "Q5_1", "Q5_0", "F16")
"""What :func:`write_gguf` can write; ``Q8_0`` (8-bit) and ``Q4_1`` (4-bit) are the two the course ships."""

STOP = "<|im_end|>"


class GGUFExportError(ValueError):
    """The checkpoint cannot be exported by this writer; the message says why and what to use instead."""


@dataclass(frozen=True)
class GGUFFile:
    """One written GGUF file."""

    path: Path
    quant: str
    bytes: int
    tensors: int
    kept_float: tuple[str, ...]  # matrices left in float16 (rows not a multiple of the block size)


def _config(model_dir: Path) -> dict[str, Any]:
    """The checkpoint's config.json."""
    path = model_dir / "config.json"
    if not path.exists():
        raise GGUFExportError(f"{path} is missing: export the merged model (helpers.ship.export) first")
    return json.loads(path.read_text())


def check_exportable(config: dict[str, Any]) -> None:
    """Fail with a clear message on the architectures and rope variants this writer does not handle."""
    if config.get("model_type") != "llama":
        raise GGUFExportError(
            f"model_type {config.get('model_type')!r}: this course's GGUF writer handles llama-architecture models "
            "(SmolLM2, Llama 2, TinyLlama); convert others with llama.cpp's convert_hf_to_gguf.py")
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    kind = rope.get("rope_type", rope.get("type", "default"))
    if kind not in ("default", None):
        raise GGUFExportError(
            f"rope_type {kind!r} (scaled rotary embeddings) needs a rope_freqs tensor this writer does not make; "
            "use llama.cpp's convert_hf_to_gguf.py")


def rope_theta(config: dict[str, Any]) -> float:
    """The rotary base frequency, where transformers 4 and 5 keep it."""
    rope = config.get("rope_parameters") or {}
    return float(rope.get("rope_theta", config.get("rope_theta", 10000.0)))


def pre_tokenizer_type(tokenizer_json: dict[str, Any]) -> str:
    """llama.cpp's ``tokenizer.ggml.pre`` for a byte-level BPE tokenizer, from its pre-tokenizer rules.

    SmolLM tokenizers split every digit on its own: explicitly (a ``Digits`` step) in the hub's files,
    implicitly (a vocabulary without a single multi-digit token, so no merge can join digits) after
    transformers' own GGUF conversion, which the course's default model went through. Both tokenize like
    llama.cpp's ``smollm``. Plain GPT-2 byte-level rules with multi-digit tokens are ``gpt-2``. Anything
    else is refused rather than guessed: a wrong guess tokenizes numbers, the very facts the model
    learned, differently in llama.cpp than in training.
    """
    model = tokenizer_json.get("model", {})
    if model.get("type") != "BPE" or model.get("byte_fallback") or \
            (tokenizer_json.get("decoder") or {}).get("type") != "ByteLevel":
        raise GGUFExportError("the tokenizer is not byte-level BPE (GPT-2 style); convert this model with "
                              "llama.cpp's convert_hf_to_gguf.py")
    pre = tokenizer_json.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", [pre]) if pre.get("type") == "Sequence" else [pre]
    kinds = [s.get("type") for s in steps]
    digits_alone = not any(t.lstrip("Ġ").isdigit() and len(t) > 1 for t in model.get("vocab", {}))
    if kinds == ["Digits", "ByteLevel"] and steps[0].get("individual_digits"):
        return "smollm"
    if kinds == ["ByteLevel"] and steps[0].get("use_regex", True):
        return "smollm" if digits_alone else "gpt-2"
    raise GGUFExportError(f"unknown pre-tokenizer {kinds}: llama.cpp would "
                          "tokenize it differently from training; convert with llama.cpp's convert_hf_to_gguf.py, "
                          "which recognises tokenizers by a hash of their output")


def vocabulary(tokenizer: Any, vocab_size: int) -> tuple[list[str], list[int]]:
    """Token strings and llama.cpp token types (normal, control for special tokens, user-defined), by id."""
    import gguf

    by_id = {i: t for t, i in tokenizer.get_vocab().items()}
    added = tokenizer.added_tokens_decoder  # id -> AddedToken, whose .special marks control tokens
    tokens, types = [], []
    for i in range(vocab_size):
        token = by_id.get(i)
        if token is None:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(token)
            types.append(gguf.TokenType.CONTROL if added[i].special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(token)
            types.append(gguf.TokenType.NORMAL)
    return tokens, [int(t) for t in types]


def permute_for_rope(weight: np.ndarray, n_head: int) -> np.ndarray:
    """Rows of a Hugging Face query/key projection in llama.cpp's rotary order (per head: pairs interleaved)."""
    return (weight.reshape(n_head, 2, weight.shape[0] // n_head // 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def _tensor_type(name: str, data: np.ndarray, quant: str) -> str:
    """The GGML type one tensor is stored in: norms float32, the embedding 8-bit, the rest ``quant`` if it fits."""
    import gguf

    if data.ndim == 1:
        return "F32"
    wanted = "Q8_0" if name == "token_embd.weight" and quant != "F16" else quant
    if wanted == "F16":
        return "F16"
    block = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[wanted]][0]
    return wanted if data.shape[-1] % block == 0 else "F16"


def _encode(data: np.ndarray, kind: str) -> tuple[np.ndarray, Any]:
    """(bytes or float array, raw GGML type) for GGUFWriter.add_tensor."""
    import gguf

    if kind == "F32":
        return data.astype(np.float32), None
    if kind == "F16":
        return data.astype(np.float16), None
    qtype = gguf.GGMLQuantizationType[kind]
    return gguf.quants.quantize(data.astype(np.float32), qtype), qtype


def write_gguf(model_dir: Path, out_path: Path, quant: str = "Q8_0", name: str = "",
               metadata: dict[str, str] | None = None) -> GGUFFile:
    """Write the merged checkpoint in ``model_dir`` (safetensors, config, tokenizer) as one GGUF file."""
    import gguf
    from safetensors import safe_open
    from transformers import AutoTokenizer

    if quant not in QUANT_TYPES:
        raise GGUFExportError(f"quant {quant!r}: choose one of {', '.join(QUANT_TYPES)}")
    model_dir, out_path = Path(model_dir), Path(out_path)
    config = _config(model_dir)
    check_exportable(config)
    n_head, n_kv = config["num_attention_heads"], config.get("num_key_value_heads") or config["num_attention_heads"]
    n_layers, hidden = config["num_hidden_layers"], config["hidden_size"]
    head_dim = config.get("head_dim") or hidden // n_head
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer_json = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    pre = pre_tokenizer_type(tokenizer_json)

    arch = gguf.MODEL_ARCH.LLAMA
    out_path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out_path), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_type(gguf.GGUFType.MODEL)
    writer.add_name(name or model_dir.name)
    for key, value in (metadata or {}).items():
        writer.add_string(key, value)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(hidden)
    writer.add_block_count(n_layers)
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_kv)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(rope_theta(config))
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_vocab_size(config["vocab_size"])
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if quant == "F16" else gguf.LlamaFileType[f"MOSTLY_{quant}"])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)

    tokens, types = vocabulary(tokenizer, config["vocab_size"])
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    special = gguf.SpecialVocab(model_dir, load_merges=True, n_vocab=len(tokens))
    if not special.chat_template:
        raise GGUFExportError(f"{model_dir} has no chat template: a GGUF without one formats turns differently "
                              "from training; save the tokenizer of an instruct model with the merged model")
    special.add_special_token.setdefault("bos", tokenizer("x")["input_ids"][:1] == [tokenizer.bos_token_id])
    special.add_to_gguf(writer, quiet=True)

    names = gguf.get_tensor_name_map(arch, n_layers)
    kept_float, count = [], 0
    with safe_open(str(model_dir / "model.safetensors"), framework="pt") as weights:
        hf_names = list(weights.keys())
        tied = config.get("tie_word_embeddings", False) or "lm_head.weight" not in hf_names
        for hf_name in hf_names:
            if hf_name == "lm_head.weight" and tied:
                continue  # tied: the token embedding is the output head, in llama.cpp as in transformers
            gguf_name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
            if gguf_name is None:
                raise GGUFExportError(f"{model_dir / 'model.safetensors'}: tensor {hf_name} has no llama.cpp name; "
                                      "convert with llama.cpp's convert_hf_to_gguf.py")
            data = weights.get_tensor(hf_name).float().numpy()
            if hf_name.endswith("self_attn.q_proj.weight"):
                data = permute_for_rope(data, n_head)
            elif hf_name.endswith("self_attn.k_proj.weight"):
                data = permute_for_rope(data, n_kv)
            kind = _tensor_type(gguf_name, data, quant)
            if kind == "F16" and quant != "F16":
                kept_float.append(gguf_name)
            encoded, raw = _encode(data, kind)
            writer.add_tensor(gguf_name, encoded, raw_dtype=raw)
            count += 1
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return GGUFFile(out_path, quant, out_path.stat().st_size, count, tuple(kept_float))


CHATML_TEMPLATE = (
    '{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}'
    '{{- range .Messages }}{{- if ne .Role "system" }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}'
    '{{- end }}<|im_start|>assistant\n')
"""ChatML (the default model's turn format) as an Ollama Go template: the system turn, each turn, the reply's start."""


def ollama_modelfile(gguf_name: str, chat_template: str, system_prompt: str | None = None,
                     name: str = "specialist") -> str:
    """An Ollama Modelfile for the GGUF file: its turn format, greedy, and a system message only if it was trained
    with one (the course's examples have none)."""
    if "<|im_start|>" not in chat_template:
        raise GGUFExportError("the chat template is not ChatML; write the Modelfile's TEMPLATE by hand to match it "
                              "(https://github.com/ollama/ollama/blob/main/docs/template.md)")
    return "\n".join([
        f"# Ollama: ollama create {name} -f Modelfile && ollama run {name}",
        f"FROM ./{gguf_name}",
        f'TEMPLATE """{CHATML_TEMPLATE}"""',
        *([f'SYSTEM """{system_prompt}"""'] if system_prompt else []),
        f'PARAMETER stop "{STOP}"',
        "PARAMETER temperature 0",
        ""])


def read_metadata(path: Path) -> dict[str, Any]:
    """The key/value metadata of a GGUF file (token lists shortened to their length), for checks and tests."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    out: dict[str, Any] = {}
    for key, field in reader.fields.items():
        if key in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type"):
            out[key] = len(field.data)
        else:
            out[key] = field.contents()
    out["tensors"] = {t.name: t.tensor_type.name for t in reader.tensors}
    return out


__all__ = ["CHATML_TEMPLATE", "GGUFExportError", "GGUFFile", "QUANT_TYPES", "check_exportable", "ollama_modelfile",
           "permute_for_rope", "pre_tokenizer_type", "read_metadata", "vocabulary", "write_gguf"]
