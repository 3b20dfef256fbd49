"""The ratings database: SQLite, one transaction per click, safe for many raters at once.

Why these choices:
- **Journal mode DELETE, not WAL.** Workshop home directories and shared folders are often on a
  network file system (NFS, SMB). WAL keeps its index in shared memory, which does not work across
  machines and can corrupt the database there; the classic rollback journal (``DELETE``) relies only
  on file locks. It is a little slower, which a human clicking never notices.
- **``synchronous=FULL`` and ``BEGIN IMMEDIATE``.** Every write takes the write lock first, commits
  at once and is on disk before the call returns: a process killed mid-save loses at most the click
  it was saving, never an earlier one, and the database stays intact (SQLite's journal rolls the
  half-written transaction back on the next open).
- **A busy timeout.** Several raters saving at the same moment wait their turn instead of failing.
- **Parameterised queries only.** Column names are taken from a fixed list, values are always bound.
- **One row per (rater, item).** A store is opened for one rater and can only write that rater's
  rows, so one rater can never overwrite another's ratings.
- **A new database is readable and writable by everyone** (SQLite gives its journal the same mode): a workshop
  room's store is written by every participant, each another user under JupyterHub; the folder it is in decides
  who can reach it.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..core.names import check_rater
from .items import RatingItem

JOURNAL_MODE = "DELETE"
SCHEMA_VERSION = 1
SCORE_FIELDS = ("help_a", "acc_a", "help_b", "acc_b")
CHOICES = ("A", "B", "tie", "both_bad")
EDITABLE = SCORE_FIELDS + ("choice", "comment", "skipped")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    item_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ratings (
    rater TEXT NOT NULL,
    item_id TEXT NOT NULL REFERENCES items(item_id),
    shown_a TEXT NOT NULL,
    shown_b TEXT NOT NULL,
    help_a INTEGER CHECK (help_a BETWEEN 1 AND 5),
    acc_a INTEGER CHECK (acc_a BETWEEN 1 AND 5),
    help_b INTEGER CHECK (help_b BETWEEN 1 AND 5),
    acc_b INTEGER CHECK (acc_b BETWEEN 1 AND 5),
    choice TEXT CHECK (choice IN ('A', 'B', 'tie', 'both_bad')),
    comment TEXT NOT NULL DEFAULT '',
    skipped INTEGER NOT NULL DEFAULT 0 CHECK (skipped IN (0, 1)),
    simulated INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (rater, item_id)
);
"""


@dataclass(frozen=True)
class Rating:
    """One rater's judgement of one item, as stored; A and B are the positions the rater saw."""

    rater: str
    item_id: str
    shown_a: str
    shown_b: str
    help_a: int | None = None
    acc_a: int | None = None
    help_b: int | None = None
    acc_b: int | None = None
    choice: str | None = None
    comment: str = ""
    skipped: bool = False
    simulated: bool = False
    updated_at: str = ""

    @property
    def done(self) -> bool:
        """Finished: a preference was picked or the item was skipped."""
        return self.choice is not None or self.skipped

    @property
    def vote(self) -> str | None:
        """The choice as a judgement: None when none was made or the item was skipped after all (a choice made
        before skipping stays stored, but the rater withdrew it)."""
        return None if self.skipped else self.choice

    @property
    def preferred(self) -> str | None:
        """The preferred model (source) name, 'tie', 'both_bad', or None without a vote."""
        return {"A": self.shown_a, "B": self.shown_b}.get(self.vote, self.vote)

    def scores(self, source: str) -> tuple[int | None, int | None]:
        """(helpfulness, accuracy) given to the answer of ``source``."""
        if source == self.shown_a:
            return self.help_a, self.acc_a
        if source == self.shown_b:
            return self.help_b, self.acc_b
        raise KeyError(f"{source!r} was not rated in item {self.item_id}")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class RatingStore:
    """Ratings of one rater in a SQLite file shared with other raters (see the module docstring)."""

    def __init__(self, path: str | Path, rater: str, *, simulated: bool = False, timeout: float = 60.0):
        self.path = Path(path)
        self.rater = check_rater(rater)
        self.simulated = simulated
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _create_shared(self.path)
        self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        self._set_journal_mode()
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._create_schema()

    def _set_journal_mode(self) -> None:
        """Switch to the rollback journal; retried because another process may hold a lock."""
        for attempt in range(50):
            try:
                mode = self._conn.execute(f"PRAGMA journal_mode = {JOURNAL_MODE}").fetchone()[0]
                if mode.upper() != JOURNAL_MODE:
                    raise RuntimeError(f"{self.path}: SQLite refused journal_mode={JOURNAL_MODE} (got {mode})")
                return
            except sqlite3.OperationalError:
                time.sleep(0.05 * (attempt + 1))
        raise RuntimeError(f"{self.path} stayed locked; is another program holding it open?")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction: take the lock first, commit at the end, roll back on error."""
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    def _create_schema(self) -> None:
        with self._transaction() as cur:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                cur.execute(statement)
            cur.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),))

    def close(self) -> None:
        """Close the connection (every write is already committed)."""
        self._conn.close()

    def __enter__(self) -> "RatingStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # items -------------------------------------------------------------------------------------
    def add_items(self, items: Iterable[RatingItem]) -> int:
        """Register items to rate (idempotent); ValueError if an id is already stored with other content."""
        added = 0
        with self._transaction() as cur:
            start = cur.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM items").fetchone()[0]
            for item in items:
                text = item.to_json()
                row = cur.execute("SELECT item_json FROM items WHERE item_id = ?", (item.item_id,)).fetchone()
                if row is None:
                    cur.execute("INSERT INTO items (item_id, position, item_json) VALUES (?, ?, ?)",
                                (item.item_id, start + added, text))
                    added += 1
                elif row["item_json"] != text:
                    raise ValueError(f"{self.path}: item '{item.item_id}' is already stored with different "
                                     "prompt or answers; use a new store_path for new candidates")
        return added

    def items(self) -> list[RatingItem]:
        """All stored items, in the order they were added."""
        return _items(self._conn)

    # ratings -----------------------------------------------------------------------------------
    def get(self, item_id: str) -> Rating | None:
        """This rater's stored rating of an item, or None."""
        row = self._conn.execute("SELECT * FROM ratings WHERE rater = ? AND item_id = ?",
                                 (self.rater, item_id)).fetchone()
        return _rating(row) if row else None

    def set(self, item_id: str, field: str, value: Any, shown: tuple[str, str]) -> Rating:
        """Save one value of this rater's rating in its own transaction and return the stored row.

        ``shown`` is the (A, B) order used only when the row is created; afterwards the stored order wins.
        """
        if field not in EDITABLE:
            raise ValueError(f"cannot set {field!r}; editable fields: {', '.join(EDITABLE)}")
        value = _checked(field, value)
        now = _now()
        with self._transaction() as cur:
            cur.execute(
                f"INSERT INTO ratings (rater, item_id, shown_a, shown_b, {field}, simulated, created_at, updated_at) "
                f"VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rater, item_id) DO UPDATE SET "
                f"{field} = excluded.{field}, updated_at = excluded.updated_at",
                (self.rater, item_id, shown[0], shown[1], value, int(self.simulated), now, now))
            row = cur.execute("SELECT * FROM ratings WHERE rater = ? AND item_id = ?",
                              (self.rater, item_id)).fetchone()
        return _rating(row)

    def ratings(self, all_raters: bool = True) -> list[Rating]:
        """Stored ratings of every rater (or only this one), ordered by rater and item position."""
        return _ratings(self._conn, None if all_raters else self.rater)

    def raters(self) -> list[str]:
        """Names of everyone who has rated in this store."""
        return [r[0] for r in self._conn.execute("SELECT DISTINCT rater FROM ratings ORDER BY rater")]


