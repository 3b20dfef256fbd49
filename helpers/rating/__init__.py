"""Human (or simulated) rating of model answers: items, store, widget, simulated rater, agreement, export.

Typical use in notebook 04::

    items = load_items(ensure_candidates(run, settings))
    store = RatingStore(store_path(run, settings), rater_name(settings))
    RatingApp(store, items, seed=settings.rating.seed)
"""
from __future__ import annotations

import getpass
from pathlib import Path

from ..core.config import Settings
from ..core.runs import RunDir
from .items import RatingItem, load_items, shown_order
from .store import JOURNAL_MODE, Rating, RatingStore, read_store


def store_path(run: RunDir, settings: Settings) -> Path:
    """The ratings database: ``settings.rating.store_path`` (e.g. a workshop's shared folder) or the run's."""
    return Path(settings.rating.store_path).expanduser() if settings.rating.store_path else run.path("ratings_db")


def rater_name(settings: Settings) -> str:
    """The rater's name: ``settings.rating.rater`` or the operating-system user."""
    return settings.rating.rater.strip() or getpass.getuser()


def items_to_rate(path: str | Path, candidates: str | Path, pair: tuple[str, str] | None = None) -> list[RatingItem]:
    """The items already registered in the store (a workshop's shared set), else ``candidates`` comparing ``pair``.

    In a shared store everyone rates the same answers, so agreement compares like with like.
    """
    path = Path(path)
    stored = read_store(path)[0] if path.exists() else []
    return stored or load_items(candidates, pair)


def read_ratings(path: str | Path) -> tuple[list[RatingItem], list[Rating]]:
    """(items, every rater's ratings) of a ratings database, opened read-only (notebooks 04-06, the room)."""
    return read_store(path)


__all__ = ["JOURNAL_MODE", "Rating", "RatingItem", "RatingStore", "items_to_rate", "load_items", "rater_name",
           "read_ratings", "shown_order", "store_path"]
