"""Command-line training: the same QLoRA path as notebook 03, for scripts and multi-GPU launchers.

    python -m helpers.cli.train --run runs/demo --profile cpu-demo
    python -m helpers.cli.train --run runs/demo --profile gpu --set train.epochs=1 --set train.batch_size=8
    torchrun --nproc_per_node=2 -m helpers.cli.train --run-dir runs/demo --profile gpu  # one machine, 2 GPUs
    accelerate launch --multi_gpu --num_processes 8 -m helpers.cli.train --run-dir runs/demo --profile gpu

Reads the curated data in RUN/data/ and writes RUN/train/ (adapter, log.csv, summary.json) as
notebook 03 does, with the run's settings (RUN/settings.json, see :mod:`helpers.session`) and the
--set overrides on top. An interrupted run resumes from its last checkpoint when started again.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from ..core.config import DEFAULT_CPU_PROFILE, PROFILES, SettingsError, parse_assignment
from ..core.runs import open_run
from ..session import resolve_settings
from ..sft.trainer import train_sft


def main(argv: Sequence[str] | None = None) -> int:
    """Train from RUN/data into RUN/train; exit code 0 on success, 2 on bad settings."""
    parser = argparse.ArgumentParser(description="QLoRA fine-tuning from a curated run directory.")
    parser.add_argument("--run", "--run-dir", dest="run", required=True,
                        help="run directory, e.g. runs/demo (needs data/ from notebook 01); under torchrun write "
                             "--run-dir, since torchrun reads --run as an abbreviation of its own --run-path")
    parser.add_argument("--profile", default="", help=f"one of {', '.join(PROFILES)} (default: the run's, else gpu "
                                                      f"if CUDA, else {DEFAULT_CPU_PROFILE})")
    parser.add_argument("--set", action="append", default=[], metavar="GROUP.FIELD=VALUE",
                        help="override a setting, e.g. --set train.learning_rate=1e-4 (repeatable)")
    parser.add_argument("--no-resume", action="store_true", help="start fresh even if checkpoints exist")
    args = parser.parse_args(argv)
    run_path = Path(args.run)
    quiet = int(os.environ.get("RANK", "0")) > 0  # in a multi-process launch, one process speaks
    try:
        run = open_run(run_path.name, run_path.parent)
        settings = resolve_settings(run, args.profile, dict(parse_assignment(a) for a in args.set), "cli.train",
                                    say=(lambda _: None) if quiet else print)
        result = train_sft(run, settings, show_plot=False, resume=not args.no_resume)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result.summary:
        print(json.dumps(result.summary, indent=2))
        if result.overfit_message:
            print(result.overfit_message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
