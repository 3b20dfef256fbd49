"""Layer 9, the workshop room: participants, seats per GPU, GPU status, the room's pooled ratings, the rehearsal's
simulated GPU and its report."""
