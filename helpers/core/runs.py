"""The run directory: the only way notebooks pass results to each other.

```
runs/<name>/
  data/  train/  ratings/  dpo/  eval/  plots/  executed/
  metrics.json   the run's headline numbers (merged into by several notebooks through helpers.core.record)
```
What one notebook leaves for another is named once, in :data:`ARTEFACTS` (its path in the run and the
notebook that makes it); readers ask for it by name with :meth:`RunDir.need`, which says which notebook
to run first when it is missing.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .names import check_run_name

SUBDIRS = ("data", "train", "ratings", "dpo", "eval", "plots", "executed")
SPLITS = ("train", "val", "feedback", "test")
"""The curated splits: train (SFT), val (validation loss), feedback (rating and DPO), test (only ever scored)."""
ARTEFACTS: dict[str, tuple[str, str]] = {
    # name: (path in the run, the notebook that makes it)
    "train_split": ("data/train.jsonl", "01_data_curation"),
    "val_split": ("data/val.jsonl", "01_data_curation"),
    "feedback_split": ("data/feedback.jsonl", "01_data_curation"),
    "test_split": ("data/test.jsonl", "01_data_curation"),
    "catalog": ("data/catalog.json", "01_data_curation"),
    "train_adapter": ("train/adapter", "03_qlora_training"),
    "train_summary": ("train/summary.json", "03_qlora_training"),
    "candidates": ("ratings/candidates.jsonl", "04_human_rating"),
    "ratings_db": ("ratings/ratings.sqlite", "04_human_rating"),
    "preferences": ("ratings/preferences.jsonl", "04_human_rating"),
    "dpo_adapter": ("dpo/adapter", "05_preference_tuning"),
    "dpo_logps": ("dpo/heldout_logps.jsonl", "05_preference_tuning"),
    "eval_generations": ("eval/generations.jsonl", "06_evaluation"),
    "eval_breakdown": ("eval/breakdown.json", "06_evaluation"),
}
"""Every file or folder one notebook leaves for another."""


class MissingInputError(FileNotFoundError):
    """A notebook's input is not in the run directory yet; the message names the notebook to run first."""


@dataclass(frozen=True)
class RunDir:
    """Paths of one run; creating it makes the folders."""

    root: Path

    @property
    def name(self) -> str:
        """The run's name (its folder name)."""
        return self.root.name

    @property
    def data(self) -> Path:
        """Curated splits, quarantine and data card (notebook 01)."""
        return self.root / "data"

    @property
    def train(self) -> Path:
        """SFT adapter, log and summary (notebook 03)."""
        return self.root / "train"

    @property
    def ratings(self) -> Path:
        """Ratings database and exported preference pairs (notebook 04)."""
        return self.root / "ratings"

    @property
    def dpo(self) -> Path:
        """Preference-tuned adapter, log and summary (notebook 05)."""
        return self.root / "dpo"

    @property
    def eval(self) -> Path:
        """Generations and metrics (notebooks 02 and 06)."""
        return self.root / "eval"

    @property
    def plots(self) -> Path:
        """Every PNG the run draws."""
        return self.root / "plots"

    @property
    def executed(self) -> Path:
        """Executed copies of the notebooks (papermill runner)."""
        return self.root / "executed"

    @property
    def metrics_path(self) -> Path:
        """Path of the run's metrics.json."""
        return self.root / "metrics.json"

    def path(self, artefact: str) -> Path:
        """Where an artefact of :data:`ARTEFACTS` lives in this run (whether or not it exists yet)."""
        if artefact not in ARTEFACTS:
            raise KeyError(f"unknown artefact {artefact!r}; known: {', '.join(sorted(ARTEFACTS))}")
        return self.root / ARTEFACTS[artefact][0]

    def has(self, artefact: str) -> bool:
        """Whether the artefact is there: a file, or a folder with something in it."""
        path = self.path(artefact)
        return path.is_file() or (path.is_dir() and any(path.iterdir()))

    def need(self, artefact: str) -> Path:
        """Path of an input artefact, or MissingInputError saying which notebook makes it."""
        path = self.path(artefact)
        if not self.has(artefact):
            raise MissingInputError(
                f"{path} is missing: run notebook {ARTEFACTS[artefact][1]} with run_name='{self.name}' first.")
        return path

    def split_hashes(self) -> dict[str, str]:
        """:func:`file_hash` of each data split present (train, val, test): ties an adapter to the data it saw."""
        return {s: file_hash(self.path(f"{s}_split")) for s in SPLITS if self.has(f"{s}_split")}

    def read_metrics(self) -> dict[str, Any]:
        """The run's metrics.json as a dict ({} if not written yet)."""
        if not self.metrics_path.exists():
            return {}
        return json.loads(self.metrics_path.read_text())


def file_hash(path: Path) -> str:
    """The first 16 hex digits of a file's sha256."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``patch`` merged in; nested dicts merge, other values replace."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def write_json(path: Path, data: Any) -> Path:
    """Write JSON atomically (temp file + rename), so a killed process never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True, default=str)
        fh.write("\n")
    os.replace(tmp, path)
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All records of a JSONL file written by this package."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one record to a JSONL log in a single write (a process killed mid-write leaves at most a half line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def read_log(path: Path) -> list[dict[str, Any]]:
    """The records of a JSONL log appended to by processes that may be killed: a half-written line is skipped."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    """Write records as JSONL atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def open_run(name: str, runs_dir: str | os.PathLike = "../runs") -> RunDir:
    """The run directory ``runs_dir/name``, created with its sub-folders if needed (SettingsError for a bad name)."""
    root = Path(runs_dir).expanduser().resolve() / check_run_name(name)
    for sub in SUBDIRS:
        (root / sub).mkdir(parents=True, exist_ok=True)
    return RunDir(root)


def fork_run(run: RunDir, name: str) -> RunDir:
    """A new run beside ``run`` holding its curated data and settings, not its models: try a change there and
    this run stays as it is. FileExistsError if a run of that name exists."""
    import shutil

    target = run.root.parent / check_run_name(name)
    if target.exists():
        raise FileExistsError(f"{target} exists: choose another name for the new run, or delete that folder")
    shutil.copytree(run.root / "data", target / "data")
    if (run.root / "settings.json").exists():
        shutil.copy2(run.root / "settings.json", target / "settings.json")
    return open_run(name, run.root.parent)
