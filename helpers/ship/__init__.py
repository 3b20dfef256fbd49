"""Layer 8, shipping the specialist (notebook 08)."""
