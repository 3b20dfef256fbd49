"""Training FLOPs per token (shapes, LoRA sizes from helpers.model.memory) and this machine's float32 matmul peak."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Iterable

import torch

from helpers.model.memory import LINEAR_NAMES, ModelShape, lora_params


def head_params(shape: ModelShape) -> int:
    """Weights of the output head (counted even when tied to the embeddings: it is a matmul)."""
    return shape.hidden * shape.vocab


def matmul_params(shape: ModelShape) -> int:
    """N: weights that take part in a matrix multiply per token, output head included, embeddings excluded."""
    return shape.linear_params + head_params(shape)


@dataclass(frozen=True)
class FlopCount:
    """Training FLOPs per useful (non-padding) token, split by term, as issue 9 defines them."""

    frozen_base: float  # 4N: forward (2N) plus gradients with respect to the inputs (2N)
    adapter: float  # 6N_L: forward, input gradients and weight gradients of the LoRA weights
    attention: float  # 12 L d T: scores and weighted sum, forward and backward, at mean context T
    head_skipped: float  # 4 x head weights x share of tokens whose logits our path never computes

    @property
    def total(self) -> float:
        """FLOPs per token by the issue's definition (output head counted for every token)."""
        return self.frozen_base + self.adapter + self.attention

    @property
    def executed(self) -> float:
        """FLOPs per token actually executed by a path that computes logits only where loss is taken."""
        return self.total - self.head_skipped

    def as_dict(self) -> dict[str, float]:
        """All terms and both totals, for the results file."""
        return {**asdict(self), "total": self.total, "executed": self.executed}


def flops_per_token(shape: ModelShape, lora_rank: int, mean_context: float, head_share: float = 1.0,
                    targets: Iterable[str] = LINEAR_NAMES) -> FlopCount:
    """4N + 6N_L + 12 L d T per token; ``head_share`` = share of tokens whose logits are computed."""
    if not 0 <= head_share <= 1:
        raise ValueError(f"head_share must be in [0, 1], got {head_share}")
    n, n_l = matmul_params(shape), lora_params(shape, lora_rank, targets)
    return FlopCount(frozen_base=4.0 * n, adapter=6.0 * n_l,
                     attention=12.0 * shape.layers * shape.hidden * mean_context,
                     head_skipped=4.0 * head_params(shape) * (1 - head_share))


def mfu(tokens_per_second: float, flops_per_tok: float, peak_flops: float) -> float:
    """Model FLOPs utilisation: achieved FLOP/s over the measured peak FLOP/s."""
    if peak_flops <= 0:
        raise ValueError("the matmul peak must be positive")
    return tokens_per_second * flops_per_tok / peak_flops


def matmul_peak(size: int = 2048, seconds: float = 2.0, repeats: int = 5) -> dict[str, float]:
    """float32 matmul FLOP/s of this machine: the best of ``repeats`` timed rounds of size x size products."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # warm up the kernels and the thread pool
    flops_per_mm = 2.0 * size**3
    best = 0.0
    for _ in range(repeats):
        count, start = 0, time.perf_counter()
        while True:
            torch.mm(a, b)
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / repeats:
                break
        best = max(best, count * flops_per_mm / elapsed)
    return {"peak_flops": best, "size": size, "threads": torch.get_num_threads(), "repeats": repeats}
