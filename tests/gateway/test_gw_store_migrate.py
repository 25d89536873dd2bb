"""The store on databases written by earlier gateways (harness/gateway/store_schema.py ``migrate``) and
the group commit's edges (harness/gateway/group_commit.py): an in-memory store, what a failed unit,
a failed commit and a transaction SQLite gave up do to a batch, and who is woken when."""

from __future__ import annotations

import sqlite3

import pytest

from harness.gateway.store import StorageError, Store

OLD_SCHEMA = """
CREATE TABLE messages (pk INTEGER PRIMARY KEY, message_id TEXT NOT NULL, sender TEXT NOT NULL,
    to_json TEXT NOT NULL, cc_json TEXT NOT NULL, subject TEXT NOT NULL, raw BLOB NOT NULL, definition TEXT,
    application TEXT NOT NULL, sent_at TEXT NOT NULL, in_reply_to TEXT);
CREATE TABLE recipients (pk INTEGER PRIMARY KEY, message_pk INTEGER NOT NULL REFERENCES messages(pk),
    recipient TEXT NOT NULL, recipient_lc TEXT NOT NULL, internal INTEGER NOT NULL, token TEXT UNIQUE,
    mailbox TEXT NOT NULL, mpp TEXT NOT NULL, in_portal INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE mpp_items (pk INTEGER PRIMARY KEY, owner_lc TEXT NOT NULL,
    message_pk INTEGER NOT NULL REFERENCES messages(pk), kind TEXT NOT NULL, raw BLOB NOT NULL,
    received_at TEXT NOT NULL, portal_token TEXT{mpp_extra});
CREATE TABLE outbound (pk INTEGER PRIMARY KEY, message_pk INTEGER, recipient TEXT NOT NULL,
    mail_from TEXT NOT NULL, raw BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL, delivered_at REAL, last_error TEXT{outbound_extra});
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO messages VALUES (1, '<m@x>', 'ines@corp.example', '[]', '[]', 's', x'41', 'All', 'mpp', 't', NULL);
-- identities of an earlier gateway: str.lower(), which folds the KELVIN SIGN and does no IDNA
INSERT INTO recipients VALUES (1, 1, 'Ann@BÜCHER.example', 'ann@bücher.example', 0, 'tok', 'notification',
    'none', 1, 0);
INSERT INTO recipients VALUES (2, 1, 'carl@corp.example', 'carl@corp.example', 1, NULL, 'banner', 'banner', 0, 0);
INSERT INTO mpp_items VALUES (1, 'ann@bücher.example', 1, 'sent', x'', 't', NULL{mpp_values});
INSERT INTO mpp_items VALUES (2, 'carl@corp.example', 1, 'email_with_banner', x'', 't', NULL{mpp_values});
INSERT INTO outbound VALUES (1, 1, 'ann@xn--bcher-kva.example', 'ines@corp.example', x'42', 0, 5.0, NULL,
    NULL{outbound_values});
"""


def old_database(path, *, columns: bool = False, version: bool = False, trigger: str = "") -> None:
    sql = OLD_SCHEMA.format(
        mpp_extra=", compose TEXT, link TEXT" if columns else "",
        mpp_values=", NULL, NULL" if columns else "",
        outbound_extra=", created_at REAL, bounced_at REAL, compose TEXT, link TEXT" if columns else "",
        outbound_values=", 1.0, NULL, NULL, NULL" if columns else "",
    )
    with sqlite3.connect(path) as c:
        c.executescript(sql + trigger)
        if version:
            c.execute("INSERT INTO settings VALUES ('address_key', 'idna-ascii-fold-1')")


def columns(path, table: str) -> set[str]:
    with sqlite3.connect(path) as c:
        return {r[1] for r in c.execute(f"PRAGMA table_info({table})")}


