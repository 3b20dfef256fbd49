"""The one setup call: settings travel with the run, one profile per run, workshop identity, and 04-06 refuse an
adapter trained on another base model (no model is loaded in these tests)."""
import json

import pytest
from support.toy_run import add_preferences, make_toy_run

from helpers import session
from helpers.core.config import SettingsError, load_settings
from helpers.core.runs import write_json
from helpers.model.loading import BaseModelMismatch

LATER = ("04_human_rating", "05_preference_tuning", "06_evaluation")


def _start(runs, notebook, profile="", overrides=None, name="demo"):
    said = []
    settings, run = session.start(name, profile, overrides or {}, runs, notebook=notebook, say=said.append)
    return settings, run, said


def test_a_learning_rate_given_to_03_is_what_04_to_06_use_without_retyping(tmp_path):
    first, run, said = _start(tmp_path, "00_setup", "ci")
    assert (run.root / "settings.json").exists() and "written to" in said[0]
    assert first.train.learning_rate == load_settings("ci").train.learning_rate == 3e-3

    tuned, _, said = _start(tmp_path, "03_qlora_training", overrides={"train": {"learning_rate": 1e-4}})
    assert tuned.train.learning_rate == 1e-4
    assert "train.learning_rate 0.003 -> 0.0001" in said[0]  # the one-line note of what this notebook changed

    for notebook in LATER:
        later, _, said = _start(tmp_path, notebook)  # no overrides typed again
        assert later.train.learning_rate == 1e-4 and later.profile == "ci", notebook
        assert "overridden" not in said[0]
    stored = json.loads((run.root / "settings.json").read_text())
    assert stored["settings"]["train"]["learning_rate"] == 1e-4
    assert [h["notebook"] for h in stored["history"]] == ["00_setup", "03_qlora_training"]


def test_the_same_overrides_again_change_nothing_and_a_new_one_adds_to_the_rest(tmp_path):
    _start(tmp_path, "00_setup", "ci", {"train.max_steps": 40})  # as make run --set passes to every notebook
    again, _, said = _start(tmp_path, "01_data_curation", "ci", {"train.max_steps": 40})
    assert again.train.max_steps == 40 and "overridden" not in said[0]
    more, _, _ = _start(tmp_path, "03_qlora_training", "ci", {"train": {"lora_r": 8}})
    assert (more.train.max_steps, more.train.lora_r) == (40, 8)


def test_a_run_keeps_its_profile(tmp_path):
    _start(tmp_path, "00_setup", "ci")
    with pytest.raises(SettingsError, match="run 'demo' was started with profile 'ci'.*new run_name"):
        _start(tmp_path, "03_qlora_training", "cpu-demo")
    assert _start(tmp_path, "03_qlora_training", "ci")[0].profile == "ci"


def test_an_unusable_settings_file_is_named(tmp_path):
    _, run, _ = _start(tmp_path, "00_setup", "ci")
    (run.root / "settings.json").write_text('{"settings": {"profile": "ci", "train": {"nonsense": 1}}}')
    with pytest.raises(SettingsError, match="settings.json cannot be used.*train.nonsense.*delete it"):
        _start(tmp_path, "01_data_curation")


def test_bad_overrides_write_nothing(tmp_path):
    with pytest.raises(SettingsError, match="train.learning_rate"):
        _start(tmp_path, "00_setup", "ci", {"train": {"learning_rate": -1}})
    assert not (tmp_path / "demo" / "settings.json").exists()


def test_workshop_identity_and_one_memory_cap_per_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PARTICIPANT", "ada")
    monkeypatch.setattr(session, "_capped", [])
    caps = []
    monkeypatch.setattr(session, "apply_memory_cap", lambda settings: caps.append(settings.workshop.seats) or 0.2)
    room = {"workshop": {"lock_dir": ""}, "rating": {"store_path": ""}}
    settings, run, _ = _start(tmp_path, "00_setup", "workshop", room)
    assert run.root == tmp_path / "ada" / "demo" and (run.root / "settings.json").exists()
    assert settings.rating.rater == "ada"
    settings, run, _ = _start(tmp_path, "04_human_rating", "workshop", room)
    assert run.root == tmp_path / "ada" / "demo" and settings.rating.rater == "ada"
    assert caps == [10], "the cap is applied once per kernel"
    stored = json.loads((run.root / "settings.json").read_text())
    assert stored["settings"]["rating"]["rater"] == "", "the participant's identity is not written into the run"


