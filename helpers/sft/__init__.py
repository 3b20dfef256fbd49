"""Layer 3, supervised fine-tuning (notebook 03): the trainer and the overfitting watch."""
