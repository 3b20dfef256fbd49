"""Profiles and settings validation: bad values fail at once, naming the field."""
import pytest

from helpers.core.config import PROFILES, SettingsError, default_profile, load_settings


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_profile_loads(profile):
    s = load_settings(profile)
    assert s.profile == profile
    assert s.train.lora_r > 0 and s.train.learning_rate > 0


def test_the_default_is_the_gpu_recipe_or_the_cpu_profile_whose_facts_stick(monkeypatch):
    """Issue #18: the learning targets come first, so without a GPU the default is cpu-full (240 steps), not cpu-demo."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_profile() == "cpu-full"
    assert load_settings("").profile == "cpu-full"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_profile() == "gpu"


def test_gpu_profile_is_the_case_study_recipe():
    t = load_settings("gpu").train
    assert (t.lora_r, t.lora_alpha, t.learning_rate, t.batch_size, t.epochs) == (8, 16, 2e-5, 4, 3.0)
    assert load_settings("gpu").model.quantize_4bit


@pytest.mark.parametrize("overrides, field", [
    ({"train": {"lora_r": 0}}, "train.lora_r"),
    ({"train": {"learning_rate": -1e-4}}, "train.learning_rate"),
    ({"train": {"batch_size": 0}}, "train.batch_size"),
    ({"train": {"lora_alpha": -2}}, "train.lora_alpha"),
    ({"train": {"warp_speed": 9}}, "train.warp_speed"),
    ({"train.batch_size": "four"}, "train.batch_size"),
    ({"eval": {"max_new_tokens": 0}}, "eval.max_new_tokens"),
    ({"model": {"compute_dtype": "int3"}}, "model.compute_dtype"),
    ({"data": {"val_fraction": 1.5}}, "data.val_fraction"),
    ({"train": {"learning_rate": float("nan")}}, "train.learning_rate"),
    ({"train": {"early_stopping": 1}}, "train.early_stopping"),
])
def test_bad_values_name_the_field(overrides, field):
    with pytest.raises(SettingsError, match=field.replace(".", r"\.")):
        load_settings("ci", overrides)


def test_unknown_profile_and_group_are_named():
    with pytest.raises(SettingsError, match="unknown profile 'turbo'"):
        load_settings("turbo")
    with pytest.raises(SettingsError, match="unknown settings group 'optimizer'"):
        load_settings("ci", {"optimizer": {"lr": 1}})
    with pytest.raises(SettingsError, match="unknown setting 'learning_rate'"):
        load_settings("ci", {"learning_rate": 1e-4})


def test_overrides_in_nested_flat_and_keyword_form():
    s = load_settings("ci", {"train": {"lora_r": 4}, "eval.batch_size": 3}, train={"lora_alpha": 8})
    assert (s.train.lora_r, s.train.lora_alpha, s.eval.batch_size) == (4, 8, 3)
    assert load_settings("ci", {"train": {"learning_rate": 1}}).train.learning_rate == 1.0  # int -> float
    assert load_settings("ci").train.lora_r == PROFILES["ci"]["train"]["lora_r"]  # profiles are not mutated


def test_settings_serialise_to_json():
    s = load_settings("cpu-demo")
    assert '"profile": "cpu-demo"' in s.to_json()
    assert s.to_dict()["train"]["lora_alpha"] == s.train.lora_alpha


@pytest.mark.parametrize("overrides, field", [
    ({"train": {"seed": 2**32}}, "train.seed"),        # numpy and torch seeds stop at 2**32 - 1
    ({"data": {"seed": 2**40}}, "data.seed"),
    ({"rating": {"seed": -1}}, "rating.seed"),
    ({"eval.seed": 2**32}, "eval.seed"),
    ({"data": {"min_chars": 500, "max_chars": 100}}, "data.min_chars"),
])
def test_values_that_would_fail_later_fail_here_naming_the_field(overrides, field):
    with pytest.raises(SettingsError, match=field.replace(".", r"\.")):
        load_settings("ci", overrides)
    assert load_settings("ci", {"train": {"seed": 2**32 - 1}}).train.seed == 2**32 - 1


@pytest.mark.parametrize("overrides", [["train.lora_r", 4], "train.lora_r=4", 4, ("train", {})])
def test_overrides_that_are_not_a_dict_are_named(overrides):
    with pytest.raises(SettingsError, match="overrides must be a dict"):
        load_settings("ci", overrides)


@pytest.mark.parametrize("phrasings", [{"train": 7}, {"train": 0}, {"train": 3, "test": 4}, {"train": 3, "exam": 1}])
def test_phrasings_out_of_range_are_refused(phrasings):
    with pytest.raises(SettingsError, match=r"data\.phrasings"):
        load_settings("ci", {"data.phrasings": phrasings})


def test_cpu_full_asks_each_fact_in_six_training_wordings():
    settings = load_settings("cpu-full")
    assert settings.data.phrasings["train"] == 6 and settings.train.max_steps == 240
