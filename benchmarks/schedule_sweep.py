"""The learning-rate schedule of the CPU profiles, chosen by a small sweep (notebook 03, "why these settings").

    .venv/bin/python -m benchmarks.schedule_sweep [--steps 40]

Each setting trains the ``cpu-demo`` recipe through the course's own trainer on the sample corpus (curated once
into benchmarks/scratch/) for the first ``--steps`` steps, with the same warm-up in steps as the full run, and
records the training and validation losses. Writes ``benchmarks/schedule_sweep.json`` and the plot notebook 03
shows, ``notebooks/figures/schedule_sweep.png``.
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from helpers.core.config import load_settings  # noqa: E402
from helpers.core.runs import open_run, write_json  # noqa: E402
from helpers.sft.trainer import train_sft  # noqa: E402

from .data import REPO, SCRATCH, curated_dir  # noqa: E402

RESULTS = REPO / "benchmarks" / "schedule_sweep.json"
FIGURE = REPO / "notebooks" / "figures" / "schedule_sweep.png"
SETTINGS = [  # (peak learning rate, warm-up steps of the 160-step run)
    (1e-3, 8), (3e-3, 8), (6e-3, 8), (3e-3, 0)]


def read_log(path: Path) -> dict[str, list[tuple[int, float]]]:
    """(step, loss) series of a run's train/log.csv: training and validation loss."""
    rows = list(csv.DictReader(path.open()))
    return {kind: [(int(r["step"]), float(r[f"{kind}_loss"])) for r in rows if r[f"{kind}_loss"]]
            for kind in ("train", "val")}


def sweep_one(lr: float, warmup_steps: int, steps: int, full_steps: int) -> dict[str, Any]:
    """Train one setting for ``steps`` steps; its losses, stability reading and seconds."""
    name = f"lr{lr:g}-warm{warmup_steps}"
    run = open_run(name, SCRATCH / "sweep")
    shutil.rmtree(run.train, ignore_errors=True)
    run.train.mkdir()
    for f in curated_dir().glob("*.json*"):
        shutil.copy(f, run.data / f.name)
    # the same warm-up in steps as the full run; the cosine decay then follows the shorter run
    settings = load_settings("cpu-demo", {"train": {
        "learning_rate": lr, "max_steps": steps, "warmup_ratio": warmup_steps / steps if warmup_steps else 0.0,
        "early_stopping": False, "evals_per_epoch": 4, "log_every": 2}})
    started = time.perf_counter()
    result = train_sft(run, settings, show_plot=False, resume=False, echo=False)
    s = result.summary
    return {"learning_rate": lr, "warmup_steps": warmup_steps, "seconds": round(time.perf_counter() - started, 1),
            "first_val_loss": s["first_val_loss"], "best_val_loss": s["best_val_loss"],
            "train_spike_ratio": s["train_spike_ratio"], "max_val_over_first": s["max_val_over_first"],
            "stable": s["stable"], "losses": read_log(result.log_path), "full_run_steps": full_steps}


def plot(results: list[dict[str, Any]], path: Path) -> Path:
    """Training and validation loss of each setting, side by side."""
    fig, (ax_t, ax_v) = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
    for r in results:
        label = f"lr {r['learning_rate']:g}, warm-up {r['warmup_steps']} steps"
        for ax, kind in ((ax_t, "train"), (ax_v, "val")):
            steps, losses = zip(*r["losses"][kind])
            ax.plot(steps, losses, marker="o" if kind == "val" else None, markersize=3, label=label)
    ax_t.set(title="training loss", xlabel="step", ylabel="loss")
    ax_v.set(title="validation loss", xlabel="step")
    ax_v.legend(fontsize=8)
    for ax in (ax_t, ax_v):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    return path


def main() -> None:
    """Run the sweep, write the JSON and the figure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="steps per setting (the start of the 160-step run)")
    args = parser.parse_args()
    full = load_settings("cpu-demo").train.max_steps
    results = []
    for lr, warm in SETTINGS:
        results.append(sweep_one(lr, warm, args.steps, full))
        r = results[-1]
        print(f"lr {lr:g} warm-up {warm}: val {r['first_val_loss']:.3f} -> {r['best_val_loss']:.3f}, spike "
              f"{r['train_spike_ratio']}, max val/first {r['max_val_over_first']}, stable {r['stable']}, "
              f"{r['seconds']:.0f} s", flush=True)
    write_json(RESULTS, {"profile": "cpu-demo", "steps": args.steps, "settings": results})
    print(f"-> {RESULTS}, {plot(results, FIGURE)}")


if __name__ == "__main__":
    main()
