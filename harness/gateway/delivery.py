"""The outbound queue worker: delivers committed rows to the relay over SMTP.

Owns ``DeliveryWorker``: a dispatcher thread takes due rows from the store's
outbound queue and hands each to one of ``CONNECTIONS`` lanes - a thread with
its own kept SMTP connection to relay_host:relay_port. All rows to one
recipient take the same lane, so they reach the relay in queue order (the
order the conformance suite's barrier messages rely on). A lane sends each
row with smtplib and marks it delivered right after the relay's 250 (so a message is delivered
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
(after each commit). A lane's connection to the relay is kept between
rows and closed after ``RELAY_IDLE_S`` unused; if the relay closed it meanwhile,
the row is sent again at once on a new connection (nothing had been sent on
the old one). Rows left pending by an earlier run are picked up at
start-up.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import socket
import threading
import time
import zlib
from datetime import datetime, timezone

from . import bounce
from .store import StorageError

log = logging.getLogger("smlite.gateway")

BACKOFF_START = 0.05
BACKOFF_MAX = 2.0
RELAY_IDLE_S = 5.0  # a relay connection unused this long is closed
CONNECTIONS = 4  # relay connections (lanes) used at once
MAX_ATTEMPTS = 200  # with the backoff above: about 6.5 minutes of a relay that is down, then a bounce


def backoff(attempts: int) -> float:
    """Delay after the ``attempts``-th failure (1-based)."""
    return min(BACKOFF_START * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


class _Lane:
    """One kept relay connection and the thread that sends on it, one row at a time, in order."""

    def __init__(self, worker: "DeliveryWorker", index: int) -> None:
        self.worker = worker
        self.rows: queue.SimpleQueue = queue.SimpleQueue()
        self.smtp: smtplib.SMTP | None = None
        self.used = 0.0
        self.thread = threading.Thread(target=self._run, name=f"smlite-delivery-{index}", daemon=True)

    def _run(self) -> None:
        while True:
            try:
                row = self.rows.get(timeout=RELAY_IDLE_S if self.smtp is not None else None)
            except queue.Empty:
                self.smtp = _close(self.smtp)  # idle: let the relay go
                continue
            if row is None:
                self.smtp = _close(self.smtp)
                return
            self.worker._deliver(self, row)

    def send(self, row) -> None:
        """One row to the relay, on the kept connection; a connection the relay closed while it was
        idle is opened again once (nothing was sent on it), any other error is the row's."""
        reused = self.smtp is not None
        if self.smtp is None:
            self.smtp = self.worker._connect()
        try:
            self.smtp.sendmail(row["mail_from"], [row["recipient"]], row["raw"])
        except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
            if not reused:
                raise
            log.info("relay connection was closed while idle (%s); reconnecting", exc)
            self.smtp = _close(self.smtp)
            self.smtp = self.worker._connect()
            self.smtp.sendmail(row["mail_from"], [row["recipient"]], row["raw"])
        self.used = time.monotonic()