def _create_shared(path: Path) -> None:
    """Create the database file readable and writable by everyone, whatever the umask (see the module docstring)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o666)
    finally:
        os.close(fd)


def read_store(path: str | Path, timeout: float = 60.0) -> tuple[list[RatingItem], list[Rating]]:
    """(items, every rater's ratings) of a ratings database, opened read-only: a reader needs no write access,
    and a file that is empty or not a ratings database is named, never turned into one."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run notebook 04_human_rating first")
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty (0 bytes), not a ratings database: run notebook 04_human_rating, or set "
                         "rating.store_path to the room's ratings file")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
    try:
        conn.row_factory = sqlite3.Row
        return _items(conn), _ratings(conn)
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{path} is not a ratings database ({exc}): point rating.store_path at the file notebook "
                         "04 writes") from exc
    finally:
        conn.close()


def _items(conn: sqlite3.Connection) -> list[RatingItem]:
    """All stored items, in the order they were added."""
    rows = conn.execute("SELECT item_json FROM items ORDER BY position").fetchall()
    return [RatingItem.from_json(r["item_json"]) for r in rows]


def _ratings(conn: sqlite3.Connection, rater: str | None = None) -> list[Rating]:
    """Stored ratings of every rater (or of ``rater``), ordered by rater and item position."""
    sql = ("SELECT r.* FROM ratings r JOIN items i USING (item_id) "
           + ("" if rater is None else "WHERE r.rater = ? ") + "ORDER BY r.rater, i.position")
    return [_rating(r) for r in conn.execute(sql, () if rater is None else (rater,)).fetchall()]


def _checked(field: str, value: Any) -> Any:
    """A value fit for the column, or ValueError saying what is allowed."""
    if field in SCORE_FIELDS:
        if value is not None and (isinstance(value, bool) or value not in range(1, 6)):
            raise ValueError(f"{field} must be a score from 1 to 5, got {value!r}")
    elif field == "choice":
        if value is not None and value not in CHOICES:
            raise ValueError(f"choice must be one of {', '.join(CHOICES)}, got {value!r}")
    elif field == "comment":
        value = str(value or "")
    elif field == "skipped":
        value = int(bool(value))
    return value


def _rating(row: sqlite3.Row) -> Rating:
    return Rating(rater=row["rater"], item_id=row["item_id"], shown_a=row["shown_a"], shown_b=row["shown_b"],
                  help_a=row["help_a"], acc_a=row["acc_a"], help_b=row["help_b"], acc_b=row["acc_b"],
                  choice=row["choice"], comment=row["comment"], skipped=bool(row["skipped"]),
                  simulated=bool(row["simulated"]), updated_at=row["updated_at"])
