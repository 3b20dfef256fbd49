"""Where the course's own files are, whichever folder a notebook, test or command runs from."""
from __future__ import annotations

from pathlib import Path

COURSE_DIR = Path(__file__).resolve().parents[2]
"""The course's folder: the one holding helpers/, notebooks/, data_samples/, baselines/ and benchmarks/."""

SAMPLES_DIR = COURSE_DIR / "data_samples"
"""The committed sample data (the Voltaris catalog and exports, the Bitext sample, the synthetic pilot log)."""
