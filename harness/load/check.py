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
import json
import re
import time
from dataclasses import dataclass, field

import requests
import websocket

from harness.spec.classify import NOTHING
from harness.drivers import load_driver
from harness.errors import HarnessError
from harness.load.user import LoadContext, Sample
from harness.mailbox.mailpit import MailpitClient
from harness.conformance.observe import Observer
from harness.spec.source import COLUMNS, expected_cells


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
                self._recipient(observer, driver, sample, address, internal)
            self.checked += 1
        except HarnessError as error:
            self.errors.append(f"[{self.context.tag}-{sample.seq}] {error}")
        finally:
            driver.close()

    def _recipient(self, observer: Observer, driver, sample: Sample, address: str, internal: bool) -> None:
        ref, cells = expected_cells(sample.application, sample.definition, True, internal)
        observed = {"Mail Box": observer.mailbox(address, set(), sample.marker)}
        if "mpp" in driver.capabilities:
            observed["MPP"] = observer.mpp(address, internal, set(), sample.marker, required=cells["MPP"].required)
        if "sm-portal" in driver.capabilities:
            links = sorted({link for o in observed.values() for link in o.links})
            observed["Message in SM Portal"] = observer.sm_portal(address, links, sample.subject, sample.marker)
        for column in COLUMNS:
            cell, seen = cells[column], observed.get(column)
            if seen is None:
                continue
            status = ("passed" if seen.value == cell.value else "failed") if cell.required else "observed"
            self.cells.append(CheckedCell(sample.seq, address, ref, column, cell.value, cell.standing,
                                          seen.value, status, "" if status == "passed" else seen.detail))

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
        api = self.context.profile.mailpit["api"].rstrip("/")
        try:
            ws = websocket.create_connection("ws" + api.removeprefix("http") + "/api/events", timeout=5)
        except (OSError, websocket.WebSocketException) as exc:
            self.broken = f"event stream unavailable: {exc}"
            return
        try:
            ws.settimeout(0.5)
            while not self.stopped:
                try:
                    event = json.loads(ws.recv())
                except websocket.WebSocketTimeoutException:
                    continue
                if event.get("Type") != "new":
                    continue
                match = self.pattern.search((event.get("Data") or {}).get("Subject") or "")
                if match:
                    self.seen += 1
                    sent = self.context.sent_at.get(int(match.group(1)))
                    if sent is not None:
                        self.latencies_ms.append((time.perf_counter() - sent) * 1000)
        except (OSError, websocket.WebSocketException, ValueError) as exc:
            self.broken = f"event stream broke: {exc}"
        finally:
            ws.close()


def count_deliveries(context: LoadContext, expected: int, deadline_s: float) -> int:
    """Deliveries of this run in Mailpit, waited for until `expected` arrived or the deadline."""
    api = context.profile.mailpit["api"].rstrip("/")
    session = requests.Session()
    give_up = time.monotonic() + deadline_s
    interval = 0.05
    while True:
        try:
            answer = session.get(f"{api}/api/v1/search", params={"query": f"subject:{context.tag}", "limit": 1},
                                 timeout=10)
            found = int(answer.json()["messages_count"])
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise HarnessError("Cannot count deliveries in Mailpit", api, str(exc)) from None
        if found >= expected or time.monotonic() >= give_up:
            return found
        time.sleep(interval)  # polling Mailpit's count with a deadline
        interval = min(interval * 1.5, 0.5)


def missing(context: LoadContext, limit: int = 20) -> list[str]:
    """Messages of this run with fewer deliveries in Mailpit than recipients ("<tag>-<seq>: got/expected")."""
    api = context.profile.mailpit["api"].rstrip("/")
    pattern = re.compile(rf"\[{re.escape(context.tag)}-(\d+)\]")
    got: collections.Counter[int] = collections.Counter()
    start = 0
    while True:
        page = requests.get(f"{api}/api/v1/search", params={"query": f"subject:{context.tag}", "limit": 500,
                                                           "start": start}, timeout=10).json()
        batch = page.get("messages") or []
        for item in batch:
            match = pattern.search(item.get("Subject") or "")
            if match:
                got[int(match.group(1))] += 1
        start += len(batch)
        if len(batch) < 500:
            break
    short = [f"{context.tag}-{seq}: {got[seq]}/{n}" for seq, n in sorted(context.recipients.items()) if got[seq] < n]
    return short[:limit]
