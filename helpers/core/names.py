"""Names a person chooses that end up in paths: the workshop participant."""
from __future__ import annotations

import getpass
import os
import re

from .config import Settings, SettingsError


def participant_name(settings: Settings | None = None) -> str:
    """The participant: workshop.participant, else $COURSE_PARTICIPANT, $JUPYTERHUB_USER or the OS user."""
    name = (settings.workshop.participant if settings else "") or os.environ.get("COURSE_PARTICIPANT", "") \
        or os.environ.get("JUPYTERHUB_USER", "") or getpass.getuser()
    name = name.strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}", name):
        raise SettingsError(f"workshop.participant {name!r}: use 1-64 letters, digits, '.', '_', '-' or '@' "
                            "(it names your run folder), e.g. 'ada' or 'team-3'")
    return name


__all__ = ["participant_name"]
