"""GPU turns: seat plans and caps, fit decisions with a smaller setting, the memory cap."""
from pathlib import Path

import pytest

from helpers.core.config import load_settings
from helpers.model.memory import KNOWN_SHAPES
from helpers.model.turns import (WorkshopFitError, check_fit, plan_seats, require_fit, seats_per_gpu, train_setup,
                                 workshop_plan)

REPO = Path(__file__).resolve().parents[2]
LLAMA_7B = KNOWN_SHAPES["Llama-2-7B"]


def test_plan_splits_the_gpu_into_contexts_headroom_and_slots():
    plan = plan_seats(80, seats=10, need_gb=6.0, context_gb=0.5, headroom=0.1)
    assert plan.usable_gb == pytest.approx(80 * 0.9 - 10 * 0.5)  # 67 GB
    assert plan.slots == 10 and plan.cap_gb == pytest.approx(6.7) and plan.fits
    assert plan.fraction == pytest.approx(6.7 / 80)

    crowded = plan_seats(24, seats=12, need_gb=6.0)  # 21.6 - 6 = 15.6 GB: two jobs at once, the rest queue
    assert crowded.slots == 2 and crowded.cap_gb == pytest.approx(7.8) and crowded.fits

    fixed = plan_seats(24, seats=12, need_gb=6.0, slots=3)  # the host chose 3 slots: each gets 5.2 GB, too little
    assert fixed.cap_gb == pytest.approx(5.2) and not fixed.fits

    assert not plan_seats(8, seats=30, need_gb=1.0).fits  # 30 CUDA contexts alone exceed the GPU
    with pytest.raises(ValueError, match="seats at least 1"):
        plan_seats(24, seats=0, need_gb=1.0)


@pytest.mark.parametrize("gpu, need", [(24, 1.3), (40, 5.8), (48, 9.7), (80, 5.8), (80, 41.9), (24, 30.0)])
def test_seats_per_gpu_is_the_largest_room_where_everyone_trains_at_once(gpu, need):
    n = seats_per_gpu(gpu, need)
    if n:
        assert plan_seats(gpu, n, need).slots == n
    assert plan_seats(gpu, n + 1, need).slots < n + 1


def test_train_setup_describes_the_settings():
    s = load_settings("workshop", {"train": {"batch_size": 2, "lora_r": 16, "target_modules": ["q_proj", "v_proj"]},
                                   "data": {"max_length": 384}})
    setup = train_setup(s)
    assert (setup.method, setup.batch_size, setup.seq_len, setup.lora_r, setup.dtype_bytes) == ("qlora", 2, 384, 16, 2)
    assert setup.lora_targets == ("q_proj", "v_proj")
    assert train_setup(load_settings("ci", {"model": {"quantize_4bit": False}})).method == "lora"


def _room(**workshop):
    return {"workshop": {"gpu_memory_gb": 48.0, "seats": 4, **workshop}}


def test_a_fitting_plan_passes_and_an_oversized_one_names_a_smaller_setting_that_fits():
    ok = check_fit(load_settings("workshop", _room()), LLAMA_7B)
    assert ok.fits and ok.plan.cap_gb >= ok.plan.need_gb

    big = load_settings("workshop", {**_room(gpu_slots=4), "model": {"quantize_4bit": False},
                                     "train": {"batch_size": 16}, "data": {"max_length": 1024}})
    check = check_fit(big, LLAMA_7B)
    assert not check.fits and check.plan.need_gb > check.plan.cap_gb
    assert "train.batch_size=" in check.message and check.suggestion
    # the suggestion really fits, and keeps the effective batch
    smaller = load_settings("workshop", {**_room(gpu_slots=4), "model": {"quantize_4bit": False},
                                         "train": {"batch_size": 16}, "data": {"max_length": 1024}, **check.suggestion})
    assert check_fit(smaller, LLAMA_7B).fits
    assert smaller.train.batch_size * smaller.train.grad_accum == 16


def test_a_larger_batch_does_not_buy_a_larger_share():
    room = workshop_plan(load_settings("workshop", _room()), LLAMA_7B)
    greedy = workshop_plan(load_settings("workshop", {**_room(), "train": {"batch_size": 32}}), LLAMA_7B)
    assert greedy.slots == room.slots and greedy.cap_gb == pytest.approx(room.cap_gb)
    assert greedy.need_gb > room.need_gb


def test_nothing_fits_says_what_to_change():
    check = check_fit(load_settings("workshop", {"workshop": {"gpu_memory_gb": 8.0, "seats": 30}}), LLAMA_7B)
    assert not check.fits and "fewer seats" in check.message
    huge = load_settings("workshop", {"workshop": {"gpu_memory_gb": 16.0, "seats": 2}, "model": {"base_model": "x"}})
    check = check_fit(huge, KNOWN_SHAPES["Llama-2-70B"])
    assert not check.fits and "smaller model.base_model" in check.message


def test_require_fit_raises_only_in_a_workshop(monkeypatch):
    import helpers.model.turns as turns
    monkeypatch.setattr(turns, "model_shape", lambda settings: KNOWN_SHAPES["Llama-2-13B"])
    crowded = load_settings("workshop", {"workshop": {"gpu_memory_gb": 24.0, "seats": 10, "gpu_slots": 5}})
    with pytest.raises(WorkshopFitError, match="your share is"):
        require_fit(crowded)
    assert require_fit(load_settings("ci")) is None  # one person, own machine: nothing to enforce


def test_no_gpu_means_no_cap():
    check = check_fit(load_settings("workshop"))  # this test machine has no GPU and no gpu_memory_gb
    assert check.fits and check.plan is None and "CPU" in check.message


def test_the_guides_example_message_is_what_the_check_says():
    s = load_settings("workshop", {"workshop": {"gpu_memory_gb": 24.0, "seats": 12}, "train": {"batch_size": 16},
                                   "data": {"max_length": 512}})
    message = check_fit(s, LLAMA_7B).message
    assert message.startswith("Planned training needs about 55.7 GB but your share is 15.6 GB")
    assert message.endswith("Try train.batch_size=2, train.grad_accum=8 (about 10.6 GB).")
    guide = " ".join((REPO / "README.md").read_text().split())
    assert " ".join(message.split()) in guide


def test_the_cap_is_set_as_a_fraction_of_the_gpu(monkeypatch):
    import torch

    import helpers.model.turns as turns
    fractions = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "set_per_process_memory_fraction", lambda f, device=None: fractions.append(f))
    monkeypatch.setattr(turns, "model_shape", lambda settings: LLAMA_7B)
    settings = load_settings("workshop", {"workshop": {"gpu_memory_gb": 48.0, "seats": 4, "gpu_slots": 2}})
    assert turns.apply_memory_cap(settings) == pytest.approx((48 * 0.9 - 4 * 0.5) / 2 / 48)
    assert fractions == [pytest.approx(20.6 / 48)]
    assert turns.apply_memory_cap(load_settings("gpu")) is None  # one person per GPU: no cap
