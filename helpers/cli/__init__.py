"""Layer 10, command-line entry points: the course runner (`python -m helpers.cli.course`), the training launcher and
the workshop rehearsal (`python -m helpers.cli.rehearsal`)."""
