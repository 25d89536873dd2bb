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
from contextlib import contextmanager
from typing import Callable, Iterator

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
        self.on_commit = on_commit

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
                    (pk, r["recipient"], r["recipient"].lower(), int(r["internal"]), r["token"],
                     r["mailbox"], r["mpp"], int(r["in_portal"])),
                )
            for o in outbound:
                c.execute(
                    "INSERT INTO outbound (message_pk, recipient, mail_from, raw, next_attempt_at)"
                    " VALUES (?, ?, ?, ?, 0)",
                    (pk, o["recipient"], o["mail_from"], o["raw"]),
                )
            for m in mpp_items:
                c.execute(
                    "INSERT INTO mpp_items (owner_lc, message_pk, kind, raw, received_at, portal_token)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (m["owner"].lower(), pk, m["kind"], m["raw"], m["received_at"], m.get("portal_token")),
                )
        if outbound:
            self._notify()
        return pk

    def enqueue(self, recipient: str, mail_from: str, raw: bytes, message_pk: int | None = None) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO outbound (message_pk, recipient, mail_from, raw, next_attempt_at) VALUES (?, ?, ?, ?, 0)",
                (message_pk, recipient, mail_from, raw),
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
            (recipient.lower(),),
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
            (owner.lower(),),
        )

    # -- outbound queue ------------------------------------------------------
    def due_outbound(self, now: float, limit: int = 50) -> list[sqlite3.Row]:
        return self._query(
            "SELECT pk, recipient, mail_from, raw, attempts FROM outbound"
            " WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, pk LIMIT ?",
            (now, limit),
        )

    def next_attempt_time(self) -> float | None:
        rows = self._query("SELECT MIN(next_attempt_at) AS t FROM outbound WHERE delivered_at IS NULL")
        return rows[0]["t"] if rows else None

    def pending_count(self) -> int:
        return self._query("SELECT COUNT(*) AS n FROM outbound WHERE delivered_at IS NULL")[0]["n"]

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
