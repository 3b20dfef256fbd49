"""Free disk space, checked before work that writes a whole run, so a full disk stops it with a clear message."""
from __future__ import annotations

import shutil
from pathlib import Path

COURSE_RUN_BYTES = 1_500_000_000
"""Free space a course run asks for: a finished cpu-full run measured 811 MB (768 MB of it the merged model and its
GGUF export in ship/), and the exports write temporary files besides."""


class NotEnoughDisk(OSError):
    """Less free space on a folder's file system than the work about to start needs."""


def free_bytes(folder: Path) -> int:
    """Free bytes on the file system holding ``folder`` (or its nearest existing parent)."""
    path = Path(folder).resolve()
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


def require_free(folder: Path, need: int, what: str) -> None:
    """Raise NotEnoughDisk naming ``folder``, ``what`` needs the space, and how much is free, when too little is."""
    free = free_bytes(folder)
    if free < need:
        raise NotEnoughDisk(f"{what} needs about {need / 1e9:.1f} GB free in {folder}, and {free / 1e9:.1f} GB are "
                            f"free there. Delete runs you no longer need (each is a folder of runs/) or choose "
                            f"another folder.")


__all__ = ["COURSE_RUN_BYTES", "NotEnoughDisk", "free_bytes", "require_free"]
