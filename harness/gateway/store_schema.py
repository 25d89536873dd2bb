"""The gateway's SQLite schema, and bringing an older database up to date.

Owns ``SCHEMA`` (messages with their raw bytes, per-recipient rows, MPP items, the outbound queue, MPP
sessions, settings) and ``migrate(conn)``. A message's bytes are stored once, in ``messages``: an
outbound row or MPP item that is the message itself (an email with banner, a plain relay) holds no
bytes of its own but ``compose`` (its kind) and ``link`` (the recipient's portal link, or NULL), and is
composed when delivered or read; only what the gateway writes itself (a notification, a bounce) is
stored in the row (``raw``; empty for composed rows).
"""

from __future__ import annotations

import sqlite3
import time

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
    portal_token TEXT,
    compose TEXT,
    link TEXT
);
CREATE INDEX IF NOT EXISTS mpp_owner ON mpp_items(owner_lc);
CREATE INDEX IF NOT EXISTS mpp_message ON mpp_items(message_pk);
CREATE INDEX IF NOT EXISTS recipients_message ON recipients(message_pk);
CREATE TABLE IF NOT EXISTS outbound (
    pk INTEGER PRIMARY KEY,
    message_pk INTEGER,
    recipient TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    raw BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    delivered_at REAL,
    last_error TEXT,
    created_at REAL,
    bounced_at REAL,
    compose TEXT,
    link TEXT
);
CREATE INDEX IF NOT EXISTS outbound_pending ON outbound(delivered_at, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbound_message ON outbound(message_pk);
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


def migrate(c: sqlite3.Connection) -> None:
    """Bring a database written by an earlier gateway up to date (idempotent, one transaction):
    outbound rows get ``created_at`` and ``bounced_at``, outbound rows and MPP items ``compose`` and ``link``; identities computed with ``str.lower()``
    are recomputed with ``policy.address_key`` (only rows with non-ASCII characters can differ)."""
    cols = {r["name"] for r in c.execute("PRAGMA table_info(outbound)")}
    mpp_cols = {r["name"] for r in c.execute("PRAGMA table_info(mpp_items)")}
    version = c.execute("SELECT value FROM settings WHERE key = 'address_key'").fetchall()
    if {"created_at", "bounced_at", "compose", "link"} <= cols and {"compose", "link"} <= mpp_cols and version:
        return
    c.execute("BEGIN IMMEDIATE")
    try:
        if "created_at" not in cols:
            c.execute("ALTER TABLE outbound ADD COLUMN created_at REAL")
            c.execute("UPDATE outbound SET created_at = ? WHERE created_at IS NULL", (time.time(),))
        if "bounced_at" not in cols:
            c.execute("ALTER TABLE outbound ADD COLUMN bounced_at REAL")
        for table, present in (("outbound", cols), ("mpp_items", mpp_cols)):
            for column in ("compose", "link"):  # rows written before keep their own bytes: compose NULL
                if column not in present:
                    c.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
        if not version:
            for r in c.execute("SELECT pk, message_pk, recipient, recipient_lc FROM recipients").fetchall():
                key = address_key(r["recipient"])
                if key != r["recipient_lc"]:
                    c.execute("UPDATE recipients SET recipient_lc = ? WHERE pk = ?", (key, r["pk"]))
                    c.execute(
                        "UPDATE mpp_items SET owner_lc = ? WHERE message_pk = ? AND owner_lc = ?",
                        (key, r["message_pk"], r["recipient_lc"]),
                    )
            c.execute("INSERT INTO settings (key, value) VALUES ('address_key', 'idna-ascii-fold-1')")
        c.execute("COMMIT")
    except BaseException:
        c.execute("ROLLBACK")
        raise
