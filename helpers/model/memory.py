"""How much accelerator memory fine-tuning a causal LM needs: full fine-tuning, LoRA and QLoRA.

The estimate adds up what a training step keeps in memory at its peak:

* **weights** of the frozen or trained model: 32, 16, 8 or 4 bits per parameter. In 8- and 4-bit
  loading (bitsandbytes) only the linear layers of the decoder blocks are quantized; embeddings,
  the output head and the norms stay in the compute dtype.
* **quantization constants**: NF4 keeps one float32 scale per block of 64 weights (0.5 bit per
  parameter); double quantization stores those scales in 8 bits with a second level of float32
  constants per 256 scales, 8/64 + 32/(64*256) = 0.127 bit per parameter (QLoRA paper, section 3).
* **LoRA parameters**, r * (in + out) per adapted linear layer, their **gradients** and the
  **optimizer states** (AdamW: two float32 moments, 8 bytes per trainable parameter; 8-bit AdamW:
  2 bytes; the paged variants are the same size but can be evicted to CPU RAM under pressure).
* **activations** saved for the backward pass, per token and layer (see :func:`activation_bytes_per_token`),
  all layers without gradient checkpointing, or only each layer's input plus one recomputed layer with it.
* **logits**: batch x sequence x vocabulary, in the compute dtype plus the float32 copy and
  log-probabilities of the loss (or a slice of those when the loss is computed in chunks).

Allocator caches, the CUDA context and fragmentation are not counted: compare with
``torch.cuda.max_memory_allocated``, not with ``nvidia-smi``.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..core.paths import COURSE_DIR

GB = 1e9
GIB = 2**30
LINEAR_NAMES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
OPTIMIZER_BYTES = {"adamw": 8.0, "paged_adamw": 8.0, "adamw_8bit": 2.0, "paged_adamw_8bit": 2.0, "sgd": 0.0}
METHODS = ("full", "lora", "qlora")
COMMON_GPUS_GB = (24, 40, 48, 80)


@dataclass(frozen=True)
class ModelShape:
    """The numbers of a Llama-style decoder that decide its memory."""

    name: str
    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    vocab: int
    tied_embeddings: bool = False

    @property
    def kv_dim(self) -> int:
        """Width of the key (and value) projection: grouped-query attention shares heads."""
        return self.hidden * self.kv_heads // self.heads

    def linear_shapes(self) -> dict[str, tuple[int, int]]:
        """(in_features, out_features) of each linear layer in one decoder block."""
        h, kv, i = self.hidden, self.kv_dim, self.intermediate
        return {"q_proj": (h, h), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (h, h),
                "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}

    @property
    def linear_params(self) -> int:
        """Parameters in the decoder blocks' linear layers (the ones 4-bit loading quantizes)."""
        return self.layers * sum(a * b for a, b in self.linear_shapes().values())

    @property
    def other_params(self) -> int:
        """Embeddings, output head (unless tied) and norms: kept in the compute dtype."""
        heads = 1 if self.tied_embeddings else 2
        return heads * self.vocab * self.hidden + (2 * self.layers + 1) * self.hidden

    @property
    def params(self) -> int:
        """All parameters."""
        return self.linear_params + self.other_params


# Shapes from the models' published config.json files.
KNOWN_SHAPES: dict[str, ModelShape] = {s.name: s for s in (
    ModelShape("SmolLM2-135M", 30, 576, 1536, 9, 3, 49152, tied_embeddings=True),
    ModelShape("Llama-3.2-1B", 16, 2048, 8192, 32, 8, 128256, tied_embeddings=True),
    ModelShape("Llama-2-7B", 32, 4096, 11008, 32, 32, 32000),
    ModelShape("Llama-3.1-8B", 32, 4096, 14336, 32, 8, 128256),
    ModelShape("Llama-2-13B", 40, 5120, 13824, 40, 40, 32000),
    ModelShape("LLaMA-65B", 80, 8192, 22016, 64, 64, 32000),
    ModelShape("Llama-2-70B", 80, 8192, 28672, 64, 8, 32000),
)}
SIZE_CLASSES = {"1B": "Llama-3.2-1B", "7B": "Llama-2-7B", "13B": "Llama-2-13B", "70B": "Llama-2-70B"}


