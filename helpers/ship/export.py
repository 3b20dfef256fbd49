"""What ships: the run's best adapter, its version, and the adapter merged into the weights it was trained on.

QLoRA trains the adapter on top of the base *as quantized to NF4*. Merging it into the float weights of
the un-quantized base makes another model: each base weight moves by its NF4 rounding error, which the
adapter never saw. :func:`helpers.model.loading.merge_for_serving` therefore merges into the base the adapter
was trained with: loaded in 4-bit exactly as in training, dequantized, then merged (``into="float"`` gives the
other model, for the comparison notebook 08 shows).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.config import Settings
from ..core.runs import MissingInputError, RunDir

SHIP = "ship"
"""The run's folder for everything notebook 08 makes."""


@dataclass(frozen=True)
class Specialist:
    """The model a run ships: which adapter, where it is, and a version string that names its exact weights."""

    name: str          # 'dpo' or 'sft'
    adapter_dir: Path
    version: str       # '<run>/<name>@<first 12 hex of the adapter weights' sha256>'


def ship_dir(run: RunDir) -> Path:
    """``runs/<name>/ship/``, created on first use."""
    path = run.root / SHIP
    path.mkdir(parents=True, exist_ok=True)
    return path


def adapter_version(run: RunDir, name: str, adapter_dir: Path) -> str:
    """'<run>/<name>@<sha256 prefix of adapter_model.safetensors>': equal weights, equal version."""
    digest = hashlib.sha256((Path(adapter_dir) / "adapter_model.safetensors").read_bytes()).hexdigest()[:12]
    return f"{run.name}/{name}@{digest}"


def run_adapters(run: RunDir) -> dict[str, Path]:
    """The tuned adapters this run has, in training order: 'sft' (notebook 03), then 'dpo' (notebook 05)."""
    folders = {"sft": run.train / "adapter", "dpo": run.dpo / "adapter"}
    return {name: path for name, path in folders.items() if (path / "adapter_model.safetensors").exists()}


def specialist(run: RunDir) -> Specialist:
    """The run's final model: the preference-tuned adapter when notebook 05 made one, else the fine-tuned one."""
    adapters = run_adapters(run)
    for name in ("dpo", "sft"):
        if name in adapters:
            return Specialist(name, adapters[name], adapter_version(run, name, adapters[name]))
    raise MissingInputError(f"{run.train / 'adapter'} is missing: run notebook 03_qlora_training with "
                            f"run_name='{run.name}' first (and 05 for the preference-tuned model).")


def rounding_vs_update(settings: Settings, merged_dir: Path, adapter_dir: Path,
                       module: str = "model.layers.0.self_attn.q_proj") -> dict[str, float]:
    """For one weight matrix: how far NF4 moved the base weights, and how far the adapter moved them (mean |change|).

    Read from files only: the float base, the merged checkpoint and the adapter's two LoRA matrices.
    merged = NF4(base) + update, so NF4(base) - base = merged - update - base.
    """
    from safetensors import safe_open

    from ..model.loading import resolve_model

    config = json.loads((Path(adapter_dir) / "adapter_config.json").read_text())
    scale = config["lora_alpha"] / config["r"]
    weight = f"{module}.weight"
    with safe_open(str(Path(resolve_model(settings.model.base_model)) / "model.safetensors"), "pt") as f:
        base = f.get_tensor(weight).float()
    with safe_open(str(Path(merged_dir) / "model.safetensors"), "pt") as f:
        merged = f.get_tensor(weight).float()
    with safe_open(str(Path(adapter_dir) / "adapter_model.safetensors"), "pt") as f:
        prefix = next(k for k in f.keys() if k.endswith(f"{module}.lora_A.weight"))[: -len("lora_A.weight")]
        update = scale * f.get_tensor(prefix + "lora_B.weight").float() @ f.get_tensor(prefix + "lora_A.weight").float()
    rounding = merged - update - base
    return {"weights": float(base.numel()), "mean_abs_weight": float(base.abs().mean()),
            "mean_abs_nf4_rounding": float(rounding.abs().mean()), "mean_abs_adapter_update": float(update.abs().mean())}


def folder_bytes(path: Path) -> int:
    """Total size of the files in a folder (or of one file)."""
    path = Path(path)
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


__all__ = ["SHIP", "Specialist", "adapter_version", "folder_bytes", "rounding_vs_update", "run_adapters",
           "ship_dir", "specialist"]
