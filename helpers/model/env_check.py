"""Checks of the learner's environment for notebook 00: versions, hardware, and a real 4-bit matmul."""
from __future__ import annotations

import importlib.metadata
import platform
import sys
from dataclasses import dataclass

import psutil
import torch

from ..core.config import DEFAULT_CPU_PROFILE
from .loading import compute_dtype

PACKAGES = ("torch", "transformers", "peft", "bitsandbytes", "trl", "datasets", "accelerate", "ipywidgets",
            "jupyterlab", "papermill", "matplotlib")
MINIMUM = {"torch": "2.13", "transformers": "5.0", "peft": "0.21", "bitsandbytes": "0.50", "trl": "1.0"}


@dataclass
class Check:
    """One line of the environment report."""

    name: str
    ok: bool
    detail: str


def _version_tuple(text: str) -> tuple[int, ...]:
    """'2.13.0+cpu' -> (2, 13, 0)."""
    parts = []
    for piece in text.split("+")[0].split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def package_checks() -> list[Check]:
    """Installed version of each package the course needs, against the minimum it was tested with."""
    checks = []
    for name in PACKAGES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(name, False, "not installed: run `make run` or `pip install -e .`"))
            continue
        minimum = MINIMUM.get(name)
        ok = minimum is None or _version_tuple(version) >= _version_tuple(minimum)
        checks.append(Check(name, ok, version + ("" if ok else f" (need >= {minimum})")))
    return checks


def hardware_checks() -> list[Check]:
    """Python, CPU or GPU, memory, and the compute dtype the course will use."""
    mem = psutil.virtual_memory()
    checks = [Check("python", sys.version_info >= (3, 11), platform.python_version()),
              Check("cpu cores", True, str(psutil.cpu_count(logical=True))),
              Check("memory", mem.total > 4 * 2**30, f"{mem.total / 2**30:.1f} GiB total, "
                                                     f"{mem.available / 2**30:.1f} GiB free")]
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        checks.append(Check("gpu", True, f"{props.name}, {props.total_memory / 2**30:.1f} GiB"))
    else:
        checks.append(Check("gpu", True, f"none: the course runs on the CPU (profile {DEFAULT_CPU_PROFILE})"))
    checks.append(Check("compute dtype", True, str(compute_dtype()).replace("torch.", "")))
    return checks


def four_bit_matmul_check(size: int = 256) -> Check:
    """Quantize a random weight to NF4 with bitsandbytes and compare a matmul with full precision."""
    import bitsandbytes as bnb

    torch.manual_seed(0)
    dtype = compute_dtype()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    layer = torch.nn.Linear(size, size, bias=False)
    q = bnb.nn.Linear4bit(size, size, bias=False, compute_dtype=dtype, quant_type="nf4")
    q.weight = bnb.nn.Params4bit(layer.weight.data.clone(), requires_grad=False, quant_type="nf4")
    q = q.to(dev)
    layer = layer.to(dev)
    x = torch.randn(8, size, device=dev, dtype=dtype)
    with torch.no_grad():
        ref, got = layer.to(dtype)(x), q(x)
    rel = (got.float() - ref.float()).norm() / ref.float().norm()
    # NF4 keeps about 4 bits per weight: a relative error of a few percent is expected, not zero.
    return Check("4-bit NF4 matmul", bool(rel < 0.2), f"relative error {rel:.3f} vs full precision on {dev}")


def environment_report() -> list[Check]:
    """Every check of notebook 00, in order."""
    return hardware_checks() + package_checks() + [four_bit_matmul_check()]
