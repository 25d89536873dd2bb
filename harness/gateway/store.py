"""SQLite persistence of the gateway (WAL mode, behind one lock).

Owns the schema and every query: messages (with their raw original bytes),
per-recipient rows (portal token, mailbox and MPP kinds, deleted flag), MPP
items, the outbound delivery queue, MPP sessions and small settings (the clock
offset). Accepting a message is ONE transaction (``accept``); callers answer
250/202 only after it returns. ``on_commit`` is called after every commit that
adds outbound rows, so the delivery worker wakes at once.

Reads use one long-lived connection. Each write transaction opens the
database afresh, so storage that became read-only (or was restored) is noticed
at the next write instead of being hidden behind file descriptors opened at
start-up. A write that cannot be committed raises ``StorageError``: the
caller must refuse (SMTP 451, HTTP 503), never acknowledge.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

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


class Store:
    def __init__(self, path: str, on_commit: Callable[[], None] | None = None) -> None:
        self._lock = threading.RLock()
        self._path = path
        self._memory = path == ":memory:" or path.startswith("file::memory:")
        self._conn = self._connect()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(SCHEMA)
        self._migrate()
        self.on_commit = on_commit

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
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on a fresh connection (the read connection for :memory:)."""
        with self._lock:
            conn = None
            try:
                conn = self._conn if self._memory else self._connect()
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._discard(conn)
                raise StorageError(f"cannot start a write transaction: {exc}") from exc
            try:
                yield conn
            except BaseException as exc:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                self._discard(conn)
                if isinstance(exc, sqlite3.Error):
                    raise StorageError(f"write failed: {exc}") from exc
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise StorageError(f"commit failed: {exc}") from exc
            finally:
                self._discard(conn)

    def _discard(self, conn: sqlite3.Connection | None) -> None:
        if conn is not None and conn is not self._conn:
            conn.close()

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def _notify(self) -> None:
        if self.on_commit is not None:
            self.on_commit()

    # -- accepting -----------------------------------------------------------
    def accept(self, message: dict, recipients: list[dict], outbound: list[dict], mpp_items: list[dict]) -> int:
        """Write a message with everything that follows from it, atomically."""
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO messages (message_id, sender, to_json, cc_json, subject, raw, definition,"
                " application, sent_at, in_reply_to) VALUES (:message_id, :sender, :to_json, :cc_json,"
                " :subject, :raw, :definition, :application, :sent_at, :in_reply_to)",
                message,
            )
            pk = cur.lastrowid
            for r in recipients:
                c.execute(
                    "INSERT INTO recipients (message_pk, recipient, recipient_lc, internal, token, mailbox,"
                    " mpp, in_portal) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (pk, r["recipient"], address_key(r["recipient"]), int(r["internal"]), r["token"],
                     r["mailbox"], r["mpp"], int(r["in_portal"])),
                )
            for o in outbound:
                c.execute(
                    "INSERT INTO outbound (message_pk, recipient, mail_from, raw, next_attempt_at, created_at)"
                    " VALUES (?, ?, ?, ?, 0, ?)",
                    (pk, o["recipient"], o["mail_from"], o["raw"], time.time()),
                )
            for m in mpp_items:
                c.execute(
                    "INSERT INTO mpp_items (owner_lc, message_pk, kind, raw, received_at, portal_token)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (address_key(m["owner"]), pk, m["kind"], m["raw"], m["received_at"], m.get("portal_token")),
                )
        if outbound:
            self._notify()
        return pk

    def enqueue(self, recipient: str, mail_from: str, raw: bytes, message_pk: int | None = None) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO outbound (message_pk, recipient, mail_from, raw, next_attempt_at, created_at)"
                " VALUES (?, ?, ?, ?, 0, ?)",
                (message_pk, recipient, mail_from, raw, time.time()),
            )
        self._notify()

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
        with self._tx() as c:
            cur = c.execute(
                "UPDATE recipients SET deleted = 1 WHERE token = ? AND in_portal = 1 AND deleted = 0", (token,)
            )
            return cur.rowcount == 1

    # -- MPP -----------------------------------------------------------------
    def create_mpp_session(self, token: str, address: str, created_at: str) -> None:
        with self._tx() as c:
            c.execute("INSERT INTO mpp_sessions (token, address, created_at) VALUES (?, ?, ?)",
                      (token, address, created_at))

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
        with self._tx() as c:
            c.execute("UPDATE outbound SET attempts = attempts + 1, bounced_at = ?, last_error = ? WHERE pk = ?",
                      (at, error[:500], pk))
            if bounce is not None:
                c.execute("INSERT INTO outbound (message_pk, recipient, mail_from, raw, next_attempt_at, created_at)"
                          " VALUES (NULL, ?, '', ?, 0, ?)", (bounce["recipient"], bounce["raw"], at))
        if bounce is not None:
            self._notify()

    def mark_delivered(self, pk: int, at: float) -> None:
        with self._tx() as c:
            c.execute("UPDATE outbound SET delivered_at = ?, attempts = attempts + 1 WHERE pk = ?", (at, pk))

    def mark_failed(self, pk: int, next_at: float, error: str) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE outbound SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE pk = ?",
                (next_at, error[:500], pk),
            )

    # -- settings ------------------------------------------------------------
    def get_setting(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM settings WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def set_setting(self, key: str, value: str) -> None:
        with self._tx() as c:
            c.execute("INSERT INTO settings (key, value) VALUES (?, ?)"
                      " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
