"""`make bench`: training, MFU, generation and curation benchmarks in one run, printed and written as JSON.

    .venv/bin/python -m benchmarks [--quick] [--steps N] [--variants ours trl_defaults ...]

Every training variant and the generation benchmark run in a fresh process (same environment), so each
peak memory is its own. The matmul peak is measured in this process before and after them (the better
of the two counts), with the same thread count.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from .bench_training import VARIANTS
from .data import REPO, SCRATCH
from .flops import flops_per_token, matmul_params, matmul_peak, mfu

RESULTS = REPO / "benchmarks" / "results.json"
REQUIRED = {"speedup_vs_trl_defaults": (int, float), "speedup_vs_trl_tuned": (int, float), "mfu": (int, float),
            "batched_generation_speedup": (int, float),
            "training": dict, "flops": dict, "generation": dict, "curation": dict, "machine": dict, "levers": list,
            "targets": dict}
TARGETS = {"speedup_vs_trl_defaults": 2.0, "mfu": 0.5, "batched_generation_speedup": 4.0}
LOSS_TOLERANCE = 0.1  # held-out loss difference (nats) still counted as noise after a few steps
LEVERS = {"ours_gradient_checkpointing": "no gradient checkpointing", "ours_full_logits": "logits only where a target follows",
          "ours_random_order": "length-grouped, left-padded batches", "ours_one_thread": "all cores (threads)",
          "ours_lora_dropout": "no LoRA dropout"}
QUICK = {"steps": 2, "val": 8, "generation_examples": 8, "variants": ["ours", "trl_defaults", "trl_tuned"]}
FULL = {"steps": 16, "val": 16, "generation_examples": 48, "variants": list(VARIANTS)}


def check_results(results: dict[str, Any]) -> None:
    """Fail, naming the key, when the results lack a required key or it has the wrong type."""
    for key, kind in REQUIRED.items():
        if key not in results:
            raise ValueError(f"benchmarks/results.json: missing key '{key}'")
        if not isinstance(results[key], kind) or isinstance(results[key], bool):
            raise ValueError(f"benchmarks/results.json: '{key}' should be {kind}, got {type(results[key]).__name__}")


def _subprocess(module: str, args: list[str], out: Path) -> dict[str, Any]:
    """Run ``python -m module args --out out`` in a fresh process and read its JSON."""
    env = {**os.environ, "TQDM_DISABLE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    cmd = [sys.executable, "-m", module, *args, "--out", str(out)]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr.strip()[-2000:]}")
    print("  " + done.stdout.strip().splitlines()[-1], flush=True)
    return json.loads(out.read_text())


def lever_rows(training: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per lever: our tokens/s over the tokens/s with that lever undone (and the memory it costs)."""
    ours = training["ours"]
    return [{"lever": LEVERS[v], "ablation": v, "tokens_per_second_without": training[v]["tokens_per_second"],
             "speedup_from_lever": ours["tokens_per_second"] / training[v]["tokens_per_second"],
             "peak_memory_mb_without": training[v]["peak_memory_mb"]}
            for v in LEVERS if v in training]


def flop_figures(ours: dict[str, Any], peak: float) -> dict[str, Any]:
    """FLOPs per useful token of the default model with the cpu-demo adapter, and the MFU they give."""
    from transformers import AutoConfig

    from helpers.core.config import load_settings
    from helpers.model.loading import resolve_model
    from helpers.model.memory import shape_from_config

    settings = load_settings("cpu-demo")
    shape = shape_from_config(AutoConfig.from_pretrained(resolve_model(settings.model.base_model)),
                              settings.model.base_model)
    count = flops_per_token(shape, settings.train.lora_r, ours["mean_sequence_tokens"],
                            head_share=ours["target_token_share"])
    return {"shape": shape.__dict__, "matmul_params_N": matmul_params(shape), "lora_rank": settings.train.lora_r,
            "mean_context_T": ours["mean_sequence_tokens"], "per_token": count.as_dict(),
            "counted": "4N (N = matmul weights incl. the output head, every useful token) + 6N_L (adapter) + "
                       "12*L*d*T (attention, T = mean non-padding sequence length); useful = non-padding tokens",
            "achieved_flops": ours["tokens_per_second"] * count.total,
            "mfu": mfu(ours["tokens_per_second"], count.total, peak),
            "mfu_executed": mfu(ours["tokens_per_second"], count.executed, peak),
            "mfu_executed_note": "the output head counted only for tokens that carry loss (our path skips the rest; "
                                 "a lower bound of the head work it does)"}


