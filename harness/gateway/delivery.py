"""The outbound queue worker: delivers committed rows to the relay over SMTP.

Owns ``DeliveryWorker``, one background thread. It takes due rows from the
store's outbound queue, sends each with smtplib to relay_host:relay_port and
marks it delivered right after the relay's 250 (so a message is delivered
once, as far as SMTP allows). A row the relay took is never sent again by this
process, even when the store cannot record it (read-only disk): it is kept in
memory and recorded as soon as the store takes writes again.

Each row fails alone: ANY exception while sending it (not only OSError and
SMTPException - an address smtplib cannot encode raises UnicodeEncodeError)
is recorded on that row, the connection is dropped, and the other rows keep
flowing. A temporary failure is retried with backoff 0.05 s doubling up to
2 s, at most ``max_attempts`` times; a permanent one (a 5xx reply, an address
that cannot be encoded) or the last attempt ends the row: it leaves the queue
and, in the same transaction, a delivery status notification (bounce.dsn,
RFC 3464) is queued to the original sender - the message's sender for the
gateway's own notifications, else the row's envelope sender. A bounce is sent
with the null reverse path and is never bounced itself. The worker sleeps
only until the next retry is due, and wakes at once when ``wake()`` is called
(after each commit). The connection to the relay is kept between rounds
and closed after ``RELAY_IDLE_S`` unused; if the relay closed it meanwhile,
the row is sent again at once on a new connection (nothing had been sent on
the old one). Rows left pending by an earlier run are picked up at
start-up. A row that is the message itself (an email with banner, a plain
relay) is composed from the one stored copy just before it is sent
(``compose``, set by the gateway). Once a minute, rows delivered or bounced
longer ago than ``retention_s`` are pruned, with the bytes of messages nothing
refers to any more (``store.prune``).
"""

from __future__ import annotations

import logging
import smtplib
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from . import bounce
from .store import StorageError

log = logging.getLogger("smlite.gateway")

BACKOFF_START = 0.05
BACKOFF_MAX = 2.0
RELAY_IDLE_S = 5.0  # a relay connection unused this long is closed
PRUNE_EVERY_S = 60.0  # how often delivered rows past the retention are looked for
MAX_ATTEMPTS = 200  # with the backoff above: about 6.5 minutes of a relay that is down, then a bounce


DUE_BATCH = 8  # rows taken at a time: a message committed meanwhile waits for at most these, then takes its turn


