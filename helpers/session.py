"""The one setup call of every notebook: settings into and out of the run, workshop identity, the memory cap.

    settings, run = start(run_name, profile, overrides, runs_dir, notebook="03_qlora_training")

* **Settings travel with the run.** The first notebook run for a run name writes the resolved settings to
  ``runs/<name>/settings.json``. Every later call, in any notebook, reads them from there, applies that
  notebook's own ``overrides`` on top, says in one line what they changed, and writes the result back: a
  learning rate changed in notebook 03 is what 04, 05 and 06 use, without typing it again.
* **One profile per run.** ``profile=""`` means the run's profile. Naming another profile than the one the
  run was started with is refused (a SettingsError saying what to do): mixing profiles in one run would
  mix budgets and baselines. Start a new ``run_name`` for another profile.
* **Workshop identity.** In a workshop (``workshop.seats`` > 1) the run folder is the participant's own,
  ``runs/<participant>/<run>``, ratings are made under the participant's name, and PyTorch's allocator is
  capped at the participant's share of the GPU, once per kernel.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .core.config import Settings, SettingsError, changes, load_settings, with_overrides
from .core.names import participant_name
from .core.runs import RunDir, open_run, write_json
from .model.turns import apply_memory_cap
from .workshop.participants import participant_session

SETTINGS_FILE = "settings.json"
_capped: list[float | None] = []  # the memory cap applied in this kernel (at most one entry)


def settings_path(run: RunDir) -> Path:
    """Where a run keeps its settings."""
    return run.root / SETTINGS_FILE


def read_run_settings(run: RunDir) -> tuple[Settings, list[dict[str, Any]]]:
    """The settings a run keeps and the history of who changed them; SettingsError naming the file if unusable."""
    path = settings_path(run)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        values = dict(stored["settings"])
        profile = values.pop("profile")
        return load_settings(profile, values), list(stored.get("history", []))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SettingsError(f"{path} cannot be used ({exc}): delete it to start the run's settings afresh from "
                            "this notebook's profile and overrides, or choose a new run_name") from exc


def write_run_settings(run: RunDir, settings: Settings, history: list[dict[str, Any]]) -> Path:
    """Write the run's settings and their history (atomically)."""
    return write_json(settings_path(run), {"settings": settings.to_dict(), "history": history})


def resolve_settings(run: RunDir, profile: str, overrides: dict[str, Any] | None, notebook: str,
                     say: Callable[[str], None] = print) -> Settings:
    """The run's settings with this notebook's overrides on top, kept in settings.json (see the module docstring)."""
    path = settings_path(run)
    stamp = {"notebook": notebook or "?", "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if not path.exists():
        settings = load_settings(profile or None, overrides)
        write_run_settings(run, settings, [{**stamp, "overrides": overrides or {}}])
        say(f"settings: profile {settings.profile}, written to {path} for the notebooks that follow")
        return settings
    stored, history = read_run_settings(run)
    if profile and profile != stored.profile:
        raise SettingsError(f"run '{run.name}' was started with profile '{stored.profile}' ({path}); this notebook "
                            f"asks for '{profile}'. Set profile='' (or '{stored.profile}') to continue this run, "
                            f"or choose a new run_name for a '{profile}' run.")
    settings = with_overrides(stored, overrides or {})
    changed = changes(stored, settings)
    if changed:
        write_run_settings(run, settings, history + [{**stamp, "overrides": overrides or {}}])
        shown = ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in changed.items())
        say(f"settings: the run's (profile {settings.profile}, {path.name}), overridden here and kept for the "
            f"notebooks that follow: {shown}")
    else:
        say(f"settings: the run's (profile {settings.profile}, {path})")
    return settings


def _own_run(settings: Settings, run_name: str, runs_dir: str | os.PathLike) -> RunDir | None:
    """The participant's workshop run (runs/<participant>/<run>) when it exists: with profile '' (the run's profile)
    the folder cannot come from the default profile, which is not a workshop."""
    try:
        folder = Path(runs_dir) / participant_name(settings)
    except SettingsError:  # a user name that cannot name a folder has no workshop run
        return None
    return open_run(run_name, folder) if (folder / run_name / SETTINGS_FILE).exists() else None


def start(run_name: str, profile: str = "", overrides: dict[str, Any] | None = None,
          runs_dir: str | os.PathLike = "../runs", notebook: str = "",
          say: Callable[[str], None] = print) -> tuple[Settings, RunDir]:
    """(settings, run) for a notebook: the run's settings with ``overrides`` on top, the run folder, the identity."""
    requested = load_settings(profile or None, overrides)  # validates the overrides before anything is written
    run = (not profile and _own_run(requested, run_name, runs_dir)) or \
        participant_session(requested, run_name, runs_dir)[1]  # a workshop participant's own folder
    settings = resolve_settings(run, profile, overrides, notebook, say)
    if settings.workshop.seats > 1:
        settings, _ = participant_session(settings, run_name, runs_dir)  # rate under the participant's name
        if not _capped:
            _capped.append(apply_memory_cap(settings))
    say(f"profile {settings.profile}, run directory {run.root}")
    if notebook:
        say(measured_time(settings.profile, notebook))
    return settings, run


def measured_time(profile: str, notebook: str) -> str:
    """One line saying how long this notebook took in the measured run behind the profile's baseline, if any."""
    from .eval.regression import baseline_path

    path = baseline_path(profile)
    try:
        baseline = json.loads(path.read_text(encoding="utf-8"))
        seconds = baseline["course"]["notebook_seconds"][notebook]
    except (OSError, ValueError, KeyError, TypeError):
        return f"time: not measured yet for profile {profile} (no course times in {path.name})"
    course = baseline["course"].get("wall_seconds")
    whole = f"; the whole course {course / 60:.1f} min" if course else ""
    return (f"time: about {seconds / 60:.1f} min for this notebook under profile {profile} on 2 CPU cores "
            f"(measured in run '{baseline.get('source_run', '?')}'{whole})")


__all__ = ["SETTINGS_FILE", "measured_time", "read_run_settings", "resolve_settings", "settings_path", "start", "write_run_settings"]
