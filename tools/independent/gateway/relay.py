"""Owns: the outbound queue worker: delivers queued mail to the relay (Mailpit) with smtplib.

Woken by an event when something is queued; retries a failed delivery with
exponential backoff (0.05 s doubling to 2 s), forever; resumes what is pending
after a restart because the queue is the SQLite table `outbound`.
"""

from __future__ import annotations

import smtplib
import sys
import threading

from tools.independent.gateway.config import Config
from tools.independent.gateway.store import Store


class RelayWorker(threading.Thread):
    def __init__(self, cfg: Config, store: Store, wake: threading.Event, stop: threading.Event):
        super().__init__(name="relay", daemon=True)
        self.cfg, self.store, self.wake, self.stop = cfg, store, wake, stop

    def run(self) -> None:
        backoff = 0.05
        while not self.stop.is_set():
            self.wake.clear()
            pending = self.store.all(
                "SELECT id, mail_from, rcpt, data FROM outbound WHERE done = 0 ORDER BY id LIMIT 50"
            )
            failed = False
            for row in pending:
                try:
                    with smtplib.SMTP(self.cfg.relay_host, self.cfg.relay_port, timeout=10) as client:
                        client.sendmail(row["mail_from"], [row["rcpt"]], bytes(row["data"]))
                except (OSError, smtplib.SMTPException) as exc:
                    print(f"relay: delivery {row['id']} to {row['rcpt']} failed: {exc}", file=sys.stderr)
                    with self.store.tx() as db:
                        db.execute("UPDATE outbound SET attempts = attempts + 1 WHERE id = ?", (row["id"],))
                    failed = True
                    break
                with self.store.tx() as db:
                    db.execute("UPDATE outbound SET done = 1 WHERE id = ?", (row["id"],))
            if failed:
                self.stop.wait(backoff)  # backoff before retrying the relay
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.05
            if len(pending) < 50:
                self.wake.wait(1.0)  # woken by the next queued message; 1 s is only a safety net
