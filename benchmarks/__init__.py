"""Speed benchmarks against named baselines (`make bench` runs :mod:`benchmarks.run_all`)."""
