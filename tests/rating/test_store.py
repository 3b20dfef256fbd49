"""The ratings store: values, isolation between raters, concurrency and kill tests with real processes."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support.rating_support import make_items

from helpers.rating.store import RatingStore

REPO = Path(__file__).resolve().parents[2]
ORDER = ("base", "sft")


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "ratings.sqlite"
    with RatingStore(path, "setup") as store:
        store.add_items(make_items(12))
    return path


def test_each_click_is_one_upsert_that_keeps_other_fields(db):
    with RatingStore(db, "ann") as store:
        store.set("qa-000", "help_a", 4, ORDER)
        store.set("qa-000", "acc_b", 2, ("sft", "base"))  # a later order never changes the stored one
        row = store.set("qa-000", "choice", "A", ORDER)
    assert (row.help_a, row.acc_b, row.choice, row.shown_a, row.shown_b) == (4, 2, "A", "base", "sft")
    assert row.preferred == "base" and row.done and row.scores("sft") == (None, 2)


@pytest.mark.parametrize("field, value, message", [
    ("help_a", 6, "score from 1 to 5"), ("acc_b", True, "score from 1 to 5"),
    ("choice", "C", "choice must be one of"), ("rater", "bob", "cannot set 'rater'")])
def test_bad_values_are_refused_and_nothing_changes(db, field, value, message):
    with RatingStore(db, "ann") as store:
        store.set("qa-000", "help_a", 3, ORDER)
        with pytest.raises(ValueError, match=message):
            store.set("qa-000", field, value, ORDER)
        assert store.get("qa-000").help_a == 3


def test_unknown_item_is_refused(db):
    with RatingStore(db, "ann") as store, pytest.raises(sqlite3.IntegrityError):
        store.set("no-such-item", "help_a", 3, ORDER)


def test_one_rater_cannot_overwrite_another(db):
    with RatingStore(db, "ann") as ann, RatingStore(db, "bob") as bob:
        ann.set("qa-001", "choice", "A", ORDER)
        bob.set("qa-001", "choice", "B", ORDER)
        assert ann.get("qa-001").choice == "A" and bob.get("qa-001").choice == "B"
        assert {(r.rater, r.choice) for r in ann.ratings()} == {("ann", "A"), ("bob", "B")}
        assert [r.rater for r in bob.ratings(all_raters=False)] == ["bob"]


def test_comment_is_data_not_sql(db):
    nasty = "'); DROP TABLE ratings; -- <script>alert(1)</script>"
    with RatingStore(db, "ann") as store:
        store.set("qa-002", "comment", nasty, ORDER)
        assert store.get("qa-002").comment == nasty and len(store.items()) == 12


def test_rollback_journal_not_wal(db):
    with RatingStore(db, "ann") as store:
        store.set("qa-000", "help_a", 1, ORDER)
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not Path(f"{db}-wal").exists()


def test_items_are_idempotent_and_conflicts_are_refused(db):
    items = make_items(12)
    with RatingStore(db, "ann") as store:
        assert store.add_items(items) == 0 and store.items() == items
        changed = items[0].__class__(**{**items[0].__dict__, "prompt": "something else"})
        with pytest.raises(ValueError, match="qa-000"):
            store.add_items([changed])


def test_rater_name_is_required(db):
    with pytest.raises(ValueError, match="rating.rater '  ' must be 1-64 characters"):
        RatingStore(db, "  ")



@pytest.fixture
def read_only_db(db):
    """The store in a read-only file and folder, as a workshop host shares it; readable by everyone."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="ratings-ro-"))
    path = folder / "ratings.sqlite"
    with RatingStore(db, "ann") as store:
        store.set("qa-000", "choice", "B", ORDER)
    shutil.copy(db, path)
    path.chmod(0o444)
    folder.chmod(0o555)
    yield path
    folder.chmod(0o755)
    shutil.rmtree(folder)


def _as_unprivileged(call):
    """Run ``call`` with an unprivileged effective user when the tests run as root (root ignores file modes)."""
    if os.geteuid() != 0:
        return call()
    os.seteuid(65534)
    try:
        return call()
    finally:
        os.seteuid(0)


def test_reading_the_ratings_needs_no_write_access(read_only_db):
    from helpers.rating import items_to_rate, read_ratings

    before = read_only_db.read_bytes()
    items, ratings = _as_unprivileged(lambda: read_ratings(read_only_db))
    assert len(items) == 12 and [(r.rater, r.choice) for r in ratings] == [("ann", "B")]
    assert len(_as_unprivileged(lambda: items_to_rate(read_only_db, "unused.jsonl"))) == 12
    assert read_only_db.read_bytes() == before and sorted(p.name for p in read_only_db.parent.iterdir()) == [
        "ratings.sqlite"]


