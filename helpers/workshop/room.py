"""The room's pooled ratings: one shared store, every participant's ratings counted and compared."""
from __future__ import annotations

import os
from typing import Any


def room_ratings(store_path: str | os.PathLike) -> dict[str, Any]:
    """The shared store's ratings pooled across participants: per-participant counts and agreement statistics."""
    from ..rating import read_ratings
    from ..rating.agreement import agreement_summary, finished

    items, ratings = read_ratings(store_path)
    done = finished(ratings)
    per = {name: sum(r.rater == name for r in done) for name in sorted({r.rater for r in ratings})}
    return {"items": len(items), "ratings": len(done), "per_participant": per, "agreement": agreement_summary(ratings)}


__all__ = ["room_ratings"]
