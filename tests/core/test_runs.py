"""The run directory: folders, metrics merging, and what a missing input says."""
import json

import pytest

from helpers.core.runs import MissingInputError, deep_merge, open_run, read_jsonl, write_jsonl


def test_open_run_makes_the_contract_folders(tmp_path):
    run = open_run("r1", tmp_path)
    for sub in ("data", "train", "ratings", "dpo", "eval", "plots", "executed"):
        assert getattr(run, sub).is_dir()
    assert run.name == "r1"


@pytest.mark.parametrize("bad", ["", "../escape", "a/b", ".hidden", "x" * 65])
def test_bad_run_names_are_rejected(tmp_path, bad):
    with pytest.raises(ValueError, match="run_name"):
        open_run(bad, tmp_path)


def test_update_metrics_deep_merges(tmp_path):
    run = open_run("r", tmp_path)
    run.update_metrics({"profile": "ci", "models": {"base": {"rouge_l": 0.2}}})
    run.update_metrics({"models": {"sft": {"rouge_l": 0.5}, "base": {"n": 10}}})
    data = json.loads(run.metrics_path.read_text())
    assert data == {"profile": "ci", "models": {"base": {"rouge_l": 0.2, "n": 10}, "sft": {"rouge_l": 0.5}}}
    assert deep_merge({"a": {"b": 1}}, {"a": 2}) == {"a": 2}


def test_missing_input_names_the_notebook_to_run(tmp_path):
    run = open_run("r", tmp_path)
    with pytest.raises(MissingInputError, match="run notebook 01_data_curation with run_name='r' first"):
        run.require("data/train.jsonl", "01_data_curation")


def test_jsonl_round_trip(tmp_path):
    rows = [{"a": 1, "t": "ünïcode"}, {"a": 2}]
    assert read_jsonl(write_jsonl(tmp_path / "x.jsonl", rows)) == rows
