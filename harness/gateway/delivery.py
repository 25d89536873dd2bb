"""The outbound queue worker: delivers committed rows to the relay over SMTP.

Owns ``DeliveryWorker``, one background thread. It takes due rows from the
store's outbound queue, sends each with smtplib to relay_host:relay_port and
marks it delivered right after the relay's 250 (so a message is delivered
once, as far as SMTP allows). A row the relay took is never sent again by this
process, even when the store cannot record it (read-only disk): it is kept in
memory and recorded as soon as the store takes writes again. A failed row is
retried with backoff 0.05 s doubling up to 2 s, forever. The worker sleeps
only until the next retry is due, and wakes at once when ``wake()`` is called
(after each commit). Rows left pending by an earlier run are picked up at
start-up.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time

from .store import StorageError

log = logging.getLogger("smlite.gateway")

BACKOFF_START = 0.05
BACKOFF_MAX = 2.0


def backoff(attempts: int) -> float:
    """Delay after the ``attempts``-th failure (1-based)."""
    return min(BACKOFF_START * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


class DeliveryWorker:
    def __init__(self, store, relay_host: str, relay_port: int, timeout: float = 10.0) -> None:
        self.store = store
        self.relay = (relay_host, relay_port)
        self.timeout = timeout
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._sent: dict[int, float] = {}  # pk -> when the relay took it, not yet marked in the store
        self._thread = threading.Thread(target=self._run, name="smlite-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._deliver_due()
                next_at = self.store.next_attempt_time()
            except StorageError as exc:
                log.error("delivery worker: storage unavailable (%d sent, not yet recorded): %s",
                          len(self._sent), exc)
                next_at = time.time() + BACKOFF_MAX
            except Exception:  # noqa: BLE001 - the worker must survive anything
                log.exception("delivery worker error")
                next_at = time.time() + BACKOFF_MAX
            if self._stop.is_set():
                break
            wait = None if next_at is None else max(0.0, next_at - time.time())
            if wait is None or wait > 0:
                self._wake.wait(wait)

    def _record_sent(self) -> None:
        """Mark delivered what the relay took; a StorageError leaves the rest for the next round."""
        for pk, at in list(self._sent.items()):
            self.store.mark_delivered(pk, at)
            del self._sent[pk]

    def _deliver_due(self) -> None:
        self._record_sent()
        rows = self.store.due_outbound(time.time())
        if not rows:
            return
        smtp = None
        try:
            for row in rows:
                if self._stop.is_set():
                    return
                try:
                    if smtp is None:
                        smtp = smtplib.SMTP(self.relay[0], self.relay[1], timeout=self.timeout)
                        smtp.ehlo_or_helo_if_needed()
                    smtp.sendmail(row["mail_from"], [row["recipient"]], row["raw"])
                except (OSError, smtplib.SMTPException) as exc:
                    attempts = row["attempts"] + 1
                    delay = backoff(attempts)
                    log.warning("delivery %d to %s failed (attempt %d, retry in %.2fs): %s",
                                row["pk"], row["recipient"], attempts, delay, exc)
                    smtp = _close(smtp)
                    self.store.mark_failed(row["pk"], time.time() + delay, f"{type(exc).__name__}: {exc}")
                    continue
                # the relay has it: never send this row again, even if the store cannot say so yet;
                # record it at once (a crash before this commit means one duplicate, never a loss)
                self._sent[row["pk"]] = time.time()
                try:
                    self._record_sent()
                finally:
                    log.info("delivered %d to %s via %s:%d", row["pk"], row["recipient"], *self.relay)
        finally:
            _close(smtp)


def _close(smtp):
    if smtp is not None:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            try:
                smtp.close()
            except OSError:
                pass
    return None
