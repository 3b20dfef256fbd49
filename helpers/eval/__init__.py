"""Layer 6, evaluation (notebooks 02 and 06): metrics, intervals and paired tests, plots, regression, pilot reading."""
