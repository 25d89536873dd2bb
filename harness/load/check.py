"""What `smlite load` checks while and after it runs.

* ``SampleChecker`` (harness/load/sample.py, re-exported): the conformance sample,
  judged exactly as the suite judges.
* ``DeliveryWatch``: Mailpit's event stream, read for the whole run; every
  delivery whose subject carries the run's tag is timed against its send
  (send → in Mailpit latency). Wake-ups only: the count that decides "lost"
  is Mailpit's own search, in ``count_deliveries``.
* ``count_deliveries`` / ``missing``: how many deliveries of this run Mailpit
  holds, waited for with a deadline; which messages lack some.

Runs under gevent in the load process (sockets are patched), but nothing here
depends on it.
"""

from __future__ import annotations

import collections
import re
import time

from harness.load.sample import CheckedCell, Sample, SampleChecker  # noqa: F401  (re-exported)
from harness.load.user import LoadContext
from harness.mailbox.mailpit import MailpitClient


class DeliveryWatch:
    """Times each delivery of the run from Mailpit's event stream."""

    def __init__(self, context: LoadContext):
        self.context = context
        self.pattern = re.compile(rf"\[{re.escape(context.tag)}-(\d+)\]")
        self.latencies_ms: list[float] = []
        self.seen = 0
        self.broken = ""
        self.stopped = False

    def run(self) -> None:
        events = MailpitClient(self.context.profile.mailpit["api"]).events()
        if events is None:
            self.broken = "event stream unavailable"
            return
        try:
            while not self.stopped and not events.broken:
                event = events.next(0.5)
                if not event or event.get("Type") != "new":
                    continue
                match = self.pattern.search((event.get("Data") or {}).get("Subject") or "")
                if match:
                    self.seen += 1
                    sent = self.context.sent_at.get(int(match.group(1)))
                    if sent is not None:
                        self.latencies_ms.append((time.perf_counter() - sent) * 1000)
            if events.broken:
                self.broken = "event stream broke"
        finally:
            events.close()


def count_deliveries(context: LoadContext, expected: int, deadline_s: float) -> int:
    """Deliveries of this run in Mailpit, waited for until `expected` arrived or the deadline."""
    mailpit = MailpitClient(context.profile.mailpit["api"], timeout_s=10)
    give_up = time.monotonic() + deadline_s
    interval = 0.05
    while True:
        found = mailpit.search_count(f"subject:{context.tag}")
        if found >= expected or time.monotonic() >= give_up:
            return found
        time.sleep(interval)  # polling Mailpit's count with a deadline
        interval = min(interval * 1.5, 0.5)


def missing(context: LoadContext, limit: int = 20) -> list[str]:
    """Messages of this run with fewer deliveries in Mailpit than recipients ("<tag>-<seq>: got/expected")."""
    pattern = re.compile(rf"\[{re.escape(context.tag)}-(\d+)\]")
    got: collections.Counter[int] = collections.Counter()
    for summary in MailpitClient(context.profile.mailpit["api"], timeout_s=10).search(f"subject:{context.tag}"):
        if match := pattern.search(summary.subject or ""):
            got[int(match.group(1))] += 1
    short = [f"{context.tag}-{seq}: {got[seq]}/{n}" for seq, n in sorted(context.recipients.items()) if got[seq] < n]
    return short[:limit]
