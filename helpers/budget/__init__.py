"""Layer 7, the budget (notebooks 02 and 07): cost, the next round, comparing runs."""