def shape_from_config(config: Any, name: str = "") -> ModelShape:
    """A ModelShape from a transformers config object, a config dict or a path to config.json."""
    if isinstance(config, (str, Path)):
        path = Path(config)
        path = path / "config.json" if path.is_dir() else path
        config = json.loads(path.read_text())
    get = config.get if isinstance(config, Mapping) else (lambda k, d=None: getattr(config, k, d))
    try:
        heads = int(get("num_attention_heads"))
        return ModelShape(name or str(get("_name_or_path") or get("model_type") or "model"),
                          int(get("num_hidden_layers")), int(get("hidden_size")), int(get("intermediate_size")),
                          heads, int(get("num_key_value_heads") or heads), int(get("vocab_size")),
                          bool(get("tie_word_embeddings", False)))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"config of '{name or 'model'}' lacks a field a Llama-style decoder needs "
                         "(num_hidden_layers, hidden_size, intermediate_size, num_attention_heads, vocab_size)") from exc


def shape_from_params(n_params: float, vocab: int = 32000, name: str = "") -> ModelShape:
    """A plausible Llama-style shape for a parameter count (12 h^2 per layer, depth = h / 128)."""
    if n_params <= 0:
        raise ValueError(f"n_params must be positive, got {n_params}")
    hidden = max(256, round((n_params * 128 / 12) ** (1 / 3) / 256) * 256)
    blocks = max(n_params - 2 * vocab * hidden, 12 * hidden**2)
    layers = max(1, round(blocks / (12 * hidden**2)))
    heads = max(1, hidden // 128)
    inter = round(8 * hidden / 3 / 256) * 256
    return ModelShape(name or f"{n_params / 1e9:.1f}B", layers, hidden, inter, heads, heads, vocab)


def resolve_shape(model: str | ModelShape | float) -> ModelShape:
    """A ModelShape from a known name ('Llama-2-7B' or '7B'), a parameter count or a ModelShape."""
    if isinstance(model, ModelShape):
        return model
    if isinstance(model, (int, float)):
        return shape_from_params(float(model))
    name = SIZE_CLASSES.get(model, model)
    if name in KNOWN_SHAPES:
        return KNOWN_SHAPES[name]
    raise KeyError(f"unknown model '{model}'; known: {', '.join([*SIZE_CLASSES, *KNOWN_SHAPES])}, "
                   "or pass a parameter count or shape_from_config(...)")


@dataclass(frozen=True)
class TrainSetup:
    """How a model is fine-tuned: method, precision, batch, optimizer and memory savers."""

    method: str = "qlora"
    batch_size: int = 1
    seq_len: int = 512
    weight_bits: int = 0
    dtype_bytes: int = 2
    double_quant: bool = True
    optimizer: str = "adamw"
    gradient_checkpointing: bool = False
    lora_r: int = 8
    lora_targets: tuple[str, ...] = LINEAR_NAMES
    lora_dropout: bool = True
    trainable_bytes: int = 0
    attention: str = "sdpa"
    chunked_loss: bool = False

    def __post_init__(self) -> None:
        """Reject settings the estimate cannot represent, naming the field."""
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.optimizer not in OPTIMIZER_BYTES:
            raise ValueError(f"optimizer must be one of {tuple(OPTIMIZER_BYTES)}, got {self.optimizer!r}")
        if self.weight_bits not in (0, 4, 8, 16, 32):
            raise ValueError(f"weight_bits must be 4, 8, 16 or 32 (0 = from the method), got {self.weight_bits}")
        if self.attention not in ("sdpa", "eager"):
            raise ValueError(f"attention must be 'sdpa' or 'eager', got {self.attention!r}")
        unknown = set(self.lora_targets) - set(LINEAR_NAMES)
        if unknown:
            raise ValueError(f"lora_targets has unknown module names {sorted(unknown)}; use {LINEAR_NAMES}")
        if min(self.batch_size, self.seq_len, self.lora_r, self.dtype_bytes) <= 0:
            raise ValueError("batch_size, seq_len, lora_r and dtype_bytes must be positive")

    @property
    def bits(self) -> int:
        """Bits per frozen/trained weight: 4 for QLoRA, the compute dtype otherwise, unless set."""
        return self.weight_bits or (4 if self.method == "qlora" else 8 * self.dtype_bytes)

    @property
    def param_bytes(self) -> int:
        """Bytes per trainable parameter (PEFT keeps adapters in float32; full fine-tuning trains the weights)."""
        return self.trainable_bytes or (self.bits // 8 if self.method == "full" else 4)


@dataclass
class MemoryEstimate:
    """Peak training memory, by component, in bytes."""

    model: str
    setup: TrainSetup
    parts: dict[str, float] = field(default_factory=dict)
    trainable_params: int = 0

    @property
    def total_bytes(self) -> float:
        """Sum of all components."""
        return sum(self.parts.values())

    @property
    def total_gb(self) -> float:
        """Total in GB (10^9 bytes)."""
        return self.total_bytes / GB

    @property
    def total_gib(self) -> float:
        """Total in GiB (2^30 bytes), the unit of torch and most tables."""
        return self.total_bytes / GIB

    def as_row(self) -> dict[str, Any]:
        """One flat row for a table: model, method, each part in GB and the total."""
        return {"model": self.model, "method": self.setup.method,
                **{k: round(v / GB, 3) for k, v in self.parts.items()}, "total_gb": round(self.total_gb, 2)}


def lora_params(shape: ModelShape, r: int, targets: Iterable[str] = LINEAR_NAMES) -> int:
    """Trainable LoRA parameters: r * (in + out) for each adapted linear layer of every block."""
    shapes = shape.linear_shapes()
    return shape.layers * sum(r * sum(shapes[t]) for t in targets)


def activation_bytes_per_token(shape: ModelShape, setup: TrainSetup) -> float:
    """Bytes one decoder block saves for backward per token, without checkpointing.

    In units of the compute dtype: attention keeps the norm input and output, q, k, v and the attention
    output (4h + 2kv); the MLP keeps the norm input and output, gate, up, activation and product (2h + 4i).
    Eager RMSNorm keeps float32 copies of both norms' input in 16-bit training (2 x 4h bytes); eager
    attention keeps the float32 and cast attention probabilities; LoRA dropout keeps a dropped copy of each
    adapted layer's input.
    """
    h, kv, i, a = shape.hidden, shape.kv_dim, shape.intermediate, setup.dtype_bytes
    total = a * (6 * h + 2 * kv + 4 * i)
    if a < 4:
        total += 2 * 4 * h
    if setup.attention == "eager":
        total += shape.heads * setup.seq_len * (4 + a)
    if setup.method != "full" and setup.lora_dropout:
        shapes = shape.linear_shapes()
        total += a * sum(shapes[t][0] for t in setup.lora_targets)
    return float(total)


def estimate_memory(model: str | ModelShape | float, setup: TrainSetup | None = None, **kwargs: Any) -> MemoryEstimate:
    """Peak training memory of ``model`` (known name, size class, parameter count or shape) under ``setup``."""
    shape = resolve_shape(model)
    setup = dataclasses.replace(setup or TrainSetup(), **kwargs) if kwargs else (setup or TrainSetup())
    a, bits, tokens = setup.dtype_bytes, setup.bits, setup.batch_size * setup.seq_len
    parts: dict[str, float] = {}
    if bits >= 16:
        parts["weights"] = shape.params * bits / 8
        parts["quant_constants"] = 0.0
    else:
        parts["weights"] = shape.linear_params * bits / 8 + shape.other_params * a
        if bits == 4:
            const_bits = 8 / 64 + 32 / (64 * 256) if setup.double_quant else 32 / 64
        else:  # LLM.int8: one float32 scale per output row
            const_bits = 32 / shape.hidden
        parts["quant_constants"] = shape.linear_params * const_bits / 8
    if setup.method == "full":
        if bits < 16:
            raise ValueError("full fine-tuning trains the weights themselves: use weight_bits 16 or 32")
        trainable = shape.params
        parts["lora_params"] = 0.0
    else:
        trainable = lora_params(shape, setup.lora_r, setup.lora_targets)
        parts["lora_params"] = trainable * setup.param_bytes
    parts["gradients"] = trainable * setup.param_bytes
    parts["optimizer"] = trainable * OPTIMIZER_BYTES[setup.optimizer]
    per_token = activation_bytes_per_token(shape, setup)
    if setup.gradient_checkpointing:
        parts["activations"] = tokens * (shape.layers * a * shape.hidden + per_token)
    else:
        parts["activations"] = tokens * shape.layers * per_token
    parts["logits"] = tokens * shape.vocab * (a + (1.0 if setup.chunked_loss else 8.0))
    return MemoryEstimate(shape.name, setup, parts, trainable)


# The three methods as the course compares them: 16-bit full fine-tuning with AdamW, 16-bit LoRA, 4-bit QLoRA.
METHOD_SETUPS = {
    "full": TrainSetup(method="full"),
    "lora": TrainSetup(method="lora"),
    "qlora": TrainSetup(method="qlora", optimizer="paged_adamw_8bit"),
}


def memory_table(models: Iterable[str | ModelShape | float] = tuple(SIZE_CLASSES), methods: Iterable[str] = METHODS,
                 gpus_gb: Iterable[float] = COMMON_GPUS_GB, batch_size: int = 4, seq_len: int = 512,
                 gradient_checkpointing: bool = True) -> Any:
    """A DataFrame: memory per model and method, and whether it fits each GPU size (True/False columns)."""
    import pandas as pd

    rows = []
    for model in models:
        for method in methods:
            est = estimate_memory(model, METHOD_SETUPS[method], batch_size=batch_size, seq_len=seq_len,
                                  gradient_checkpointing=gradient_checkpointing)
            row = {"size": model if isinstance(model, str) else est.model, **est.as_row()}
            row.update({f"fits_{g:g}GB": est.total_gb <= g for g in gpus_gb})
            rows.append(row)
    return pd.DataFrame(rows)


def plot_memory_table(table: Any, gpus_gb: Iterable[float] = COMMON_GPUS_GB) -> Any:
    """A grouped bar chart (log scale) of memory per model and method, with a line per GPU size."""
    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4.8))
    ax = fig.subplots()
    sizes = list(dict.fromkeys(table["size"]))
    methods = list(dict.fromkeys(table["method"]))
    width = 0.8 / len(methods)
    x = np.arange(len(sizes))
    gpus = sorted(gpus_gb)
    for k, method in enumerate(methods):
        values = [float(table[(table["size"] == s) & (table["method"] == method)]["total_gb"].iloc[0]) for s in sizes]
        bars = ax.bar(x + (k - (len(methods) - 1) / 2) * width, values, width, label=method)
        for bar, value in zip(bars, values):
            fit = next((g for g in gpus if value <= g), None)
            ax.annotate(f"{value:.0f}\n{'≤%gGB' % fit if fit else 'none'}", (bar.get_x() + bar.get_width() / 2, value),
                        ha="center", va="bottom", fontsize=7)
    for g in gpus:
        ax.axhline(g, color="grey", linestyle="--", linewidth=0.8)
        ax.text(len(sizes) - 0.5, g, f" {g:g} GB", va="center", fontsize=8, color="grey")
    ax.set_yscale("log")
    ax.set_xticks(x, sizes)
    ax.set_ylabel("estimated peak memory (GB, log scale)")
    ax.set_title("Fine-tuning memory per method; label = smallest common GPU that fits")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


