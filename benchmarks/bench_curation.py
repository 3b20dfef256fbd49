"""Benchmark: curate the whole sample corpus and compare the wall time with the 60-second budget (2 CPU cores).

    .venv/bin/python -m benchmarks.bench_curation [--tokenizer] [--out benchmarks/scratch/curation.json]

Loading the tokenizer is not counted; measuring token lengths inside curation is, when --tokenizer is given.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

BUDGET_SECONDS = 60.0
REPO = Path(__file__).resolve().parent.parent


def run(with_tokenizer: bool = False) -> dict[str, Any]:
    """Curate data_samples/voltaris into a temporary folder; wall time per stage and in total."""
    from helpers.core.config import load_settings
    from helpers.data.pipeline import curate

    tokenizer = None
    if with_tokenizer:
        from helpers.model.loading import load_tokenizer

        tokenizer = load_tokenizer()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = curate(REPO / "data_samples" / "voltaris", Path(tmp) / "data", load_settings("cpu-demo").data,
                        tokenizer=tokenizer)
        seconds = time.perf_counter() - started
    return {"benchmark": "curation", "seconds": round(seconds, 2), "budget_seconds": BUDGET_SECONDS,
            "within_budget": seconds < BUDGET_SECONDS, "cpu_count": os.cpu_count(), "tokenizer": with_tokenizer,
            "raw_records": result.metrics["raw_records"], "kept_examples": result.metrics["kept_examples"],
            "records_per_second": round(result.metrics["raw_records"] / seconds, 1)}


def main() -> None:
    """Command line: run, print, write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokenizer", action="store_true", help="also measure token lengths with the default model")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "scratch" / "curation.json")
    args = ap.parse_args()
    res = run(args.tokenizer)
    print(f"curation of {res['raw_records']} raw records -> {res['kept_examples']} examples in {res['seconds']} s "
          f"on {res['cpu_count']} cores (budget {BUDGET_SECONDS:.0f} s: "
          f"{'OK' if res['within_budget'] else 'OVER'})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
