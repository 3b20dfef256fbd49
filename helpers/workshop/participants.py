"""Per-participant defaults in a workshop: the participant's own run folder and rater name.

Each participant gets their own run folder (``runs/<participant>/<run>``) and rates under their own
name, from :func:`~helpers.core.names.participant_name` (setting, ``$COURSE_PARTICIPANT``,
``$JUPYTERHUB_USER`` or the operating-system user).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from ..core.config import Settings
from ..core.names import check_participant, participant_name
from ..core.runs import RunDir, open_run


def participant_session(settings: Settings, run_name: str, runs_dir: str | os.PathLike,
                        participant: str | None = None) -> tuple[Settings, RunDir]:
    """Settings rating under the participant's name and their own run folder (runs/<participant>/<run>) in a workshop.

    Outside a workshop (``workshop.seats`` is 1) the run folder is the usual ``runs/<run>``.
    """
    name = check_participant(participant) if participant is not None else participant_name(settings)
    mine = dataclasses.replace(settings, rating=dataclasses.replace(
        settings.rating, rater=settings.rating.rater or name))
    folder = Path(runs_dir) / name if settings.workshop.seats > 1 else Path(runs_dir)
    return mine, open_run(run_name, folder)


__all__ = ["participant_name", "participant_session"]