def test_a_participants_later_notebooks_with_the_runs_profile_find_their_own_run(tmp_path, monkeypatch):
    """profile='' (every notebook's default) means the run's profile: in a workshop, the participant's own run."""
    monkeypatch.setenv("COURSE_PARTICIPANT", "ada")
    monkeypatch.setattr(session, "_capped", [])
    monkeypatch.setattr(session, "apply_memory_cap", lambda settings: None)
    room = {"workshop": {"lock_dir": str(tmp_path / "locks")}, "rating": {"store_path": ""},
            "train": {"learning_rate": 1e-4}}
    _start(tmp_path, "00_setup", "workshop", room)
    for notebook in ("03_qlora_training", *LATER):
        settings, run, _ = _start(tmp_path, notebook)
        assert run.root == tmp_path / "ada" / "demo", notebook
        assert (settings.profile, settings.train.learning_rate, settings.rating.rater) == ("workshop", 1e-4, "ada")
        assert settings.workshop.lock_dir == str(tmp_path / "locks")  # still queueing for the room's GPU
    assert not (tmp_path / "demo").exists(), "a later notebook started a second, non-workshop run"


# ---------------------------------------------------------------- 04-06 refuse an adapter of another base model
@pytest.fixture
def run_on_other_base(tmp_path):
    """A toy run whose SFT and DPO adapters say they were trained on another base model than the settings load."""
    run = make_toy_run(tmp_path / "runs", "other")
    add_preferences(run)
    for folder in (run.train / "adapter", run.dpo / "adapter"):
        write_json(folder / "adapter_config.json", {})
        write_json(folder / "metadata.json", {"base_model": "HuggingFaceTB/SmolLM2-360M-Instruct",
                                              "resolved_base_model": "HuggingFaceTB/SmolLM2-360M-Instruct"})
    return run


def _no_model(monkeypatch):
    import helpers.model.loading as loading

    def refuse(*a, **k):
        raise AssertionError("a model was loaded before the adapter's base model was checked")
    for name in ("load_model", "load_tokenizer", "load_from_settings"):
        monkeypatch.setattr(loading, name, refuse)


def test_04_refuses_an_adapter_trained_on_another_base(run_on_other_base, monkeypatch):
    from helpers.rating.candidates import ensure_candidates

    _no_model(monkeypatch)
    with pytest.raises(BaseModelMismatch, match="SmolLM2-360M-Instruct.*these settings load 'default'.*notebook 03"):
        ensure_candidates(run_on_other_base, load_settings("ci"))


def test_05_refuses_an_adapter_trained_on_another_base(run_on_other_base, monkeypatch):
    import helpers.dpo.trainer as dpo

    _no_model(monkeypatch)
    monkeypatch.setattr(dpo, "load_model", lambda *a, **k: pytest.fail("model loaded before the check"))
    with pytest.raises(BaseModelMismatch, match="trained on base model 'HuggingFaceTB/SmolLM2-360M-Instruct'"):
        dpo.train_dpo(run_on_other_base, load_settings("ci", {"dpo": {"min_pairs": 4}}), show_plot=False)


def test_06_refuses_an_adapter_trained_on_another_base(run_on_other_base, monkeypatch):
    from helpers.eval.evaluation import evaluate_run

    _no_model(monkeypatch)
    with pytest.raises(BaseModelMismatch, match="model.base_model='HuggingFaceTB/SmolLM2-360M-Instruct'"):
        evaluate_run(run_on_other_base, load_settings("ci"), progress=False)


def test_the_base_the_adapter_was_trained_on_is_accepted(run_on_other_base):
    from helpers.model.loading import trained_adapter

    run = run_on_other_base
    assert trained_adapter(run, "train_adapter", "HuggingFaceTB/SmolLM2-360M-Instruct") == run.train / "adapter"
    (run.train / "adapter" / "metadata.json").unlink()  # an adapter made elsewhere records nothing to check
    assert trained_adapter(run, "train_adapter", "default") == run.train / "adapter"


def test_a_notebook_prints_its_measured_time_from_the_profiles_baseline(monkeypatch, tmp_path):
    import helpers.eval.regression as regression
    from helpers.session import measured_time

    monkeypatch.setattr(regression, "BASELINES", tmp_path)
    assert "not measured yet" in measured_time("ci", "03_qlora_training")
    (tmp_path / "ci.json").write_text(json.dumps({"source_run": "r7", "course": {
        "wall_seconds": 600, "notebook_seconds": {"03_qlora_training": 90.0}}}))
    assert measured_time("ci", "03_qlora_training") == (
        "time: about 1.5 min for this notebook under profile ci on 2 CPU cores (measured in run 'r7'; the whole "
        "course 10.0 min)")
