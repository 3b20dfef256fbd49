"""Helpers for the LLM specialist course: one package per stage, called from the notebooks.

Layers import only downward (tests/core/test_layers.py): core <- model <- data <- sft <- rating <- dpo <- eval
<- budget <- ship <- workshop <- session and cli <- notebooks.
"""
from .core.display import register_figure_formatter

register_figure_formatter()
