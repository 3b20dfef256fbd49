"""Layer 5, preference tuning (notebook 05): DPO on the exported rating pairs."""
