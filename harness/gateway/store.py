"""SQLite persistence of the gateway (WAL mode, group commit).

Owns the schema and every query: messages (with their raw original bytes),
per-recipient rows (portal token, mailbox and MPP kinds, deleted flag), MPP
items, the outbound delivery queue, MPP sessions and small settings (the clock
offset). Accepting a message is ONE unit of work (``accept``); callers answer
250/202 only after it returns, i.e. after the transaction that holds it has
committed with ``synchronous=FULL`` (fsync). ``on_commit`` is called after
every commit that adds outbound rows, so the delivery worker wakes at once.

Group commit: writers that arrive while a transaction is committing wait, and
the next of them commits everything queued meanwhile in one transaction and
one fsync (each unit in its own SAVEPOINT, so one unit's constraint error
fails only that unit). Nothing is acknowledged before its commit; a failed
BEGIN or COMMIT fails every unit of the batch with ``StorageError``.
Hand-written: neither sqlite3 nor a library on the index offers group commit
for a synchronous caller.

Reads use one long-lived connection; writes one kept write connection,
revalidated before every batch: if the database file was replaced (restored:
another inode) it is reopened, and if the file or its folder is no longer
writable (chmod, a read-only mount) the batch fails at once. So storage that
became read-only is noticed at the next write instead of being hidden behind
file descriptors opened at start-up. A write that cannot be committed raises
``StorageError``: the caller must refuse (SMTP 451, HTTP 503), never
acknowledge.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Callable

from .policy import address_key

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    pk INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    to_json TEXT NOT NULL,
    cc_json TEXT NOT NULL,
    subject TEXT NOT NULL,
    raw BLOB NOT NULL,
    definition TEXT,
    application TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    in_reply_to TEXT
);
CREATE INDEX IF NOT EXISTS messages_mid ON messages(message_id);
CREATE TABLE IF NOT EXISTS recipients (
    pk INTEGER PRIMARY KEY,
    message_pk INTEGER NOT NULL REFERENCES messages(pk),
    recipient TEXT NOT NULL,
    recipient_lc TEXT NOT NULL,
    internal INTEGER NOT NULL,
    token TEXT UNIQUE,
    mailbox TEXT NOT NULL,
    mpp TEXT NOT NULL,
    in_portal INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS recipients_lc ON recipients(recipient_lc);
CREATE TABLE IF NOT EXISTS mpp_items (
    pk INTEGER PRIMARY KEY,
    owner_lc TEXT NOT NULL,
    message_pk INTEGER NOT NULL REFERENCES messages(pk),
    kind TEXT NOT NULL,
    raw BLOB NOT NULL,
    received_at TEXT NOT NULL,
    portal_token TEXT
);
CREATE INDEX IF NOT EXISTS mpp_owner ON mpp_items(owner_lc);
CREATE TABLE IF NOT EXISTS outbound (
    pk INTEGER PRIMARY KEY,
    message_pk INTEGER,
    recipient TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    raw BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    delivered_at REAL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbound_pending ON outbound(delivered_at, next_attempt_at);
CREATE TABLE IF NOT EXISTS mpp_sessions (
    token TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class StorageError(Exception):
    """The database cannot take a write now (read-only, full, I/O error); nothing was committed."""


class _Unit:
    """One caller's write: ``fn(conn)`` run inside the batch's transaction, its outcome after COMMIT."""

    __slots__ = ("fn", "done", "value", "error", "notify", "durable")

    def __init__(self, fn: Callable[[sqlite3.Connection], object], notify: bool, durable: bool) -> None:
        self.fn = fn
        self.notify = notify
        self.durable = durable
        self.done = False
        self.value: object = None
        self.error: BaseException | None = None

    def outcome(self) -> object:
        if self.error is not None:
            raise self.error
        return self.value


class Store:
    def __init__(self, path: str, on_commit: Callable[[], None] | None = None) -> None:
        self._lock = threading.RLock()  # the read connection
        self._path = path
        self._memory = path == ":memory:" or path.startswith("file::memory:")
        self._conn = self._connect()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(SCHEMA)
        self._migrate()
        self.on_commit = on_commit
        self._writes = threading.Condition()
        self._queued: list[_Unit] = []
        self._committing = False
        self._writer: sqlite3.Connection | None = None
        self._writer_file: tuple[int, int] | None = None
        self._writer_sync = "FULL"  # what _connect sets
        self.batches = 0  # transactions committed, for tests and the bench
        self.units = 0  # units committed in them

    def _migrate(self) -> None:
        """Bring a database written by an earlier gateway up to date (idempotent, one transaction):
        outbound rows get ``created_at`` and ``bounced_at``; identities computed with ``str.lower()``
        are recomputed with ``policy.address_key`` (only rows with non-ASCII characters can differ)."""
        with self._lock:
            cols = {r["name"] for r in self._conn.execute("PRAGMA table_info(outbound)")}
            version = self._conn.execute("SELECT value FROM settings WHERE key = 'address_key'").fetchall()
            if {"created_at", "bounced_at"} <= cols and version:
                return
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            try:
                if "created_at" not in cols:
                    c.execute("ALTER TABLE outbound ADD COLUMN created_at REAL")
                    c.execute("UPDATE outbound SET created_at = ? WHERE created_at IS NULL", (time.time(),))
                if "bounced_at" not in cols:
                    c.execute("ALTER TABLE outbound ADD COLUMN bounced_at REAL")
                if not version:
                    for r in c.execute("SELECT pk, message_pk, recipient, recipient_lc FROM recipients").fetchall():
                        key = address_key(r["recipient"])
                        if key != r["recipient_lc"]:
                            c.execute("UPDATE recipients SET recipient_lc = ? WHERE pk = ?", (key, r["pk"]))
                            c.execute("UPDATE mpp_items SET owner_lc = ? WHERE message_pk = ? AND owner_lc = ?",
                                      (key, r["message_pk"], r["recipient_lc"]))
                    c.execute("INSERT INTO settings (key, value) VALUES ('address_key', 'idna-ascii-fold-1')")
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def close(self) -> None:
        with self._writes:
            self._drop_writer()
        with self._lock:
            self._conn.close()

    # -- writing: group commit -----------------------------------------------
    def _write(self, fn: Callable[[sqlite3.Connection], object], notify: bool = False,
               durable: bool = True) -> object:
        """Run ``fn(conn)`` in a write transaction; return its value once committed (or raise).
        ``notify``: the unit adds outbound rows, call ``on_commit`` after its commit. ``durable=False``:
        the commit may skip the fsync when no unit of its batch needs one (see ``mark_delivered_many``)."""
        unit = _Unit(fn, notify, durable)
        with self._writes:
            self._queued.append(unit)
            while self._committing and not unit.done:
                self._writes.wait()
            if unit.done:
                return self._finish(unit)
            self._committing = True
            batch, self._queued = self._queued, []
        try:
            if self._memory:  # one connection for reads and writes
                with self._lock:
                    self._commit(batch)
            else:
                self._commit(batch)
        finally:
            with self._writes:
                self._committing = False
                self._writes.notify_all()
        return self._finish(unit)

    def _finish(self, unit: _Unit) -> object:
        if unit.notify and unit.error is None:
            self._notify()
        return unit.outcome()

    def _commit(self, batch: list[_Unit]) -> None:
        """One transaction for ``batch``; every unit ends done, with a value or an error."""
        try:
            try:
                conn = self._writable()
                sync = "FULL" if any(u.durable for u in batch) else "NORMAL"
                if sync != self._writer_sync:
                    conn.execute(f"PRAGMA synchronous={sync}")
                    self._writer_sync = sync
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._drop_writer()
                raise StorageError(f"cannot start a write transaction: {exc}") from exc
            for i, unit in enumerate(batch):
                conn.execute("SAVEPOINT unit")
                try:
                    unit.value = unit.fn(conn)
                except BaseException as exc:  # noqa: BLE001 - the unit's own failure, handed to its caller
                    unit.error = exc
                    if isinstance(exc, sqlite3.Error):
                        unit.error = StorageError(f"write failed: {exc}")
                        unit.error.__cause__ = exc
                    if not conn.in_transaction:  # SQLite gave up the whole transaction (I/O error, disk full)
                        raise StorageError(f"write failed: {exc}") from exc
                    conn.execute("ROLLBACK TO unit")
                conn.execute("RELEASE unit")
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StorageError(f"commit failed: {exc}") from exc
            self.batches += 1
            self.units += sum(u.error is None for u in batch)
        except BaseException as exc:
            if self._writer is not None and self._writer.in_transaction:
                try:
                    self._writer.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            self._drop_writer()
            failure = exc if isinstance(exc, StorageError) else StorageError(f"write failed: {exc}")
            for unit in batch:  # nothing of this batch is in the database
                unit.value, unit.error = None, failure
        finally:
            for unit in batch:
                unit.done = True

    def _writable(self) -> sqlite3.Connection:
        """The kept write connection, reopened if the file was replaced; StorageError if it cannot be written."""
        if self._memory:
            return self._conn
        try:
            st = os.stat(self._path)
        except OSError as exc:
            self._drop_writer()
            raise StorageError(f"database file unavailable: {exc}") from exc
        folder = os.path.dirname(os.path.abspath(self._path))
        if not (os.access(self._path, os.W_OK) and os.access(folder, os.W_OK)):
            self._drop_writer()
            raise StorageError(f"database {self._path} or its folder is not writable")
        if self._writer is None or self._writer_file != (st.st_dev, st.st_ino):
            self._drop_writer()
            self._writer = self._connect()
            self._writer_file = (st.st_dev, st.st_ino)
        return self._writer

    def _drop_writer(self) -> None:
        if self._writer is not None and self._writer is not self._conn:
            try:
                self._writer.close()
            except sqlite3.Error:
                pass
        self._writer, self._writer_file, self._writer_sync = None, None, "FULL"

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def _notify(self) -> None:
        if self.on_commit is not None:
            self.on_commit()

    # -- accepting -----------------------------------------------------------
    def accept(self, message: dict, recipients: list[dict], outbound: list[dict], mpp_items: list[dict]) -> int:
        """Write a message with everything that follows from it, atomically."""
        def unit(c: sqlite3.Connection) -> int:
            cur = c.execute(
                "INSERT INTO messages (message_id, sender, to_json, cc_json, subject, raw, definition,"
                " application, sent_at, in_reply_to) VALUES (:message_id, :sender, :to_json, :cc_json,"
                " :subject, :raw, :definition, :application, :sent_at, :in_reply_to)",
                message,
            )
            pk = cur.lastrowid
            c.executemany(
                "INSERT INTO recipients (message_pk, recipient, recipient_lc, internal, token, mailbox,"
                " mpp, in_portal) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(pk, r["recipient"], address_key(r["recipient"]), int(r["internal"]), r["token"],
                  r["mailbox"], r["mpp"], int(r["in_portal"])) for r in recipients],
            )
            now = time.time()
            c.executemany(
                "INSERT INTO outbound (message_pk, recipient, mail_from, raw, next_attempt_at, created_at)"
                " VALUES (?, ?, ?, ?, 0, ?)",
                [(pk, o["recipient"], o["mail_from"], o["raw"], now) for o in outbound],
            )
            c.executemany(
                "INSERT INTO mpp_items (owner_lc, message_pk, kind, raw, received_at, portal_token)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(address_key(m["owner"]), pk, m["kind"], m["raw"], m["received_at"], m.get("portal_token"))
                 for m in mpp_items],
            )
            return pk
        return self._write(unit, notify=bool(outbound))

    def enqueue(self, recipient: str, mail_from: str, raw: bytes, message_pk: int | None = None) -> None:
        self._write(lambda c: c.execute(
            "INSERT INTO outbound (message_pk, recipient, mail_from, raw, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, ?, 0, ?)", (message_pk, recipient, mail_from, raw, time.time())), notify=True)
    # -- SM Portal -----------------------------------------------------------
    def by_token(self, token: str) -> sqlite3.Row | None:
        rows = self._query(
            "SELECT r.pk AS rpk, r.recipient, r.token, r.internal, m.* FROM recipients r"
            " JOIN messages m ON m.pk = r.message_pk"
            " WHERE r.token = ? AND r.in_portal = 1 AND r.deleted = 0",
            (token,),
        )
        return rows[0] if rows else None

    def portal_items(self, recipient: str) -> list[sqlite3.Row]:
        return self._query(
            "SELECT r.token, r.recipient, m.* FROM recipients r JOIN messages m ON m.pk = r.message_pk"
            " WHERE r.recipient_lc = ? AND r.in_portal = 1 AND r.deleted = 0 ORDER BY m.pk",
            (address_key(recipient),),
        )

    def delete_token(self, token: str) -> bool:
        return self._write(lambda c: c.execute(
            "UPDATE recipients SET deleted = 1 WHERE token = ? AND in_portal = 1 AND deleted = 0", (token,)
        ).rowcount == 1)

    # -- MPP -----------------------------------------------------------------
    def create_mpp_session(self, token: str, address: str, created_at: str) -> None:
        self._write(lambda c: c.execute("INSERT INTO mpp_sessions (token, address, created_at) VALUES (?, ?, ?)",
                                        (token, address, created_at)))

    def mpp_session(self, token: str) -> str | None:
        rows = self._query("SELECT address FROM mpp_sessions WHERE token = ?", (token,))
        return rows[0]["address"] if rows else None

    def mpp_items(self, owner: str) -> list[sqlite3.Row]:
        return self._query(
            "SELECT i.*, m.message_id FROM mpp_items i JOIN messages m ON m.pk = i.message_pk"
            " WHERE i.owner_lc = ? ORDER BY i.pk",
            (address_key(owner),),
        )

    # -- outbound queue ------------------------------------------------------
    # a row is pending until it is delivered or bounced; either way it leaves the queue
    PENDING = "delivered_at IS NULL AND bounced_at IS NULL"

    def due_outbound(self, now: float, limit: int = 50) -> list[sqlite3.Row]:
        return self._query(
            "SELECT o.pk, o.recipient, o.mail_from, o.raw, o.attempts, o.message_pk, m.sender FROM outbound o"
            " LEFT JOIN messages m ON m.pk = o.message_pk"
            f" WHERE o.{self.PENDING.replace(' AND ', ' AND o.')} AND o.next_attempt_at <= ?"
            " ORDER BY o.next_attempt_at, o.pk LIMIT ?",
            (now, limit),
        )

    def next_attempt_time(self) -> float | None:
        rows = self._query(f"SELECT MIN(next_attempt_at) AS t FROM outbound WHERE {self.PENDING}")
        return rows[0]["t"] if rows else None

    def pending_count(self) -> int:
        return self._query(f"SELECT COUNT(*) AS n FROM outbound WHERE {self.PENDING}")[0]["n"]

    def queue_stats(self, now: float) -> dict:
        """pending rows, the age in seconds of the oldest, rows bounced (ever)."""
        row = self._query(
            f"SELECT SUM({self.PENDING}) AS pending, MIN(CASE WHEN {self.PENDING} THEN created_at END) AS oldest,"
            " SUM(bounced_at IS NOT NULL) AS bounced FROM outbound")[0]
        oldest = row["oldest"]
        return {"pending": row["pending"] or 0, "oldest_pending_age_s": max(0.0, now - oldest) if oldest else 0.0,
                "bounced": row["bounced"] or 0}

    def mark_bounced(self, pk: int, at: float, error: str, bounce: dict | None) -> None:
        """The row failed for good: it leaves the queue and, in the same transaction, its bounce is queued."""
        def unit(c: sqlite3.Connection) -> None:
            c.execute("UPDATE outbound SET attempts = attempts + 1, bounced_at = ?, last_error = ? WHERE pk = ?",
                      (at, error[:500], pk))
            if bounce is not None:
                c.execute("INSERT INTO outbound (message_pk, recipient, mail_from, raw, next_attempt_at, created_at)"
                          " VALUES (NULL, ?, '', ?, 0, ?)", (bounce["recipient"], bounce["raw"], at))
        self._write(unit, notify=bounce is not None)

    def mark_delivered(self, pk: int, at: float) -> None:
        self.mark_delivered_many({pk: at})

    def mark_delivered_many(self, sent: dict[int, float]) -> None:
        """Rows the relay took (pk -> when), recorded in one unit, without an fsync of its own: the
        commit reaches the WAL file before this returns, so it survives the process being killed;
        only a power cut could lose it, and that means a duplicate delivery, never a lost one."""
        self._write(lambda c: c.executemany(
            "UPDATE outbound SET delivered_at = ?, attempts = attempts + 1 WHERE pk = ?",
            [(at, pk) for pk, at in sent.items()]), durable=False)

    def mark_failed(self, pk: int, next_at: float, error: str) -> None:
        self._write(lambda c: c.execute(
            "UPDATE outbound SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE pk = ?",
            (next_at, error[:500], pk)))

    # -- settings ------------------------------------------------------------
    def get_setting(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM settings WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def set_setting(self, key: str, value: str) -> None:
        self._write(lambda c: c.execute("INSERT INTO settings (key, value) VALUES (?, ?)"
                                        " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value)))
