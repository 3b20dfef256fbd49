"""Helpers for the LLM specialist course: one package per stage, called from the notebooks.

Layers import only downward (tests/core/test_layers.py): core <- model <- data <- sft <- rating <- dpo <- eval
<- budget <- ship <- workshop <- session and cli <- notebooks.
"""
from .core.display import register_figure_formatter
from .core.known_warnings import quiet_known_warnings

register_figure_formatter()
quiet_known_warnings()
