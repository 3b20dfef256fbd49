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
from .store import JOURNAL_MODE, Rating, RatingStore


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
    if path.exists():
        with RatingStore(path, "reader") as store:
            stored = store.items()
        if stored:
            return stored
    return load_items(candidates, pair)


def read_ratings(path: str | Path) -> tuple[list[RatingItem], list[Rating]]:
    """(items, every rater's ratings) of a ratings database, read-only use (for notebooks 05 and 06)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run notebook 04_human_rating first")
    with RatingStore(path, "reader") as store:
        return store.items(), store.ratings()


__all__ = ["JOURNAL_MODE", "Rating", "RatingItem", "RatingStore", "items_to_rate", "load_items", "rater_name",
           "read_ratings", "shown_order", "store_path"]