__all__ = ["COMMON_GPUS_GB", "KNOWN_SHAPES", "METHODS", "METHOD_SETUPS", "MemoryEstimate", "ModelShape", "PUBLISHED", "PublishedFigure",
           "SIZE_CLASSES", "TrainSetup", "activation_bytes_per_token", "estimate_memory", "lora_params",
           "measure_training_peak", "memory_table", "plot_memory_table", "resolve_shape", "shape_from_config", "shape_from_params", "validation_table"]


@dataclass(frozen=True)
class PublishedFigure:
    """A published peak-memory measurement with its source and settings, to validate the estimate against."""

    source: str
    model: str
    setup: TrainSetup
    value: float
    unit: str = "GB"
    kind: str = "point"  # "point", or "upper" / "lower" for a bound such as "fits in 48 GB"

    def estimate(self) -> float:
        """The estimate in the figure's unit."""
        est = estimate_memory(self.model, self.setup)
        return est.total_gib if self.unit == "GiB" else est.total_gb

    def holds(self, tolerance: float = 0.2) -> bool:
        """Whether the estimate agrees: within ``tolerance`` of a point, or on the right side of a bound and within it."""
        est = self.estimate()
        if self.kind == "upper":
            return self.value * (1 - tolerance) <= est < self.value
        if self.kind == "lower":
            return self.value < est <= self.value * (1 + tolerance)
        return abs(est / self.value - 1) <= tolerance


