"""Helpers for the LLM specialist course: one module per idea, called from the notebooks."""
from .display import register_figure_formatter

register_figure_formatter()
