"""Layer 1, the model: loading (4-bit, adapters, merge), the chat format, generation, memory estimates, GPU turns."""