def rows(path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as c:
        return c.execute(sql).fetchall()


def test_the_oldest_database_is_brought_up_to_date_and_its_rows_read_by_todays_identities(db_dir):
    db = db_dir / "old.sqlite3"
    old_database(db)
    store = Store(str(db))
    try:
        assert {"created_at", "bounced_at", "compose", "link"} <= columns(db, "outbound")
        assert {"compose", "link"} <= columns(db, "mpp_items")
        ((created, bounced, compose, link),) = rows(db, "SELECT created_at, bounced_at, compose, link FROM outbound")
        assert created is not None and created > 1e9, "rows of before get a creation time: now"
        assert (bounced, compose, link) == (None, None, None)
        assert rows(db, "SELECT pk, recipient_lc FROM recipients ORDER BY pk") == [
            (1, "ann@xn--bcher-kva.example"),
            (2, "carl@corp.example"),
        ]
        assert rows(db, "SELECT pk, owner_lc FROM mpp_items ORDER BY pk") == [
            (1, "ann@xn--bcher-kva.example"),
            (2, "carl@corp.example"),
        ]
        assert store.get_setting("address_key") == "idna-ascii-fold-1"
        assert [r["token"] for r in store.portal_items("ann@Bücher.Example")] == ["tok"]
        assert [r["kind"] for r in store.mpp_items("ANN@bücher.example")] == ["sent"]
        assert store.pending_count() == 1 and store.queue_stats(created)["pending"] == 1
    finally:
        store.close()
    Store(str(db)).close()  # opened again: nothing left to do, nothing done twice
    assert rows(db, "SELECT COUNT(*) FROM settings") == [(1,)]
    assert rows(db, "SELECT created_at FROM outbound") == [(created,)]


def test_columns_present_but_identities_of_before_are_still_recomputed(db_dir):
    db = db_dir / "mid.sqlite3"
    old_database(db, columns=True)
    Store(str(db)).close()
    assert rows(db, "SELECT recipient_lc FROM recipients WHERE pk = 1") == [("ann@xn--bcher-kva.example",)]
    assert rows(db, "SELECT created_at FROM outbound") == [(1.0,)], "an existing creation time is kept"


def test_identities_recomputed_but_columns_missing_are_still_added(db_dir):
    db = db_dir / "odd.sqlite3"
    old_database(db, version=True)
    Store(str(db)).close()
    assert {"created_at", "bounced_at", "compose", "link"} <= columns(db, "outbound")
    assert {"compose", "link"} <= columns(db, "mpp_items")
    assert rows(db, "SELECT recipient_lc FROM recipients WHERE pk = 1") == [("ann@bücher.example",)], (
        "the version says the identities are today's: they are left alone"
    )


def test_a_migration_that_fails_leaves_the_database_as_it_was(db_dir):
    db = db_dir / "stuck.sqlite3"
    trigger = "CREATE TRIGGER no_update BEFORE UPDATE ON recipients BEGIN SELECT RAISE(ABORT, 'frozen'); END;"
    old_database(db, trigger=trigger)
    with pytest.raises(sqlite3.IntegrityError, match="frozen"):
        Store(str(db))
    assert "created_at" not in columns(db, "outbound") and "compose" not in columns(db, "mpp_items")
    assert rows(db, "SELECT COUNT(*) FROM settings") == [(0,)]


# -- group commit ---------------------------------------------------------------------------------
def message(i: int) -> dict:
    return {
        "message_id": f"<m{i}@x>",
        "sender": "s@corp.example",
        "to_json": "[]",
        "cc_json": "[]",
        "subject": "s",
        "raw": b"r",
        "definition": "All",
        "application": "mpp",
        "sent_at": "t",
        "in_reply_to": None,
    }


@pytest.fixture
def woken():
    return []


@pytest.fixture(params=["file", ":memory:"])
def store(request, db_dir, woken):
    path = str(db_dir / "g.sqlite3") if request.param == "file" else ":memory:"
    s = Store(path, on_commit=lambda: woken.append(1))
    yield s
    s.close()


def test_each_write_is_one_committed_batch_and_only_deliveries_wake_the_worker(store, woken):
    assert (store.batches, store.units) == (0, 0)
    store.set_setting("a", "1")
    assert (store.batches, store.units) == (1, 1)
    assert woken == [], "a setting queues no delivery"
    pk = store.accept(message(1), [], [{"recipient": "r@ext.example", "mail_from": "s@corp.example"}], [])
    assert woken == [1] and store.message_raw(pk) == b"r"
    assert (store.batches, store.units) == (2, 2)
    assert store.get_setting("a") == "1"


def test_a_failed_unit_raises_its_own_error_and_wakes_no_one(store, woken):
    def broken(c):
        c.execute("INSERT INTO settings (key, value) VALUES ('half', 'done')")
        raise ValueError("the unit's own mistake")

    with pytest.raises(ValueError, match="the unit's own mistake"):
        store._write(broken, notify=True)
    assert woken == [] and store.get_setting("half") is None, "the unit's writes are rolled back"
    store.accept(
        message(1),
        [{"recipient": "a@x", "internal": False, "token": "t", "mailbox": "m", "mpp": "m", "in_portal": True}],
        [],
        [],
    )
    with pytest.raises(StorageError) as failed:
        store.accept(
            message(2),
            [{"recipient": "b@x", "internal": False, "token": "t", "mailbox": "m", "mpp": "m", "in_portal": True}],
            [{"recipient": "b@x", "mail_from": "s@corp.example"}],
            [],
        )
    assert str(failed.value).startswith("write failed: UNIQUE constraint failed")
    assert isinstance(failed.value.__cause__, sqlite3.IntegrityError)
    assert woken == [] and store.units == 1


def test_a_commit_that_fails_fails_the_batch_and_the_store_writes_on(store):
    def dangling(c):  # a foreign key checked only at COMMIT
        c.execute("PRAGMA defer_foreign_keys=ON")
        c.execute(
            "INSERT INTO mpp_items (owner_lc, message_pk, kind, raw, received_at) VALUES ('o', 999, 'k', x'', 't')"
        )

    with pytest.raises(StorageError) as failed:
        store._write(dangling)
    assert str(failed.value).startswith("commit failed: FOREIGN KEY constraint failed")
    assert store.mpp_items("o") == [] and store.batches == 0
    store.set_setting("after", "1")
    assert store.get_setting("after") == "1"


def test_a_transaction_sqlite_gave_up_fails_the_whole_batch(store):
    def given_up(c):
        c.execute("ROLLBACK")  # what SQLite does itself on a full disk or an I/O error
        raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(StorageError) as failed:
        store._write(given_up)
    assert str(failed.value) == "write failed: database or disk is full"
    store.set_setting("after", "1")
    assert store.get_setting("after") == "1"


def test_a_vanished_database_file_refuses_writes_with_a_clear_error(db_dir):
    db = db_dir / "gone.sqlite3"
    store = Store(str(db))
    try:
        store.set_setting("a", "1")
        for suffix in ("", "-wal", "-shm"):
            (db_dir / f"gone.sqlite3{suffix}").unlink(missing_ok=True)
        with pytest.raises(StorageError) as failed:
            store.set_setting("b", "2")
        assert str(failed.value).startswith("database file unavailable:")
    finally:
        store.close()
