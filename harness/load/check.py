"""What `smlite load` checks while and after it runs.

* ``SampleChecker``: each sampled message, per recipient, observed with
  ``harness.conformance.observe.Observer`` (Mail Box, MPP, SM Portal) and compared with
  ``harness.spec.source.expected_cells``: a required cell (stated or derived)
  passes or fails, a cell the source leaves blank is only observed, as in
  the suite.
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
from dataclasses import dataclass, field

from harness.spec.classify import NOTHING
from harness.drivers import load_driver
from harness.errors import HarnessError
from harness.load.user import LoadContext, Sample
from harness.mailbox.mailpit import MailpitClient
from harness.conformance.judge import judge, observe_recipient
from harness.conformance.observe import Observer
from harness.conformance.results import NOT_APPLICABLE
from harness.spec.source import expected_cells


@dataclass
class CheckedCell:
    seq: int
    recipient: str
    ref: str | None
    column: str
    expected: str | None
    standing: str
    observed: str
    status: str  # passed | failed | observed
    detail: str = ""


@dataclass
class SampleChecker:
    context: LoadContext
    cells: list[CheckedCell] = field(default_factory=list)
    checked: int = 0
    errors: list[str] = field(default_factory=list)

    def check(self, sample: Sample) -> None:
        profile = self.context.profile
        driver = load_driver(profile)
        observer = Observer(driver, MailpitClient(profile.mailpit["api"]), profile.classification,
                            profile.delivery_timeout_s)
        try:
            for address, internal in sample.recipients:
                self._recipient(observer, sample, address, internal)
            self.checked += 1
        except HarnessError as error:
            self.errors.append(f"[{self.context.tag}-{sample.seq}] {error}")
        finally:
            driver.close()

    def _recipient(self, observer: Observer, sample: Sample, address: str, internal: bool) -> None:
        ref, cells = expected_cells(sample.application, sample.definition, True, internal)
        observed = observe_recipient(observer, address, internal, cells, marker=sample.marker, subject=sample.subject)
        for judged in judge(cells, observed):
            if judged.status == NOT_APPLICABLE:
                continue
            self.cells.append(CheckedCell(sample.seq, address, ref, judged.column, judged.expected, judged.standing,
                                          judged.observed or "", judged.status,
                                          "" if judged.status == "passed" else judged.detail))

    def summary(self) -> dict:
        counts = collections.Counter(c.status for c in self.cells)
        recipients = {(c.seq, c.recipient) for c in self.cells}
        nothing = sum(1 for c in self.cells if c.column == "Mail Box" and c.observed == NOTHING)
        return {"messages": self.checked, "recipients": len(recipients), "cells": len(self.cells),
                "passed": counts["passed"], "failed": counts["failed"], "observed": counts["observed"],
                "mailbox_nothing": nothing, "errors": self.errors,
                "failures": [c.__dict__ for c in self.cells if c.status == "failed"][:20],
                "refs": sorted({c.ref for c in self.cells if c.ref}),
                "conforming": counts["failed"] == 0 and not self.errors and self.checked > 0}


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