class DeliveryWorker:
    def __init__(self, store, relay_host: str, relay_port: int, timeout: float = 10.0, *,
                 max_attempts: int = MAX_ATTEMPTS, notification_from: str = "",
                 domain: str = "localhost", connections: int = CONNECTIONS) -> None:
        self.store = store
        self.relay = (relay_host, relay_port)
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.notification_from = notification_from.lower()
        self.domain = domain
        self.hostname = socket.getfqdn() or "localhost"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sent: dict[int, float] = {}  # pk -> when the relay took it, not yet marked in the store
        self._in_flight: set[int] = set()  # handed to a lane, or sent and not yet recorded
        self._hold_until = 0.0  # no dispatching before this (after a failed write)
        self._lanes = [_Lane(self, i) for i in range(max(1, connections))]
        self._thread = threading.Thread(target=self._run, name="smlite-delivery", daemon=True)

    def start(self) -> None:
        for lane in self._lanes:
            lane.thread.start()
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        for lane in self._lanes:
            lane.rows.put(None)
        for lane in self._lanes:
            lane.thread.join(timeout)

    def _run(self) -> None:
        """The dispatcher: due rows to their lanes; sleeps until the next retry is due or it is woken."""
        while not self._stop.is_set():
            hold = self._hold_until - time.time()
            if hold > 0:  # the store failed a write: let it be for a while
                self._stop.wait(hold)
                continue
            self._wake.clear()
            try:
                self._record_sent()
                self._dispatch()
                with self._lock:
                    busy = list(self._in_flight)
                next_at = self.store.next_attempt_time(exclude=busy)
            except StorageError as exc:
                self._storage_failed(exc)
                continue
            except Exception:  # noqa: BLE001 - the worker must survive anything
                log.exception("delivery worker error")
                next_at = time.time() + BACKOFF_MAX
            if self._stop.is_set():
                break
            wait = None if next_at is None else max(0.0, next_at - time.time())
            if wait is None or wait > 0:
                self._wake.wait(wait)

    def _dispatch(self) -> None:
        with self._lock:
            busy = list(self._in_flight)
        for row in self.store.due_outbound(time.time(), exclude=busy):
            with self._lock:
                self._in_flight.add(row["pk"])
            # one recipient's rows always take the same lane: they reach the relay in queue order
            key = zlib.crc32(row["recipient"].lower().encode("utf-8", "surrogatepass"))
            self._lanes[key % len(self._lanes)].rows.put(row)

    def _deliver(self, lane: _Lane, row) -> None:
        """On a lane's thread: send the row; record it, or record its failure; wake the dispatcher."""
        try:
            if self._stop.is_set():
                return
            try:
                lane.send(row)
            except Exception as exc:  # noqa: BLE001 - one row's failure is that row's, whatever it is
                lane.smtp = _close(lane.smtp)  # the session may be mid-transaction: start the next row afresh
                self._failed(row, exc)
                return
            # the relay has it: never send this row again, even if the store cannot say so yet;
            # record it at once (a crash before this commit means one duplicate, never a loss)
            with self._lock:
                self._sent[row["pk"]] = time.time()
            log.info("delivered %d to %s via %s:%d", row["pk"], row["recipient"], *self.relay)
            self._record_sent()
        except StorageError as exc:
            self._storage_failed(exc)
        except Exception:  # noqa: BLE001 - a lane must survive anything
            log.exception("delivery worker error on row %s", row["pk"])
        finally:
            with self._lock:
                if row["pk"] not in self._sent:
                    self._in_flight.discard(row["pk"])
            self._wake.set()

    def _storage_failed(self, exc: StorageError) -> None:
        log.error("delivery worker: storage unavailable (%d sent, not yet recorded): %s", len(self._sent), exc)
        self._hold_until = time.time() + BACKOFF_MAX

    def _record_sent(self) -> None:
        """Mark delivered what the relay took, in one unit; a StorageError keeps them for the next try."""
        with self._lock:
            claimed = dict(self._sent)
        if not claimed:
            return
        self.store.mark_delivered_many(claimed)
        with self._lock:
            for pk in claimed:
                self._sent.pop(pk, None)
                self._in_flight.discard(pk)

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.relay[0], self.relay[1], timeout=self.timeout, local_hostname=self.hostname)
        smtp.ehlo_or_helo_if_needed()
        return smtp

    def _failed(self, row, exc: Exception) -> None:
        attempts = row["attempts"] + 1
        permanent, status, diagnostic = bounce.classify(exc)
        error = f"{type(exc).__name__}: {exc}"
        if not permanent and attempts < self.max_attempts:
            delay = backoff(attempts)
            log.warning("delivery %d to %r failed (attempt %d, retry in %.2fs): %s",
                        row["pk"], row["recipient"], attempts, delay, error)
            self.store.mark_failed(row["pk"], time.time() + delay, error)
            return
        reason = diagnostic if permanent else f"{attempts} attempts used up; last error: {diagnostic}"
        if not permanent:
            status = "5.4.7"  # delivery time expired (RFC 3463)
        to = self._bounce_to(row)
        dsn = None
        if to:
            dsn = {"recipient": to, "raw": bounce.dsn(
                reporting_host=self.hostname, from_address=f"MAILER-DAEMON@{self.domain}", to=to,
                recipient=row["recipient"], status=status, diagnostic=diagnostic, attempts=attempts,
                original=bytes(row["raw"]), now=datetime.now(timezone.utc), domain=self.domain, reason=reason)}
        log.warning("delivery %d to %r failed for good (attempt %d, %s): %s; %s", row["pk"], row["recipient"],
                    attempts, status, error, f"bounce queued to {to}" if to else "a bounce is not bounced")
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
        except Exception:  # noqa: BLE001 - a broken session is simply dropped
            try:
                smtp.close()
            except OSError:
                pass
    return None
