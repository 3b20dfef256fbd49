"""Layer 10, command-line entry points: the course runner (`python -m helpers.cli.course`) and the training launcher."""
