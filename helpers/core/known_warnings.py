"""Warnings the course knows to be harmless, filtered with the reason; every other warning shows as usual.

Importing :mod:`helpers` installs the filters, in notebooks and on the command line alike. Notebook 00 lists them
with their reasons, so a learner never meets an alarming message the course has not explained. Nothing is
filtered by category or module wholesale: each entry matches one message.
"""
from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownWarning:
    """One harmless message: where it comes from, how it starts, and why it can be ignored."""

    source: str  # "logger:<name>" for a logging record, or a warning category's name
    starts: str
    reason: str


KNOWN = (
    KnownWarning("logger:bitsandbytes.backends.cpu.ops", "Failed to load CPU gemm_4bit_forward from kernels-community",
                 "bitsandbytes looks for an optional faster CPU kernel in the `kernels` package, which downloads code "
                 "from a hub at run time; the course does not install it, and bitsandbytes uses its own CPU kernel"),
    KnownWarning("logger:transformers.integrations.bitsandbytes", "The modules are dequantized in",
                 "on a CPU the course turns the 4-bit NF4 weights back into float32 once before generating, which "
                 "decodes about 1.8x faster; the answers are exactly those of the 4-bit model"),
    KnownWarning("FutureWarning", "`is_gradient_checkpointing` is deprecated",
                 "transformers' own Trainer still reads a property it has renamed; nothing in the course uses it"),
)


class _Drop(logging.Filter):
    """A logging filter that drops records whose message starts with a known text."""

    def __init__(self, starts: str):
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.starts)


def quiet_known_warnings() -> tuple[KnownWarning, ...]:
    """Install a filter for each KNOWN message (idempotent); returns the list, for showing with the reasons."""
    for known in KNOWN:
        if known.source.startswith("logger:"):
            logger = logging.getLogger(known.source.split(":", 1)[1])
            if not any(isinstance(f, _Drop) and f.starts == known.starts for f in logger.filters):
                logger.addFilter(_Drop(known.starts))
        else:
            category = {"FutureWarning": FutureWarning, "UserWarning": UserWarning,
                        "DeprecationWarning": DeprecationWarning}[known.source]
            warnings.filterwarnings("ignore", message=re.escape(known.starts), category=category)
    return KNOWN


__all__ = ["KNOWN", "KnownWarning", "quiet_known_warnings"]
