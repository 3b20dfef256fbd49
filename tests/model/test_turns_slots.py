"""GPU slots as separate processes: K at a time, a visible queue, dead holders and waiters freed."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.core.config import SettingsError, load_settings
from helpers.model.turns import gpu_slot, queue_status

REPO = Path(__file__).resolve().parents[2]

WORKER = """
import json, sys, time
from helpers.core.config import SettingsError, load_settings
from helpers.model.turns import gpu_slot
lock_dir, slots, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
settings = load_settings("ci", {"workshop": {"lock_dir": lock_dir, "gpu_slots": slots, "poll_seconds": 0.1,
                                              "seats": 4}})
with gpu_slot(settings) as slot:
    start = time.time()
    print("HOLDING", flush=True)
    time.sleep(hold)
    end = time.time()
print(json.dumps({"slot": slot, "start": start, "end": end}))
"""


def _worker(lock_dir: Path, name: str, slots: int, hold: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER, str(lock_dir), str(slots), str(hold)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COURSE_PARTICIPANT": name})


def _wait_holding(proc: subprocess.Popen) -> None:
    for line in proc.stdout:
        if line.startswith("HOLDING"):
            return
    raise AssertionError(f"the holder never got its slot: {proc.stderr.read()}")


def test_at_most_k_jobs_hold_the_gpu_and_the_others_see_their_place_in_line(tmp_path):
    names = ["ada", "bo", "cy", "dee", "eli"]
    procs = {n: _worker(tmp_path, n, 2, 1.5) for n in names}
    runs, outputs = {}, {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        outputs[name] = out
        runs[name] = json.loads(out.strip().splitlines()[-1])
    assert {r["slot"] for r in runs.values()} <= {0, 1}
    moments = sorted(t for r in runs.values() for t in (r["start"], r["end"]))
    busiest = max(sum(r["start"] <= m < r["end"] for r in runs.values()) for m in moments)
    assert busiest == 2  # both slots were used, never three jobs at once
    waited = [n for n, out in outputs.items() if "in line" in out]
    assert len(waited) >= 3 and all("GPU slot" in outputs[n] and "is yours" in outputs[n] for n in names)
    assert queue_status(tmp_path) == {"holders": [], "waiting": []}  # everything cleaned up


def test_a_killed_holder_frees_its_slot_and_a_dead_waiters_ticket_is_skipped(tmp_path):
    holder = _worker(tmp_path, "ada", 1, 600)
    _wait_holding(holder)
    assert queue_status(tmp_path)["holders"][0]["participant"] == "ada"
    # a waiter that died long ago left its ticket (nobody holds its lock) in front of the queue
    queue = tmp_path / "queue"
    stale = queue / "00000000000000000001-999999.lock"
    stale.write_text("")
    stale.with_suffix(".json").write_text(json.dumps({"participant": "ghost", "pid": 999999, "host": "elsewhere"}))
    os.utime(stale, (time.time() - 60, time.time() - 60))

    waiter = _worker(tmp_path, "bo", 1, 0.1)
    time.sleep(3)
    assert waiter.poll() is None  # still waiting: ada holds the only slot
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    out, err = waiter.communicate(timeout=120)
    assert waiter.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1])["slot"] == 0 and "in line" in out
    assert not stale.exists()


def test_no_lock_dir_means_no_queue(tmp_path):
    with gpu_slot(load_settings("ci")) as slot:
        assert slot is None


def test_a_waiter_gives_up_after_its_timeout(tmp_path):
    settings = load_settings("ci", {"workshop": {"lock_dir": str(tmp_path), "gpu_slots": 1, "poll_seconds": 0.05}})
    holder = _worker(tmp_path, "ada", 1, 600)
    try:
        _wait_holding(holder)
        messages = []
        with pytest.raises(TimeoutError, match="no GPU slot became free"):
            with gpu_slot(settings, participant="bo", report=messages.append, timeout=0.5):
                pass
        assert messages == ["Waiting for a GPU slot: you are 1st in line; all 1 slot(s) are busy (ada)."]
        assert queue_status(tmp_path)["waiting"] == []  # the ticket went with the waiter
    finally:
        holder.kill()
        holder.wait()


def test_an_unusable_lock_dir_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = load_settings("ci", {"workshop": {"lock_dir": str(blocker / "locks")}})
    with pytest.raises(SettingsError, match="workshop.lock_dir .* cannot be used"):
        with gpu_slot(settings):
            pass


def _stray_files(lock_dir: Path) -> None:
    """What any participant could leave in the shared lock folder: malformed slot and ticket files."""
    import socket

    here = socket.gethostname()
    (lock_dir / "queue").mkdir(parents=True, exist_ok=True)
    (lock_dir / "slot-0.json").write_text("[1, 2]")                                              # a list
    (lock_dir / "slot-1.json").write_text(json.dumps({"participant": "x", "pid": "abc", "host": here}))
    (lock_dir / "slot-2.json").write_text(json.dumps({"participant": "y", "pid": 10**30, "host": here}))
    (lock_dir / "slot-3.json").write_text(json.dumps({"participant": ["z"], "pid": os.getpid(), "host": here}))
    (lock_dir / "slot-4.json").write_text(json.dumps({"participant": "w", "pid": -1, "host": here}))
    (lock_dir / "slot-x.json").write_text(json.dumps({"participant": "v", "pid": os.getpid(), "host": here}))
    (lock_dir / "slot-5.json").write_text("not json at all")
    (lock_dir / "queue" / "1.json").write_text('"a string"')
    (lock_dir / "queue" / "2.json").write_text(json.dumps({"participant": "u", "pid": 2**70, "host": here}))


def test_stray_or_malformed_files_in_the_lock_folder_crash_nothing(tmp_path):
    _stray_files(tmp_path)
    status = queue_status(tmp_path)
    assert status == {"holders": [], "waiting": []}  # nothing in them names a live participant
    settings = load_settings("ci", {"workshop": {"lock_dir": str(tmp_path), "gpu_slots": 1, "poll_seconds": 0.05}})
    with gpu_slot(settings, participant="ada", report=lambda _: None) as slot:  # slot 0 is free: its lock is
        assert slot == 0                                                        # not held, whatever its .json says


def test_the_wait_loop_survives_a_malformed_holder_file(tmp_path):
    from filelock import FileLock

    _stray_files(tmp_path)
    holder = FileLock(str(tmp_path / "slot-0.lock"))
    holder.acquire()
    try:
        settings = load_settings("ci", {"workshop": {"lock_dir": str(tmp_path), "gpu_slots": 1,
                                                      "poll_seconds": 0.05}})
        messages = []
        with pytest.raises(TimeoutError, match="no GPU slot became free"):
            with gpu_slot(settings, participant="ada", report=messages.append, timeout=0.3):
                pass
        assert messages == ["Waiting for a GPU slot: you are 1st in line; all 1 slot(s) are busy (starting)."]
    finally:
        holder.release()


def test_entries_of_the_lock_folder_that_are_not_lock_files_crash_nothing(tmp_path):
    """A folder or a link where a ticket or a slot lock belongs (anyone can make one) is passed over, not opened."""
    queue = tmp_path / "queue"
    queue.mkdir()
    old = time.time() - 60
    target = tmp_path / "old-file"
    target.write_text("")
    for entry, make in ((queue / "00000000000000000001-1.lock", lambda p: p.mkdir()),     # first in line
                        (queue / "00000000000000000002-2.lock", lambda p: p.symlink_to(target)),
                        (tmp_path / "slot-0.lock", lambda p: p.mkdir()),
                        (tmp_path / "slot-1.lock", lambda p: p.symlink_to(target)),
                        (tmp_path / "line.lock", lambda p: p.mkdir()),
                        (tmp_path / "slot-2.json", lambda p: p.mkdir())):  # the free slot's status file
        make(entry)
        os.utime(entry, (old, old), follow_symlinks=False)
    os.utime(target, (old, old))
    settings = load_settings("ci", {"workshop": {"lock_dir": str(tmp_path), "gpu_slots": 3, "poll_seconds": 0.05}})
    with gpu_slot(settings, participant="ada", report=lambda _: None, timeout=5) as slot:
        assert slot == 2  # slots 0 and 1 cannot be locked; the stray entries in line are nobody's turn
    assert queue_status(tmp_path) == {"holders": [], "waiting": []}


def test_a_slot_that_cannot_be_locked_is_named_to_the_waiter(tmp_path):
    (tmp_path / "slot-0.lock").mkdir()
    settings = load_settings("ci", {"workshop": {"lock_dir": str(tmp_path), "gpu_slots": 1, "poll_seconds": 0.05}})
    messages = []
    with pytest.raises(TimeoutError, match="no GPU slot became free"):
        with gpu_slot(settings, participant="ada", report=messages.append, timeout=0.3):
            pass
    assert len(messages) == 1 and "slot-0.lock" in messages[0] and "ask the host to remove" in messages[0]


def test_a_holders_slot_file_says_when_it_asked_for_its_turn(tmp_path):
    settings = load_settings("ci", {"workshop": {"lock_dir": str(tmp_path), "gpu_slots": 1, "poll_seconds": 0.05}})
    before = time.time()
    with gpu_slot(settings, participant="ada", report=lambda _: None):
        (holder,) = queue_status(tmp_path)["holders"]
        assert before <= holder["asked"] <= holder["since"] <= time.time()


SLOW_TICKET = """
import json, sys, time
from pathlib import Path
import filelock
from helpers.core.config import load_settings
from helpers.model.turns import gpu_slot
lock_dir, slow, go = sys.argv[1], float(sys.argv[2]), Path(sys.argv[3])


