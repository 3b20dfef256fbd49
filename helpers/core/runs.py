"""The run directory: the only way notebooks pass results to each other.

```
runs/<name>/
  data/  train/  ratings/  dpo/  eval/  plots/  executed/
  metrics.json   the run's headline numbers (merged into by several notebooks)
```
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUBDIRS = ("data", "train", "ratings", "dpo", "eval", "plots", "executed")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


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

    def require(self, relative: str, produced_by: str) -> Path:
        """Path of an input file, or MissingInputError saying which notebook makes it."""
        path = self.root / relative
        if not path.exists():
            raise MissingInputError(
                f"{path} is missing: run notebook {produced_by} with run_name='{self.name}' first.")
        return path

    def read_metrics(self) -> dict[str, Any]:
        """The run's metrics.json as a dict ({} if not written yet)."""
        if not self.metrics_path.exists():
            return {}
        return json.loads(self.metrics_path.read_text())

    def update_metrics(self, patch: dict[str, Any]) -> dict[str, Any]:
        """Deep-merge ``patch`` into metrics.json (atomically) and return the result."""
        merged = deep_merge(self.read_metrics(), patch)
        write_json(self.metrics_path, merged)
        return merged


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
    """The run directory ``runs_dir/name``, created with its sub-folders if needed."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"run_name {name!r} must be 1-64 letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit")
    root = Path(runs_dir).expanduser().resolve() / name
    for sub in SUBDIRS:
        (root / sub).mkdir(parents=True, exist_ok=True)
    return RunDir(root)
