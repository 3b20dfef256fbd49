"""Speed benchmarks against named baselines (`make bench` runs `python -m benchmarks`, :mod:`benchmarks.__main__`)."""