class Slow(filelock.FileLock):
    def acquire(self, *args, **kwargs):
        if Path(self.lock_file).parent.name == "queue" and slow:  # the ticket's name is taken; making it is slow
            print("NAMED", flush=True)
            time.sleep(slow)
        return super().acquire(*args, **kwargs)


filelock.FileLock = Slow
settings = load_settings("ci", {"workshop": {"lock_dir": lock_dir, "gpu_slots": 1, "poll_seconds": 0.05}})
print("READY", flush=True)
while not slow and not go.exists():
    time.sleep(0.01)
with gpu_slot(settings, participant="ab"[slow == 0], report=lambda _: None):
    start = time.time()
    time.sleep(0.5)
print(json.dumps({"start": start}))
"""


def test_a_ticket_named_earlier_but_made_later_keeps_its_place_in_line(tmp_path):
    """Under load, taking a ticket's name and making its file can be far apart: whoever named theirs first is first."""
    go = tmp_path / "go"
    procs = {}
    for name, slow in (("b", "0"), ("a", "1.5")):
        procs[name] = subprocess.Popen([sys.executable, "-c", SLOW_TICKET, str(tmp_path / "locks"), slow, str(go)],
                                       cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert procs[name].stdout.readline().strip() == "READY", procs[name].stderr.read()
    assert procs["a"].stdout.readline().strip() == "NAMED"  # a has its place in line; its ticket is not made yet
    go.write_text("")                                         # b asks now, after a
    starts = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        starts[name] = json.loads(out.strip().splitlines()[-1])["start"]
    assert starts["a"] < starts["b"], "b was served before a, who asked first"


def test_every_file_of_the_queue_can_be_used_by_every_participant(tmp_path):
    """With JupyterHub each participant is another user: all must write tickets into the queue folder, open every
    lock (a lock is opened for writing) and overwrite a slot's status file, whoever made them first."""
    import stat

    from filelock import FileLock

    lock_dir = tmp_path / "locks"
    settings = load_settings("ci", {"workshop": {"lock_dir": str(lock_dir), "gpu_slots": 1, "poll_seconds": 0.05}})
    modes = {}

    def look(_):
        modes.update({p.relative_to(lock_dir).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in lock_dir.rglob("*")})

    old = os.umask(0o022)  # the usual umask: files 644, folders 755
    try:
        with gpu_slot(settings, participant="ada", report=lambda _: None):
            look(None)
        busy = FileLock(str(lock_dir / "slot-0.lock"))
        busy.acquire()
        try:
            with pytest.raises(TimeoutError):
                with gpu_slot(settings, participant="bo", report=look, timeout=0.2):  # look while bo's ticket waits
                    pass
        finally:
            busy.release()
    finally:
        os.umask(old)
    tickets = [name for name in modes if name.startswith("queue/")]
    assert {n.rsplit(".", 1)[1] for n in tickets} == {"lock", "json"}
    shared = {name: oct(mode) for name, mode in modes.items()
              if mode & (0o777 if name == "queue" else 0o666) != (0o777 if name == "queue" else 0o666)}
    assert not shared, f"not usable by the other participants: {shared}"