_LITGPT = ("Lightning AI litgpt, tutorials/resource-tables.md (10/20/2023), 'Finetuning with LoRA on 1 GPU': "
           "1x A100 40GB, bf16-true, micro-batch 1, Alpaca (longest 1304 tokens), LoRA r=8 on query+value, "
           "dropout 0.05, AdamW, no checkpointing")
_LITGPT_SETUP = dict(batch_size=1, seq_len=1304, lora_r=8, lora_targets=("q_proj", "v_proj"), trainable_bytes=2)
PUBLISHED: tuple[PublishedFigure, ...] = (
    PublishedFigure(_LITGPT, "Llama-2-7B", TrainSetup(method="lora", **_LITGPT_SETUP), 21.30),
    PublishedFigure(_LITGPT + ", bnb.nf4-dq", "Llama-2-7B", TrainSetup(method="qlora", **_LITGPT_SETUP), 13.84),
    PublishedFigure(_LITGPT, "Llama-2-13B", TrainSetup(method="lora", **_LITGPT_SETUP), 38.12),
    PublishedFigure(_LITGPT + ", bnb.nf4-dq", "Llama-2-13B", TrainSetup(method="qlora", **_LITGPT_SETUP), 22.55),
    PublishedFigure("torchtune README 'Memory and training speed', Llama 3.1 8B QLoRA on 1x RTX 4090: batch 2, "
                    "packed 2048 tokens, torch.compile; config 8B_qlora_single_device: r=8 on q/k/v/o + MLP, "
                    "dropout 0, bf16, AdamW, activation checkpointing, chunked cross-entropy",
                    "Llama-3.1-8B", TrainSetup(method="qlora", batch_size=2, seq_len=2048, gradient_checkpointing=True,
                                               lora_dropout=False, trainable_bytes=2, chunked_loss=True), 7.4, "GiB"),
    PublishedFigure("Dettmers et al. 2023, QLoRA (arXiv:2305.14314): 65B finetuning on a single 48 GB GPU; Guanaco-65B "
                    "recipe: NF4 + double quantization, bf16, LoRA r=64 on all linear layers, paged AdamW, gradient "
                    "checkpointing; memory figure at batch 1, sequence 512",
                    "LLaMA-65B", TrainSetup(method="qlora", batch_size=1, seq_len=512, gradient_checkpointing=True,
                                            lora_r=64, optimizer="paged_adamw", trainable_bytes=2), 48.0, kind="upper"),
    PublishedFigure("Dettmers et al. 2023, QLoRA, introduction: regular 16-bit finetuning of LLaMA 65B needs more "
                    "than 780 GB (16-bit weights and gradients, 32-bit Adam states)",
                    "LLaMA-65B", TrainSetup(method="full", batch_size=1, seq_len=512, gradient_checkpointing=True),
                    780.0, kind="lower"),
)