def summarise(training: dict[str, dict[str, Any]], generation: dict[str, Any], curation: dict[str, Any],
              peaks: list[dict[str, float]], flops: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """The results file: headline ratios beside the raw figures they come from, and the targets."""
    ours, trl, tuned = training["ours"], training.get("trl_defaults"), training.get("trl_tuned")
    speedup = ours["tokens_per_second"] / trl["tokens_per_second"] if trl else float("nan")
    speedup_tuned = ours["tokens_per_second"] / tuned["tokens_per_second"] if tuned else float("nan")
    loss_gap = abs(ours["heldout_loss"] - trl["heldout_loss"]) if trl else float("nan")
    results = {
        "speedup_vs_trl_defaults": speedup, "speedup_vs_trl_tuned": speedup_tuned, "mfu": flops["mfu"],
        "batched_generation_speedup": generation["batched_generation_speedup"],
        "training": {**training, "loss_match": {"heldout_loss_gap": loss_gap, "tolerance": LOSS_TOLERANCE,
                                                "within_noise": bool(loss_gap <= LOSS_TOLERANCE)}},
        "levers": lever_rows(training), "flops": flops, "generation": generation, "curation": curation,
        "machine": {"cpu_count": os.cpu_count(), "threads": torch.get_num_threads(), "platform": platform.platform(),
                    "torch": torch.__version__, "load_average": os.getloadavg(),
                    "matmul_peak_flops": max(p["peak_flops"] for p in peaks), "matmul_peak_rounds": peaks},
        "targets": {k: {"target": v, "met": bool(res >= v)} for k, v, res in (
            ("speedup_vs_trl_defaults", TARGETS["speedup_vs_trl_defaults"], speedup),
            ("mfu", TARGETS["mfu"], flops["mfu"]),
            ("batched_generation_speedup", TARGETS["batched_generation_speedup"],
             generation["batched_generation_speedup"]))},
        "settings": args,
        "notes": ["TRL runs with bf16=False: SFTConfig defaults to bf16=True, which on this CPU is about 20x slower "
                  "than float32; everything else not listed in a TRL variant's description is SFTConfig's default",
                  "TRL casts the LoRA weights of a 4-bit base to bfloat16 (its QLoRA default); left as is",
                  "tokens/s counts non-padding tokens only, over the steps after the first (warm-up) step",
                  "peak memory = peak resident set of the variant's own process, model loading included"],
    }
    check_results(results)
    return results


def report(results: dict[str, Any]) -> str:
    """A plain-text table of the results, for the terminal."""
    tr = results["training"]
    lines = [f"matmul peak: {results['machine']['matmul_peak_flops'] / 1e9:.1f} GFLOP/s on "
             f"{results['machine']['threads']} threads (load average {results['machine']['load_average'][0]:.1f})",
             f"{'variant':30s} {'tokens/s':>9s} {'peak MB':>8s} {'held-out loss':>14s} {'last train loss':>16s}"]
    for name, row in tr.items():
        if name != "loss_match":
            lines.append(f"{name:30s} {row['tokens_per_second']:9.1f} {row['peak_memory_mb']:8.0f} "
                         f"{row['heldout_loss']:14.4f} {row['final_train_loss']:16.4f}")
    for row in results["levers"]:
        lines.append(f"lever {row['lever']:40s} {row['speedup_from_lever']:.2f}x")
    f = results["flops"]
    lines += [f"FLOPs per useful token {f['per_token']['total'] / 1e6:.0f} M ({f['counted']})",
              f"MFU {results['mfu']:.1%} (head only where loss is taken: {f['mfu_executed']:.1%})",
              f"generation: batched {results['generation']['batched_tokens_per_second']:.1f} tokens/s vs one at a "
              f"time {results['generation']['single_tokens_per_second']:.1f}; same answers "
              f"{results['generation']['same_answers']}/{results['generation']['examples']}",
              f"curation: {results['curation']['seconds']} s for {results['curation']['raw_records']} raw records",
              f"held-out loss gap ours vs TRL: {tr['loss_match']['heldout_loss_gap']:.4f} "
              f"(within noise: {tr['loss_match']['within_noise']})"]
    for key, t in results["targets"].items():
        lines.append(f"{key}: {results[key]:.2f} (target {t['target']}: {'met' if t['met'] else 'NOT met'})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: run every benchmark, print the table, write benchmarks/results.json."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: 2 steps, ours and TRL only, 8 generations")
    ap.add_argument("--steps", type=int, help="training steps per variant (the first is warm-up, not timed)")
    ap.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), help="training variants to run")
    ap.add_argument("--out", type=Path, default=RESULTS)
    a = ap.parse_args(argv)
    cfg = dict(QUICK if a.quick else FULL)
    cfg.update({k: v for k, v in (("steps", a.steps), ("variants", a.variants)) if v})
    if "ours" not in cfg["variants"]:
        cfg["variants"] = ["ours", *cfg["variants"]]
    started, work = time.perf_counter(), SCRATCH / "bench"
    work.mkdir(parents=True, exist_ok=True)
    print("curation (and the curated examples the other benchmarks use)", flush=True)
    curation = _subprocess("benchmarks.bench_curation", ["--tokenizer"], work / "curation.json")
    from .data import curated_dir

    curated_dir()
    peaks = [matmul_peak()]
    training = {}
    for variant in cfg["variants"]:
        print(f"training: {variant} ({cfg['steps']} steps)", flush=True)
        training[variant] = _subprocess("benchmarks.bench_training", ["--variant", variant, "--steps",
                                        str(cfg["steps"]), "--val", str(cfg["val"])], work / f"train-{variant}.json")
    print("generation: batched and one at a time", flush=True)
    generation = _subprocess("benchmarks.bench_generation", ["--examples", str(cfg["generation_examples"])],
                             work / "generation.json")
    peaks.append(matmul_peak())
    peak = max(p["peak_flops"] for p in peaks)
    results = summarise(training, generation, curation, peaks, flop_figures(training["ours"], peak),
                        {**cfg, "quick": a.quick})
    results["seconds"] = round(time.perf_counter() - started, 1)
    a.out.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    print(f"written to {a.out} in {results['seconds']} s")
    return results


if __name__ == "__main__":
    main()
