"""How many participants one GPU seats: the host guide's table, from the memory estimator."""
from __future__ import annotations

from typing import Any, Iterable

from ..model.memory import COMMON_GPUS_GB, METHOD_SETUPS, METHODS, SIZE_CLASSES, estimate_memory
from ..model.turns import seats_per_gpu


def seat_table(models: Iterable[str] = ("SmolLM2-135M", *SIZE_CLASSES), methods: Iterable[str] = METHODS,
               gpus_gb: Iterable[float] = COMMON_GPUS_GB, batch_size: int = 4, seq_len: int = 512,
               gradient_checkpointing: bool = True, context_gb: float = 0.5, headroom: float = 0.1) -> Any:
    """A DataFrame: estimated training memory per model and method, and participants training at once per GPU size."""
    import pandas as pd

    rows = []
    for model in models:
        for method in methods:
            est = estimate_memory(model, METHOD_SETUPS[method], batch_size=batch_size, seq_len=seq_len,
                                  gradient_checkpointing=gradient_checkpointing)
            rows.append({"model": model, "method": method, "need_gb": round(est.total_gb, 2),
                         **{f"{g:g} GB": seats_per_gpu(g, est.total_gb, context_gb, headroom) for g in gpus_gb}})
    return pd.DataFrame(rows)


def seat_table_markdown(table: Any) -> str:
    """The seat table as a Markdown table (the host guide's figures)."""
    header = list(table.columns)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines)


__all__ = ["seat_table", "seat_table_markdown", "seats_per_gpu"]
