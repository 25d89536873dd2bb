"""The gateway store's group commit and kept write connection, on real SQLite files.

Concurrent writers share transactions (fewer commits than units), each unit's
outcome is its own (one unit's constraint error fails only that unit), nothing
is acknowledged before its commit, and storage that becomes unwritable or is
replaced is noticed at the next write.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time

import gwtest
import pytest

from harness.gateway.store import StorageError, Store


def _message(i: int) -> dict:
    return {
        "message_id": f"<m{i}@corp.example>",
        "sender": "ines@corp.example",
        "to_json": "[]",
        "cc_json": "[]",
        "subject": f"m{i}",
        "raw": b"x",
        "definition": "All",
        "application": "outlook",
        "sent_at": "2026-01-01T00:00:00Z",
        "in_reply_to": None,
    }


def _recipient(token: str) -> dict:
    return {
        "recipient": "erik@ext.example",
        "internal": False,
        "token": token,
        "mailbox": "notification",
        "mpp": "none",
        "in_portal": True,
    }


def _outbound(i: int) -> dict:
    return {"recipient": "erik@ext.example", "mail_from": "ines@corp.example", "raw": f"m{i}".encode()}


def _count(path, table: str) -> int:
    """Counted on a separate connection: what is committed, not what the store's connection sees."""
    with sqlite3.connect(path) as c:
        return c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


@pytest.fixture
def store(db_dir):
    woken = []
    s = Store(str(db_dir / "gateway.sqlite3"), on_commit=lambda: woken.append(1))
    s.woken = woken
    yield s
    s.close()


def test_concurrent_writers_share_commits_and_every_one_is_committed(store, db_dir):
    n, barrier = 64, threading.Barrier(16)
    pks: list[int] = []

    def writer(first: int) -> None:
        barrier.wait()
        for i in range(first, n, 16):
            pks.append(store.accept(_message(i), [_recipient(f"t{i}")], [_outbound(i)], []))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(pks) == list(range(1, n + 1))
    assert _count(db_dir / "gateway.sqlite3", "messages") == n
    assert _count(db_dir / "gateway.sqlite3", "outbound") == n
    assert store.units == n
    assert store.batches < n, f"{n} units took {store.batches} commits: no commit was shared"
    assert len(store.woken) == n, "on_commit is called for every unit that queued outbound rows"


def test_one_units_constraint_error_fails_only_that_unit(store, db_dir):
    store.accept(_message(0), [_recipient("same")], [], [])
    results: dict[int, object] = {}
    gate = threading.Event()
    entered = threading.Event()

    def slow(c):  # holds the writer while the others queue, so that all three share one batch
        entered.set()
        gate.wait(10)
        c.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")

    def run(i: int, fn) -> None:
        try:
            results[i] = fn()
        except Exception as exc:
            results[i] = exc

    first = threading.Thread(target=run, args=(0, lambda: store._write(slow)))
    first.start()
    assert entered.wait(10)
    dup = threading.Thread(target=run, args=(1, lambda: store.accept(_message(1), [_recipient("same")], [], [])))
    ok = threading.Thread(target=run, args=(2, lambda: store.accept(_message(2), [_recipient("other")], [], [])))
    dup.start()
    ok.start()
    deadline = time.monotonic() + 10
    while len(store._queued) < 2 and time.monotonic() < deadline:
        time.sleep(0.001)  # not waiting for mail: for two threads to reach the queue, to a deadline
    assert len(store._queued) == 2, "both writers should be queued behind the slow one"
    gate.set()
    for t in (first, dup, ok):
        t.join(10)
    assert isinstance(results[1], StorageError) and "UNIQUE" in str(results[1])
    assert isinstance(results[2], int)
    path = db_dir / "gateway.sqlite3"
    assert _count(path, "messages") == 2, "the refused unit left nothing behind; the others are committed"
    assert store.get_setting("k") == "v"


def test_unwritable_storage_refuses_every_write_and_recovers(store, db_dir):
    store.accept(_message(0), [_recipient("a")], [_outbound(0)], [])
    path = db_dir / "gateway.sqlite3"
    with gwtest.read_only(db_dir):
        with pytest.raises(StorageError, match="or its folder is not writable"):
            store.accept(_message(1), [_recipient("b")], [_outbound(1)], [])
        with pytest.raises(StorageError):
            store.mark_delivered(1, time.time())
        assert store.by_token("a") is not None, "reads keep working"
    store.accept(_message(2), [_recipient("c")], [_outbound(2)], [])
    assert _count(path, "messages") == 2


def test_a_restored_database_file_is_written_not_the_old_one(store, db_dir):
    path = db_dir / "gateway.sqlite3"
    store.set_setting("before", "1")
    backup = db_dir / "backup.sqlite3"
    with sqlite3.connect(path) as src, sqlite3.connect(backup) as dst:
        src.backup(dst)
    store.set_setting("lost", "1")
    for suffix in ("-wal", "-shm"):
        (db_dir / f"gateway.sqlite3{suffix}").unlink(missing_ok=True)
    shutil.move(backup, path)  # another inode at the same path: an operator's restore
    store.set_setting("after", "1")
    with sqlite3.connect(path) as c:
        keys = {k for (k,) in c.execute("SELECT key FROM settings")}
    assert {"before", "after"} <= keys and "lost" not in keys


def test_a_delivery_record_needs_no_fsync_of_its_own_an_acceptance_does(store, db_dir):
    pk = store.accept(_message(0), [_recipient("a")], [_outbound(0)], [])
    store.mark_delivered_many({pk: time.time()})
    assert store._writer_sync == "NORMAL"
    store.accept(_message(1), [_recipient("b")], [_outbound(1)], [])
    assert store._writer_sync == "FULL"
    assert store.pending_count() == 1
