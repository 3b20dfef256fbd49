"""The run directory: folders, metrics merging, the table of artefacts, and what a missing input says."""
from pathlib import Path

import pytest

from helpers.core.runs import ARTEFACTS, MissingInputError, deep_merge, file_hash, open_run, read_jsonl, write_jsonl


def test_open_run_makes_the_contract_folders(tmp_path):
    run = open_run("r1", tmp_path)
    for sub in ("data", "train", "ratings", "dpo", "eval", "plots", "executed"):
        assert getattr(run, sub).is_dir()
    assert run.name == "r1"


@pytest.mark.parametrize("bad", ["", "../escape", "a/b", ".hidden", "x" * 65])
def test_bad_run_names_are_rejected(tmp_path, bad):
    with pytest.raises(ValueError, match="run_name"):
        open_run(bad, tmp_path)


def test_deep_merge_merges_dicts_and_replaces_the_rest():
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}) == {"a": {"b": 3, "c": 2}}
    assert deep_merge({"a": {"b": 1}}, {"a": 2}) == {"a": 2}


def test_missing_input_names_the_notebook_to_run(tmp_path):
    run = open_run("r", tmp_path)
    with pytest.raises(MissingInputError, match="run notebook 01_data_curation with run_name='r' first"):
        run.need("train_split")
    (run.train / "adapter").mkdir()  # an empty folder is not an adapter yet
    with pytest.raises(MissingInputError, match="train/adapter is missing: run notebook 03_qlora_training"):
        run.need("train_adapter")
    (run.train / "adapter" / "adapter_config.json").write_text("{}")
    assert run.need("train_adapter") == run.train / "adapter" and run.has("train_adapter")
    with pytest.raises(KeyError, match="unknown artefact 'adapter'"):
        run.need("adapter")


def test_every_artefact_names_a_notebook_that_exists(repo):
    notebooks = {p.stem for p in (repo / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    for name, (path, producer) in ARTEFACTS.items():
        assert producer in notebooks, f"artefact {name} ({path}) names notebook {producer}, which does not exist"
        assert not Path(path).is_absolute() and ".." not in Path(path).parts, name


def test_split_hashes_tie_a_run_to_its_data(tmp_path):
    run = open_run("r", tmp_path)
    write_jsonl(run.data / "train.jsonl", [{"a": 1}])
    write_jsonl(run.data / "test.jsonl", [{"a": 2}])
    hashes = run.split_hashes()
    assert set(hashes) == {"train", "test"} and hashes["train"] == file_hash(run.data / "train.jsonl")
    assert len(hashes["train"]) == 16 and hashes["train"] != hashes["test"]


def test_jsonl_round_trip(tmp_path):
    rows = [{"a": 1, "t": "ünïcode"}, {"a": 2}]
    assert read_jsonl(write_jsonl(tmp_path / "x.jsonl", rows)) == rows


def test_a_fork_has_the_data_and_settings_but_no_models(tmp_path):
    from helpers.core.runs import fork_run

    run = open_run("first", tmp_path)
    write_jsonl(run.path("train_split"), [{"id": "a"}])
    (run.root / "settings.json").write_text("{}")
    (run.path("train_adapter") / "adapter_model.safetensors").parent.mkdir(parents=True)
    (run.path("train_adapter") / "adapter_model.safetensors").write_bytes(b"weights")
    fork = fork_run(run, "second")
    assert fork.root == tmp_path / "second" and read_jsonl(fork.need("train_split")) == [{"id": "a"}]
    assert (fork.root / "settings.json").read_text() == "{}" and not fork.has("train_adapter")
    with pytest.raises(FileExistsError, match="second"):
        fork_run(run, "second")
