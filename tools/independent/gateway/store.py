"""Owns: the independent gateway's SQLite file (messages with their bytes, portal copies, MPP items, outbound queue,
sessions, clock).

One connection shared by all threads behind a lock: the gateway's volume is small
and this keeps every accept a single transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (key TEXT PRIMARY KEY, id TEXT, sender TEXT, to_json TEXT, cc_json TEXT,
    subject TEXT, text TEXT, html TEXT, definition TEXT, application TEXT, sent_at TEXT, refs TEXT, raw BLOB);
CREATE TABLE IF NOT EXISTS portal (token TEXT PRIMARY KEY, message_id TEXT, recipient TEXT,  -- message_id: messages.key
    created_at TEXT, deleted INTEGER DEFAULT 0, receipt_to TEXT DEFAULT '');
CREATE TABLE IF NOT EXISTS mpp (id INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT, kind TEXT, sender TEXT,
    subject TEXT, text TEXT, html TEXT, headers_json TEXT, received_at TEXT, portal_url TEXT, raw BLOB);
CREATE TABLE IF NOT EXISTS outbound (id INTEGER PRIMARY KEY AUTOINCREMENT, mail_from TEXT, rcpt TEXT,
    data BLOB, attempts INTEGER DEFAULT 0, done INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, address TEXT);
CREATE TABLE IF NOT EXISTS clock (k INTEGER PRIMARY KEY CHECK (k = 1), offset_days REAL);
"""


class StorageError(Exception):
    """The database cannot be written."""


class Store:
    def __init__(self, path: str):
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        with self.lock:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.executescript(SCHEMA)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                yield self.conn
                self.conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise StorageError(str(exc)) from None
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    def all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, args).fetchall()

    def one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        with self.lock:
            return self.conn.execute(sql, args).fetchone()

    def offset_days(self) -> float:
        row = self.one("SELECT offset_days FROM clock WHERE k = 1")
        return float(row["offset_days"]) if row else 0.0

    def advance(self, days: float) -> None:
        with self.tx() as db:
            db.execute(
                "INSERT INTO clock (k, offset_days) VALUES (1, ?) ON CONFLICT(k) DO UPDATE SET "
                "offset_days = offset_days + excluded.offset_days",
                (days,),
            )


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
