"""The environment a run was measured in: library versions and the process's peak memory."""
from __future__ import annotations

import importlib.metadata
import platform
import resource
import sys

import torch


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a training run."""
    names = ("torch", "transformers", "peft", "bitsandbytes", "accelerate", "trl")
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def peak_memory_mb() -> float:
    """Peak memory of this process so far: GPU allocator peak on CUDA, else the peak resident set size."""
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


__all__ = ["library_versions", "peak_memory_mb"]
