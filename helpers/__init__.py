"""Helpers for the LLM specialist course."""