def test_the_room_store_made_by_the_host_takes_every_participants_ratings():
    """With JupyterHub each participant is another user: the database the host created (umask 022) must be writable
    by all of them, in the shared folder the host made writable by all."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="ratings-room-"))
    folder.chmod(0o777)
    path = folder / "ratings.sqlite"
    old = os.umask(0o022)
    try:
        with RatingStore(path, "host") as store:
            store.add_items(make_items(3))
        assert path.stat().st_mode & 0o666 == 0o666

        def rate():
            with RatingStore(path, "ada") as store:
                return store.set("qa-000", "choice", "A", ORDER).choice

        assert _as_unprivileged(rate) == "A"
    finally:
        os.umask(old)
        shutil.rmtree(folder)


def test_an_empty_file_is_named_and_stays_empty(tmp_path):
    from helpers.rating import read_ratings

    empty = tmp_path / "ratings.sqlite"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="ratings.sqlite is empty .0 bytes.*notebook 04"):
        read_ratings(empty)
    assert empty.stat().st_size == 0
    (tmp_path / "notes.txt").write_text("not a database")
    with pytest.raises(ValueError, match="notes.txt is not a ratings database"):
        read_ratings(tmp_path / "notes.txt")


# --- real processes --------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from helpers.rating.store import RatingStore
    db, rater, fields, start = sys.argv[1], sys.argv[2], sys.argv[3].split(","), float(sys.argv[4])
    store = RatingStore(db, rater)
    while time.time() < start:
        time.sleep(0.001)
    for item in [it.item_id for it in store.items()]:
        for i, field in enumerate(fields):
            store.set(item, field, 1 + (i + len(item)) % 5 if field != "choice" else "B", ("base", "sft"))
            print(item, field, flush=True)
""")


def _spawn(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", WRITER, *args], stdout=subprocess.PIPE, text=True, env=env)


def test_concurrent_raters_in_separate_processes_lose_nothing(db):
    start = str(time.time() + 2.0)  # every process starts writing at the same moment
    jobs = [(f"rater-{k}", "help_a,acc_a,help_b,acc_b,choice") for k in range(4)]
    jobs += [("shared", "help_a,acc_a"), ("shared", "help_b,acc_b,choice")]  # same rater, two processes
    procs = [_spawn(str(db), rater, fields, start) for rater, fields in jobs]
    outputs = [p.communicate(timeout=180)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs)
    assert sum(len(o.splitlines()) for o in outputs) == 12 * (4 * 5 + 2 + 3)
    with RatingStore(db, "check") as store:
        rows = store.ratings()
    assert len(rows) == 12 * 5
    assert all(r.choice == "B" and None not in (r.help_a, r.acc_a, r.help_b, r.acc_b) for r in rows)


def test_process_killed_mid_stream_keeps_every_committed_rating(db):
    proc = _spawn(str(db), "victim", "help_a,acc_a,help_b,acc_b,choice", "0")
    committed = []
    for line in proc.stdout:
        committed.append(tuple(line.split()))
        if len(committed) == 23:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with RatingStore(db, "victim") as store:
        for item_id, field in committed:
            assert getattr(store.get(item_id), field) is not None, (item_id, field)
        store.set("qa-011", "help_a", 5, ORDER)  # the database still takes writes


KILLED_INSIDE = textwrap.dedent("""
    import sys, time
    from helpers.rating.store import RatingStore
    store = RatingStore(sys.argv[1], "victim")
    store.set("qa-000", "help_a", 2, ("base", "sft"))
    with store._transaction() as cur:  # a save in progress: written but not committed
        cur.execute("UPDATE ratings SET help_a = 5, comment = 'half' WHERE rater = 'victim'")
        cur.execute("INSERT INTO ratings (rater, item_id, shown_a, shown_b, created_at, updated_at) "
                    "VALUES ('victim', 'qa-001', 'a', 'b', 'x', 'x')")
        print("inside", flush=True)
        time.sleep(60)
""")


def test_process_killed_inside_a_transaction_rolls_back_cleanly(db):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_INSIDE, str(db)], stdout=subprocess.PIPE, text=True,
                            env=env)
    assert proc.stdout.readline().strip() == "inside"
    assert Path(f"{db}-journal").exists()  # the rollback journal of the unfinished save
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with RatingStore(db, "victim") as store:  # opening rolls the hot journal back
        row = store.get("qa-000")
        assert (row.help_a, row.comment) == (2, "") and store.get("qa-001") is None
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