def validation_table(figures: Iterable[PublishedFigure] = PUBLISHED, tolerance: float = 0.2) -> Any:
    """A DataFrame: each published figure, the estimate, the relative difference and whether it holds."""
    import pandas as pd

    rows = [{"model": f.model, "method": f.setup.method, "published": f"{'<' if f.kind == 'upper' else '>' if f.kind == 'lower' else ''}"
             f"{f.value:g} {f.unit}", "estimate": round(f.estimate(), 2), "difference": f"{f.estimate() / f.value - 1:+.0%}",
             "holds": f.holds(tolerance), "source": f.source} for f in figures]
    return pd.DataFrame(rows)


def _rss_bytes() -> int:
    """Resident memory of this process now."""
    import psutil

    return psutil.Process().memory_info().rss


# glibc keeps freed blocks in its heap once its mmap threshold has grown, so resident memory would
# overstate live tensors; a fixed threshold makes every tensor over 64 KiB its own mapping, returned on free.
_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "65536"}


def _measure_here(model: str, setup: TrainSetup, steps: int, seed: int, interval_s: float) -> dict[str, float]:
    """Load the model, then watch resident memory while ``steps`` (Q)LoRA steps run in this process."""
    import gc
    import threading
    import time

    import torch
    from peft import LoraConfig, get_peft_model

    from .loading import load_model

    torch.manual_seed(seed)
    base = load_model(model, quantize_4bit=setup.method == "qlora", dtype="float32")
    shape = shape_from_config(base.config, name=model)
    weights = sum(p.numel() * p.element_size() for p in base.parameters())
    config = LoraConfig(r=setup.lora_r, lora_alpha=2 * setup.lora_r, lora_dropout=0.05 if setup.lora_dropout else 0.0,
                        target_modules=list(setup.lora_targets), task_type="CAUSAL_LM")
    peft_model = get_peft_model(base, config)
    peft_model.train()
    ids = torch.randint(3, shape.vocab, (setup.batch_size, setup.seq_len))
    with torch.no_grad():  # weights may be memory-mapped from the checkpoint: page them all in first
        for p in peft_model.parameters():
            p.sum()
    gc.collect()
    baseline = peak = _rss_bytes()
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_bytes())
            done.wait(interval_s)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    timed: list[float] = []
    try:
        optimizer = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=1e-4)
        for _ in range(steps):
            start = time.perf_counter()
            peft_model(input_ids=ids, labels=ids).loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            timed.append(time.perf_counter() - start)
    finally:
        done.set()
        watcher.join()
    warm = timed[1:] or timed  # the first step pays one-time costs (allocations, kernel selection): not timed
    seconds = sum(warm) * len(timed) / len(warm)
    estimate = estimate_memory(shape, setup)
    static = estimate.parts["weights"] + estimate.parts["quant_constants"]
    return {"measured": float(max(peak, _rss_bytes()) - baseline), "estimate": estimate.total_bytes - static,
            "weights": float(weights), "estimate_weights": static,
            "tokens_per_second": steps * setup.batch_size * setup.seq_len / seconds}