def backoff(attempts: int) -> float:
    """Delay after the ``attempts``-th failure (1-based)."""
    return min(BACKOFF_START * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


class DeliveryWorker:
    def __init__(
        self,
        store,
        relay_host: str,
        relay_port: int,
        timeout: float = 10.0,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        notification_from: str = "",
        domain: str = "localhost",
        retention_s: float = 86400.0,
    ) -> None:
        self.store = store
        self.relay = (relay_host, relay_port)
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.notification_from = notification_from.lower()
        self.domain = domain
        self.hostname = socket.getfqdn() or "localhost"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._sent: dict[int, float] = {}  # pk -> when the relay took it, not yet marked in the store
        self._smtp: smtplib.SMTP | None = None  # kept between rounds, closed after RELAY_IDLE_S unused
        self._smtp_used = 0.0
        self._thread = threading.Thread(target=self._run, name="smlite-delivery", daemon=True)
        # a row that is the message itself (compose set) is composed from the stored message: set by the gateway
        self.compose: Callable[[Any], bytes] = lambda row: bytes(row["raw"])
        self.retention_s = retention_s
        self._pruned_at = 0.0

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._smtp = _close(self._smtp)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._deliver_due()
                self._prune_due()
                next_at = self.store.next_attempt_time()
            except StorageError as exc:
                log.error("delivery worker: storage unavailable (%d sent, not yet recorded): %s", len(self._sent), exc)
                next_at = time.time() + BACKOFF_MAX
            except Exception:
                log.exception("delivery worker error")
                next_at = time.time() + BACKOFF_MAX
            if self._stop.is_set():
                break
            wait = None if next_at is None else max(0.0, next_at - time.time())
            if self._smtp is not None:  # wake up to close an idle relay connection
                wait = RELAY_IDLE_S if wait is None else min(wait, RELAY_IDLE_S)
            prune_in = max(0.05, self._pruned_at + min(PRUNE_EVERY_S, self.retention_s) - time.time())
            wait = prune_in if wait is None else min(wait, prune_in)  # wake up to prune on time
            if wait is None or wait > 0:
                self._wake.wait(wait)

    def _prune_due(self) -> None:
        """Forget what was delivered longer ago than the retention, at most once every PRUNE_EVERY_S."""
        now = time.time()
        if now - self._pruned_at >= min(PRUNE_EVERY_S, self.retention_s):
            self._pruned_at = now
            rows, emptied = self.store.prune(now - self.retention_s)
            if rows or emptied:
                log.info(
                    "pruned %d delivered rows and the bytes of %d messages (retention %ss)",
                    rows,
                    emptied,
                    self.retention_s,
                )

    def _record_sent(self) -> None:
        """Mark delivered what the relay took, in one unit; a StorageError leaves them for the next round."""
        if self._sent:
            sent = dict(self._sent)
            self.store.mark_delivered_many(sent)
            for pk in sent:
                del self._sent[pk]

    def _deliver_due(self) -> None:
        self._record_sent()
        rows = self.store.due_outbound(time.time(), limit=DUE_BATCH)
        if not rows:
            if self._smtp is not None and time.monotonic() - self._smtp_used > RELAY_IDLE_S:
                self._smtp = _close(self._smtp)
            return
        for row in rows:
            if self._stop.is_set():
                return
            data = b""
            try:
                data = self.compose(row)
                self._send(row, data)
            except Exception as exc:
                self._smtp = _close(self._smtp)  # the session may be mid-transaction: start the next row afresh
                self._failed(row, exc, data)
                continue
            # the relay has it: never send this row again, even if the store cannot say so yet;
            # record it at once (a crash before this commit means one duplicate, never a loss)
            self._sent[row["pk"]] = time.time()
            try:
                self._record_sent()
            finally:
                log.info("delivered %d to %s via %s:%d", row["pk"], row["recipient"], *self.relay)

    def _send(self, row, data: bytes) -> None:
        """One row to the relay, on the kept connection; a connection the relay closed while it was
        idle is opened again once (nothing was sent on it), any other error is the row's."""
        reused = self._smtp is not None
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.sendmail(row["mail_from"], [row["recipient"]], data)
        except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
            if not reused:
                raise
            log.info("relay connection was closed while idle (%s); reconnecting", exc)
            self._smtp = _close(self._smtp)
            self._smtp = self._connect()
            self._smtp.sendmail(row["mail_from"], [row["recipient"]], data)
        self._smtp_used = time.monotonic()

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.relay[0], self.relay[1], timeout=self.timeout, local_hostname=self.hostname)
        smtp.ehlo_or_helo_if_needed()
        return smtp

    def _failed(self, row, exc: Exception, data: bytes) -> None:
        attempts = row["attempts"] + 1
        permanent, status, diagnostic = bounce.classify(exc)
        error = f"{type(exc).__name__}: {exc}"
        if not permanent and attempts < self.max_attempts:
            delay = backoff(attempts)
            log.warning(
                "delivery %d to %r failed (attempt %d, retry in %.2fs): %s",
                row["pk"],
                row["recipient"],
                attempts,
                delay,
                error,
            )
            self.store.mark_failed(row["pk"], time.time() + delay, error)
            return
        reason = diagnostic if permanent else f"{attempts} attempts used up; last error: {diagnostic}"
        if not permanent:
            status = "5.4.7"  # delivery time expired (RFC 3463)
        to = self._bounce_to(row)
        dsn = None
        if to:
            dsn = {
                "recipient": to,
                "raw": bounce.dsn(
                    reporting_host=self.hostname,
                    from_address=f"MAILER-DAEMON@{self.domain}",
                    to=to,
                    recipient=row["recipient"],
                    status=status,
                    diagnostic=diagnostic,
                    attempts=attempts,
                    original=data,
                    now=datetime.now(UTC),
                    domain=self.domain,
                    reason=reason,
                ),
            }
        log.warning(
            "delivery %d to %r failed for good (attempt %d, %s): %s; %s",
            row["pk"],
            row["recipient"],
            attempts,
            status,
            error,
            f"bounce queued to {to}" if to else "a bounce is not bounced",
        )
        self.store.mark_bounced(row["pk"], time.time(), f"{status} {error}", dsn)

    def _bounce_to(self, row) -> str:
        """The original sender; '' for a bounce (null reverse path), which is never bounced."""
        mail_from = row["mail_from"] or ""
        if mail_from and mail_from.lower() == self.notification_from and row["sender"]:
            return row["sender"]
        return mail_from


def _close(smtp):
    if smtp is not None:
        try:
            smtp.quit()
        except Exception:
            try:
                smtp.close()
            except OSError:
                pass
    return None
