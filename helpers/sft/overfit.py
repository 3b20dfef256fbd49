"""Reading the loss curves: the overfitting watch (validation loss rising while training loss falls) and the
stability check (no loss spike after warm-up, no validation loss above the first one)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SPIKE_RATIO = 1.5


@dataclass
class OverfitDetector:
    """Feed it each evaluation; it says when overfitting began and whether to stop.

    Overfitting is declared when validation loss has risen above its best value for ``patience``
    evaluations in a row while the (smoothed) training loss over the same span went down. A noisy
    single rise, or a plateau where both curves stay flat, is not overfitting.
    """

    patience: int = 3
    min_delta: float = 1e-3
    history: list[tuple[int, float, float]] = field(default_factory=list)
    best_step: int | None = None
    best_val: float = float("inf")
    began_at: int | None = None

    def update(self, step: int, train_loss: float, val_loss: float) -> bool:
        """Record one evaluation; True once overfitting is detected (and from then on)."""
        self.history.append((step, train_loss, val_loss))
        if val_loss < self.best_val - self.min_delta:
            self.best_val, self.best_step = val_loss, step
            if self.began_at is None:
                return False
        if self.began_at is not None:
            return True
        since_best = [h for h in self.history if self.best_step is not None and h[0] > self.best_step]
        if len(since_best) < self.patience:
            return False
        window = since_best[-self.patience:]
        rising = all(v > self.best_val + self.min_delta for _, _, v in window) and window[-1][2] >= window[0][2]
        best_train = next(t for s, t, _ in self.history if s == self.best_step)
        train_falling = window[-1][1] < best_train - self.min_delta
        if rising and train_falling:
            self.began_at = since_best[0][0]
            return True
        return False

    @property
    def message(self) -> str:
        """A plain-language account for the learner (empty while all is well)."""
        if self.began_at is None:
            return ""
        return (f"Overfitting: since step {self.began_at} the validation loss has risen while the training loss "
                f"kept falling. The model is memorising the training examples instead of learning what carries "
                f"over to new questions. The adapter kept is the one from step {self.best_step} "
                f"(validation loss {self.best_val:.3f}).")


def stability(history: list[dict[str, Any]], warmup_steps: int) -> dict[str, Any]:
    """Was training stable? The largest training loss after warm-up against the first logged one (a spike above
    ``SPIKE_RATIO`` times it is unstable), and the largest validation loss against the first (never above it)."""
    train = [(e["step"], e["loss"]) for e in history if "loss" in e and "step" in e]
    evals = [e["eval_loss"] for e in history if "eval_loss" in e]
    after = [loss for step, loss in train if step > warmup_steps]
    spike = max(after) / train[0][1] if train and after else None
    val = max(evals) / evals[0] if evals else None
    return {"train_spike_ratio": None if spike is None else round(spike, 3),
            "max_val_over_first": None if val is None else round(val, 3),
            "stable": (spike is None or spike <= SPIKE_RATIO) and (val is None or val <= 1.0)}
