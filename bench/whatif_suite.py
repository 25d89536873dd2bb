"""Proposed speed-ups of the suite's side, patched in from outside for A/B runs.

Loaded into the suite's pytest process as a plugin (``-p bench.whatif_suite``
through ``PYTEST_ADDOPTS``, which the runner's subprocess inherits) and, for
``mailbox``, into the bench process itself so the floor reads mail the same
way. Which patches apply is ``SMLITE_BENCH_WHATIF`` (comma list):

* ``mailbox`` (harness/mailbox/mailpit.py, ``MailpitClient``): one event-stream
  connection per client instead of one per ``wait_for_messages``; and a wait wakes up only for an event that names the
  awaited address (today any new message anywhere triggers a new search and
  fetch round).

Nothing here changes what is observed: the same messages, headers and
predicates; only fewer round trips.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Callable

import websocket

from harness.mailbox.mailpit import MailboxWait, MailpitClient, WaitTimeout, _describe, _EventStream

WHATIF = {w.strip() for w in os.environ.get("SMLITE_BENCH_WHATIF", "").split(",") if w.strip()}


def _stream(self: MailpitClient) -> _EventStream | None:
    events = self.__dict__.get("_whatif_events")
    if events is None or events.broken:
        events = _EventStream.open(self.api_url)
        self.__dict__["_whatif_events"] = events
    return events


def _addressed_to(raw: str, wanted: str) -> bool:
    try:
        data = json.loads(raw).get("Data") or {}
    except ValueError:
        return True
    names = {a.get("Address", "").lower() for k in ("To", "Cc", "Bcc") for a in data.get(k) or []}
    return wanted in names or not names


def _wait_for_messages(self: MailpitClient, address: str, count: int = 1, deadline_s: float = 10,
                       predicate: Callable[[Any], bool] | None = None, *, by: str = "envelope") -> list:
    give_up_at = time.monotonic() + deadline_s
    events = _stream(self)
    wanted = address.strip().lower()
    while True:
        seen = self.messages_to(address, by=by)
        full = [self.message(s.id) for s in seen]
        matched = [m for m in full if predicate is None or predicate(m)]
        if len(matched) >= count:
            return matched
        while True:  # sleep until a message for `wanted` is announced, or the deadline
            remaining = give_up_at - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(MailboxWait(
                    address=address, expected=count, deadline_s=deadline_s, by=by, seen=tuple(seen),
                    matching=None if predicate is None else len(matched),
                    predicate=None if predicate is None else _describe(predicate),
                    delivered_elsewhere=self._delivered_elsewhere(address, seen, by)))
            if events is None or events.broken:
                time.sleep(min(0.05, remaining))  # no stream: poll with a deadline
                break
            try:
                events._ws.settimeout(max(min(remaining, 0.5), 0.001))
                raw = events._ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except (OSError, websocket.WebSocketException):
                events.broken = True
                continue
            if _addressed_to(raw, wanted):
                break


def apply(which: set[str] = WHATIF) -> None:
    if "mailbox" in which:
        MailpitClient.wait_for_messages = _wait_for_messages


def pytest_configure(config) -> None:  # noqa: ARG001 - pytest hook
    apply()
