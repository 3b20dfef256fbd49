"""Names a person chooses, checked in one place: run names and participants (both name folders) and raters.

* A **run name** and a **participant** become folder names (``runs/<participant>/<run>``): letters, digits
  and a few punctuation marks only, so no name can climb out of the runs folder (``../x``, ``/etc``) or make
  a folder with a newline in its name.
* A **rater** name is stored with each rating and shown in tables: any letters (``José``, ``李雷``), digits,
  spaces and punctuation, but no control or invisible character (Unicode categories C*: DEL, C1 controls,
  right-to-left overrides, zero-width spaces; and line or paragraph separators), which would make two raters
  look alike or garble a table.
"""
from __future__ import annotations

import getpass
import os
import re
import unicodedata

from .config import Settings, SettingsError

RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PARTICIPANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
INVISIBLE = ("C", "Zl", "Zp")  # Unicode categories (or their first letter) refused in a rater's name


def check_run_name(name: object) -> str:
    """The run name, unchanged; SettingsError unless it is 1-64 letters, digits, '.', '_' or '-'."""
    if not isinstance(name, str) or not RUN_NAME.fullmatch(name):
        raise SettingsError(f"run_name {name!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a "
                            "letter or digit (it names the run's folder), e.g. 'demo' or 'lr-1e-4'")
    return name


def check_participant(name: object, field: str = "workshop.participant") -> str:
    """The participant name, stripped; SettingsError unless it can name a folder inside the runs folder."""
    text = name.strip() if isinstance(name, str) else name
    if not isinstance(text, str) or not PARTICIPANT.fullmatch(text):
        raise SettingsError(f"{field} {name!r}: use 1-64 letters, digits, '.', '_', '-' or '@' (it names your run "
                            "folder), e.g. 'ada' or 'team-3'")
    return text


def check_rater(name: object) -> str:
    """The rater name, stripped; SettingsError naming the first control or invisible character, if any."""
    text = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(text) <= 64:
        raise SettingsError(f"rating.rater {name!r} must be 1-64 characters, e.g. your first name")
    for position, char in enumerate(text, start=1):
        if unicodedata.category(char).startswith(INVISIBLE):
            code = f"U+{ord(char):04X}"
            label = unicodedata.name(char, "")
            raise SettingsError(f"rating.rater {name!r}: character {position} is {code}{' ' + label if label else ''}"
                                ", a control or invisible character; use letters, digits, spaces and punctuation, "
                                "e.g. your first name")
    return text


def participant_name(settings: Settings | None = None) -> str:
    """The participant: workshop.participant, else $COURSE_PARTICIPANT, $JUPYTERHUB_USER or the OS user."""
    name = (settings.workshop.participant if settings else "") or os.environ.get("COURSE_PARTICIPANT", "") \
        or os.environ.get("JUPYTERHUB_USER", "") or getpass.getuser()
    return check_participant(name)


__all__ = ["check_participant", "check_rater", "check_run_name", "participant_name"]
