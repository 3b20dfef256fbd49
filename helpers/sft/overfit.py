"""Overfitting watch: validation loss rising for several evaluations while training loss falls."""
from __future__ import annotations

from dataclasses import dataclass, field


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