def measure_training_peak(model: str = "default", setup: TrainSetup | None = None, steps: int = 3,
                          seed: int = 0, interval_s: float = 0.002, timeout_s: float = 900) -> dict[str, float]:
    """Peak memory that real (Q)LoRA training steps add on this CPU, next to the estimate of the same parts (bytes).

    Runs in a fresh Python process (so earlier work does not blur the peak): loads the model in float32
    (or NF4 for ``method='qlora'``), takes the resident memory as the baseline, then polls it while the
    steps run. ``measured`` and ``estimate`` cover adapters, gradients, optimizer states, activations and
    logits; ``weights`` (measured) and ``estimate_weights`` cover the loaded model. ``tokens_per_second`` is
    timed on the steps after the first (a warm-up that pays one-time costs).
    """
    import os
    import subprocess
    import sys

    setup = setup or TrainSetup(method="lora", dtype_bytes=4, batch_size=2, seq_len=128)
    if setup.method == "full":
        raise ValueError("measure_training_peak measures LoRA or QLoRA; full fine-tuning is not part of the course")
    if setup.dtype_bytes != 4:
        raise ValueError("on CPU the course trains in float32: use TrainSetup(dtype_bytes=4)")
    request = json.dumps({"model": model, "setup": dataclasses.asdict(setup), "steps": steps, "seed": seed,
                          "interval_s": interval_s})
    env = {**os.environ, **_MALLOC_ENV, "TQDM_DISABLE": "1"}
    result = subprocess.run([sys.executable, "-m", __name__, request], capture_output=True, text=True, env=env,
                            timeout=timeout_s, cwd=COURSE_DIR)
    if result.returncode != 0:
        raise RuntimeError(f"the memory measurement failed:\n{result.stderr.strip()[-1500:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _main(argv: list[str]) -> None:
    """Entry point of the measuring subprocess: JSON request in argv, JSON result on the last stdout line."""
    request = json.loads(argv[0])
    fields = request["setup"]
    fields["lora_targets"] = tuple(fields["lora_targets"])
    print(json.dumps(_measure_here(request["model"], TrainSetup(**fields), request["steps"], request["seed"],
                                   request["interval_s"])))


if __name__ == "__main__":
    import sys

    _main(sys.argv[1:])
