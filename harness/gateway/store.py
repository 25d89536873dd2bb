"""SQLite persistence of the gateway (WAL mode, group commit): every query.

Owns the schema and every query: messages (with their raw original bytes,
stored once whatever the recipient count), per-recipient rows (portal token,
mailbox and MPP kinds, deleted flag), MPP items and the outbound delivery queue
(each either composed from the message when read or delivered, or holding the
small message the gateway wrote itself), MPP sessions, small settings (the
clock offset) and pruning what was delivered longer ago than the retention. Accepting a message is ONE unit of work (``accept``); callers answer
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

import sqlite3
import time
from collections.abc import Callable

from .group_commit import GroupCommit, StorageError  # noqa: F401  (StorageError: re-exported for callers)
from .policy import address_key


class Store(GroupCommit):
    #: when a delivery queued at ``now`` is first tried (the delay knob, harness/gateway/latency.py): at once
    first_attempt: Callable[[float], float] = staticmethod(lambda now: 0.0)

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

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
            assert pk is not None  # an INSERT's row id
            c.executemany(
                "INSERT INTO recipients (message_pk, recipient, recipient_lc, internal, token, mailbox,"
                " mpp, in_portal) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        pk,
                        r["recipient"],
                        address_key(r["recipient"]),
                        int(r["internal"]),
                        r["token"],
                        r["mailbox"],
                        r["mpp"],
                        int(r["in_portal"]),
                    )
                    for r in recipients
                ],
            )
            now = time.time()
            c.executemany(
                "INSERT INTO outbound (message_pk, recipient, mail_from, raw, next_attempt_at, created_at, compose,"
                " link) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        pk,
                        o["recipient"],
                        o["mail_from"],
                        o.get("raw", b""),
                        self.first_attempt(now),
                        now,
                        o.get("compose"),
                        o.get("link"),
                    )
                    for o in outbound
                ],
            )
            c.executemany(
                "INSERT INTO mpp_items (owner_lc, message_pk, kind, raw, received_at, portal_token, compose, link)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        address_key(m["owner"]),
                        pk,
                        m["kind"],
                        m.get("raw", b""),
                        m["received_at"],
                        m.get("portal_token"),
                        m.get("compose"),
                        m.get("link"),
                    )
                    for m in mpp_items
                ],
            )
            return pk

        return self._write(unit, notify=bool(outbound))

    def enqueue(self, recipient: str, mail_from: str, raw: bytes, message_pk: int | None = None) -> None:
        self._write(
            lambda c: c.execute(
                "INSERT INTO outbound (message_pk, recipient, mail_from, raw, next_attempt_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (message_pk, recipient, mail_from, raw, self.first_attempt(time.time()), time.time()),
            ),
            notify=True,
        )

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
        return self._write(
            lambda c: (
                c.execute(
                    "UPDATE recipients SET deleted = 1 WHERE token = ? AND in_portal = 1 AND deleted = 0", (token,)
                ).rowcount
                == 1
            )
        )

    # -- MPP -----------------------------------------------------------------
    def create_mpp_session(self, token: str, address: str, created_at: str) -> None:
        self._write(
            lambda c: c.execute(
                "INSERT INTO mpp_sessions (token, address, created_at) VALUES (?, ?, ?)", (token, address, created_at)
            )
        )

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
        """The rows due at ``now``, taking turns between messages: every message's first due row, then
        every message's second, … (each in the order it fell due), so one message to a hundred
        recipients never holds back a message that came after it."""
        return self._query(
            "SELECT o.pk, o.recipient, o.mail_from, o.raw, o.attempts, o.message_pk, o.compose, o.link, m.sender"
            " FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY COALESCE(message_pk, -pk) ORDER BY next_attempt_at, pk)"
            f" AS turn FROM outbound WHERE {self.PENDING} AND next_attempt_at <= ?) o"
            " LEFT JOIN messages m ON m.pk = o.message_pk"
            " ORDER BY o.turn, o.next_attempt_at, o.pk LIMIT ?",
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
            " SUM(bounced_at IS NOT NULL) AS bounced FROM outbound"
        )[0]
        oldest = row["oldest"]
        return {
            "pending": row["pending"] or 0,
            "oldest_pending_age_s": max(0.0, now - oldest) if oldest else 0.0,
            "bounced": row["bounced"] or 0,
        }

    def mark_bounced(self, pk: int, at: float, error: str, bounce: dict | None) -> None:
        """The row failed for good: it leaves the queue and, in the same transaction, its bounce is queued."""

        def unit(c: sqlite3.Connection) -> None:
            c.execute(
                "UPDATE outbound SET attempts = attempts + 1, bounced_at = ?, last_error = ? WHERE pk = ?",
                (at, error[:500], pk),
            )
            if bounce is not None:
                c.execute(
                    "INSERT INTO outbound (message_pk, recipient, mail_from, raw, next_attempt_at, created_at)"
                    " VALUES (NULL, ?, '', ?, ?, ?)",
                    (bounce["recipient"], bounce["raw"], self.first_attempt(at), at),
                )

        self._write(unit, notify=bounce is not None)

    def mark_delivered(self, pk: int, at: float) -> None:
        self.mark_delivered_many({pk: at})

    def mark_delivered_many(self, sent: dict[int, float]) -> None:
        """Rows the relay took (pk -> when), recorded in one unit, without an fsync of its own: the
        commit reaches the WAL file before this returns, so it survives the process being killed;
        only a power cut could lose it, and that means a duplicate delivery, never a lost one."""
        self._write(
            lambda c: c.executemany(
                "UPDATE outbound SET delivered_at = ?, attempts = attempts + 1 WHERE pk = ?",
                [(at, pk) for pk, at in sent.items()],
            ),
            durable=False,
        )

    def mark_failed(self, pk: int, next_at: float, error: str) -> None:
        self._write(
            lambda c: c.execute(
                "UPDATE outbound SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE pk = ?",
                (next_at, error[:500], pk),
            )
        )

    # -- a message's bytes, stored once; retention ------------------------------
    def message_raw(self, pk: int) -> bytes:
        rows = self._query("SELECT raw FROM messages WHERE pk = ?", (pk,))
        return bytes(rows[0]["raw"]) if rows else b""

    def prune(self, before: float) -> tuple[int, int]:
        """Forget what was delivered (or bounced) before ``before`` (epoch seconds): those outbound rows,
        and then the bytes of every message nothing refers to any more (no outbound row, no MPP item, no
        SM Portal message that is not deleted). Returns (rows deleted, messages emptied)."""

        def unit(c: sqlite3.Connection) -> tuple[int, int]:
            rows = c.execute(
                "DELETE FROM outbound WHERE (delivered_at IS NOT NULL AND delivered_at < ?)"
                " OR (bounced_at IS NOT NULL AND bounced_at < ?)",
                (before, before),
            ).rowcount
            emptied = c.execute(
                "UPDATE messages SET raw = x'' WHERE length(raw) > 0"
                " AND NOT EXISTS (SELECT 1 FROM outbound o WHERE o.message_pk = messages.pk)"
                " AND NOT EXISTS (SELECT 1 FROM mpp_items i WHERE i.message_pk = messages.pk)"
                " AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_pk = messages.pk"
                " AND r.in_portal = 1 AND r.deleted = 0)"
            ).rowcount
            return rows, emptied

        return self._write(unit, durable=False)

    # -- settings ------------------------------------------------------------
    def get_setting(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM settings WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def set_setting(self, key: str, value: str) -> None:
        self._write(
            lambda c: c.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
        )
