"""Layer 9, the workshop room: participants, seats per GPU, GPU status, the room's pooled ratings."""
