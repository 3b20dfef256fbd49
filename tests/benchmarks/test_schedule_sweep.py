"""The schedule sweep reads the trainer's loss log and draws one curve per setting."""
from __future__ import annotations

from benchmarks.schedule_sweep import plot, read_log
from helpers.sft.trainer import write_log_csv


def test_sweep_reads_the_trainers_log_and_plots_each_setting(tmp_path):
    history = [{"step": 0, "eval_loss": 1.8}, {"step": 2, "loss": 2.0, "learning_rate": 1e-3},
               {"step": 4, "loss": 1.5}, {"step": 4, "eval_loss": 1.2}]
    losses = read_log(write_log_csv(history, tmp_path / "log.csv"))
    assert losses == {"train": [(2, 2.0), (4, 1.5)], "val": [(0, 1.8), (4, 1.2)]}
    figure = plot([{"learning_rate": 3e-3, "warmup_steps": 8, "losses": losses},
                   {"learning_rate": 1e-3, "warmup_steps": 0, "losses": losses}], tmp_path / "sweep.png")
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
