"""The overfitting watch on synthetic curves: overfit, noisy but fine, plateau."""
from helpers.sft.overfit import OverfitDetector, stability


def feed(detector, train, val):
    fired = [detector.update(step, t, v) for step, (t, v) in enumerate(zip(train, val), start=1)]
    return fired


def test_overfit_is_detected_where_it_began():
    train = [2.0, 1.5, 1.1, 0.8, 0.6, 0.4, 0.3, 0.2]
    val = [2.1, 1.7, 1.4, 1.3, 1.35, 1.42, 1.5, 1.6]
    d = OverfitDetector(patience=3)
    fired = feed(d, train, val)
    assert fired.index(True) == 6  # the third evaluation above the best (step 7)
    assert d.began_at == 5 and d.best_step == 4 and abs(d.best_val - 1.3) < 1e-9
    assert "step 5" in d.message and "step 4" in d.message


def test_noisy_but_improving_is_not_overfitting():
    train = [2.0, 1.8, 1.6, 1.5, 1.4, 1.3, 1.2, 1.1]
    val = [2.0, 1.9, 1.95, 1.7, 1.75, 1.6, 1.65, 1.5]
    d = OverfitDetector(patience=2)
    assert not any(feed(d, train, val))
    assert d.message == ""


def test_plateau_is_not_overfitting():
    train = [1.0] * 8
    val = [1.2, 1.1, 1.1, 1.1005, 1.1002, 1.1004, 1.1003, 1.1001]
    d = OverfitDetector(patience=3)
    assert not any(feed(d, train, val))


def test_rising_validation_with_rising_training_is_not_overfitting():
    """Both curves going up is divergence (learning rate too high), not memorisation."""
    train = [1.0, 0.9, 1.0, 1.2, 1.4, 1.6]
    val = [1.0, 0.9, 1.0, 1.2, 1.4, 1.6]
    assert not any(feed(OverfitDetector(patience=3), train, val))


def test_detection_is_sticky():
    d = OverfitDetector(patience=2)
    feed(d, [1, 0.8, 0.6, 0.4], [1, 0.9, 1.0, 1.1])
    assert d.update(5, 0.3, 0.5) is True  # a late recovery does not unsay it


def _history(train: list[float], evals: list[float]) -> list[dict]:
    return ([{"loss": v, "step": 2 * (i + 1)} for i, v in enumerate(train)]
            + [{"eval_loss": v, "step": 10 * i} for i, v in enumerate(evals)])


def test_a_loss_spike_after_warm_up_is_unstable():
    """The run of issue 18: training loss 2 -> 8 after warm-up, validation 1.77 -> 6.2, then recovery."""
    s = stability(_history([2.0, 1.8, 8.0, 3.0, 1.2], [1.77, 6.2, 0.9]), warmup_steps=2)
    assert s == {"train_spike_ratio": 4.0, "max_val_over_first": 3.503, "stable": False}


def test_a_spike_inside_warm_up_and_a_falling_curve_are_stable():
    s = stability(_history([2.0, 3.5, 1.5, 1.0], [1.7, 1.2, 0.8]), warmup_steps=4)
    assert s["stable"] and s["train_spike_ratio"] == 0.75 and s["max_val_over_first"] == 1.0


def test_validation_above_its_first_value_is_unstable_even_without_a_training_spike():
    assert not stability(_history([2.0, 1.5, 1.2], [1.7, 1.9, 1.1]), warmup_steps=0)["stable"]
    assert stability([], warmup_steps=0)["stable"]  # nothing logged: nothing to flag
