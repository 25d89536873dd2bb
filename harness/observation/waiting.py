"""Waiting for mail: the clock, the latency measured so far, the board of what is awaited, and barriers.

Owns:

* ``Clock``: the time source of every wait (monotonic and wall time, sleeping) and the run's cancel
  signal (``-x``, an interrupt): a cancelled clock raises ``Cancelled`` at the next tick of any wait.
  ``connect()`` hands one to every observer, so unit tests of the waiting logic can drive time;
* ``LatencyTracker``: delivery latencies seen on one connection, per path — ``mail`` (accepted → in
  the mailbox) and ``mpp`` (accepted → in the MPP view) — and ``bound``: how long after it was
  accepted a message can still arrive, from what was measured (thread-safe; one per connection);
* ``WaitBoard``: every wait in progress, so that one line on the terminal says what is awaited and
  for how long while many scenarios wait at once;
* ``Barrier``: an ordinary message sent through the target to the same recipient, which proves that
  the target delivers to that recipient now (docs/vocabulary.md, "How mail is waited for");
* ``MailWait``: how a Mail Box wait ended; ``Progress``: one wait's entry on the board, or its own
  stderr line when there is no board.

How absence is proven (harness/observation/scope.py applies it): a barrier sent after the message has
arrived, *and* the latency bound has passed since the message was accepted — nothing assumes that mail
arrives in the order it was sent. Only a profile that declares ``delivers_in_order = true`` lets the
barrier's arrival prove an earlier message absent by order alone.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from harness.mailbox.types import MessageSummary

BARRIER_SUBJECT = "smlite barrier"
GRACE_MIN_S = 0.2  # twice the slowest poll of a wait (0.1 s): below it, a poll could miss the window
BOUND_FACTOR, BOUND_MARGIN_S = 1.5, 0.25  # a message arrives within 1.5 × the slowest latency seen, + 0.25 s
FIRST_BARRIER_S = 1.0  # before any latency is known: how long to wait for a delivery before sending a barrier
BARRIER_AFTER_FACTOR, BARRIER_AFTER_MIN_S = 2.0, 0.1  # once it is known: 2 × p99, at least 0.1 s
PROGRESS_AFTER_S = 3.0
PROGRESS_EVERY_S = 5.0
UNREQUIRED_MPP_S = 2.0  # upper bound of an MPP wait whose cell is only observed


class Cancelled(BaseException):
    """The run was stopped (-x, an interrupt): a wait in progress gives up at once. A BaseException, so
    that no ``except Exception`` of a step or a driver can take it for the target's doing."""


class Clock:
    """Monotonic and wall time, sleeping, and the run's cancel signal."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def check(self) -> None:
        """Raise ``Cancelled`` when the run was stopped."""
        if self.cancelled.is_set():
            raise Cancelled()

    def sleep(self, seconds: float) -> None:
        """Polling with a deadline: the caller bounds ``seconds``; a cancel ends it at once."""
        if self.cancelled.wait(max(0.0, seconds)):
            raise Cancelled()


def is_barrier(subject: str | None) -> bool:
    return (subject or "").startswith(BARRIER_SUBJECT)


class LatencyTracker:
    """Delivery latencies (seconds) seen on one connection, per path: ``mail`` (accepted → in the
    mailbox) and ``mpp`` (accepted → in the MPP view); whether the target was seen reordering."""

    def __init__(self, expected_s: float | None = None) -> None:
        self.samples: dict[str, list[float]] = {"mail": [], "mpp": []}
        self.reorders: list[str] = []
        self.expected_s = expected_s  # the profile's expected_latency_s, if it declares one
        self._lock = threading.Lock()

    def add(self, path: str, seconds: float) -> None:
        with self._lock:
            self.samples[path].append(max(0.0, seconds))

    def _values(self, path: str) -> list[float]:
        with self._lock:
            values = sorted(self.samples[path])
        if not values and path == "mpp":
            return self._values("mail")
        return values

    def floor_p50(self, path: str, window: int = 8) -> float | None:
        """The lowest median latency of any ``window`` deliveries in a row: what the target does when it is not
        crowded. Under load a local target's latency grows with what is in flight; more in flight then
        helps nothing, so the engine sizes by this, not by the latest latencies."""
        with self._lock:
            seen = list(self.samples[path] or self.samples["mail"])
        if not seen:
            return None
        if len(seen) <= window:
            return sorted(seen)[len(seen) // 2]
        return min(sorted(seen[i : i + window])[window // 2] for i in range(len(seen) - window + 1))

    def p99(self, path: str) -> float | None:
        values = self._values(path)
        return values[max(0, math.ceil(0.99 * len(values)) - 1)] if values else None

    def bound(self, path: str, upper_s: float) -> float:
        """How long after it was accepted a message may still arrive: 1.5 × the slowest latency seen (and
        3 × the profile's expected latency, if declared), plus a margin; the profile's delivery timeout
        before anything was measured, and never more."""
        values = self._values(path)
        floor = 3.0 * self.expected_s if self.expected_s else 0.0
        if not values:
            return upper_s if not floor else min(upper_s, floor + BOUND_MARGIN_S)
        return min(upper_s, max(GRACE_MIN_S, BOUND_FACTOR * values[-1] + BOUND_MARGIN_S, floor))

    def first_barrier_s(self, upper_s: float) -> float:
        """How long a wait goes without a delivery before it sends a barrier (only a cost, never a judgement)."""
        p99 = self.p99("mail")
        if p99 is None:
            return min(upper_s, self.expected_s or FIRST_BARRIER_S)
        return min(upper_s, max(BARRIER_AFTER_MIN_S, BARRIER_AFTER_FACTOR * p99))

    def reordered(self, what: str) -> None:
        with self._lock:
            self.reorders.append(what)

    @property
    def trusted(self) -> bool:
        """Whether barriers may prove absence by order (only for a target declaring order, not seen reordering)."""
        return not self.reorders


class WaitBoard:
    """Every wait in progress on one connection: what, for whom, since when, until when."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._waits: dict[int, tuple[str, float, float]] = {}
        self._lock = threading.Lock()
        self._next = 0

    def enter(self, what: str, upper_s: float) -> int:
        with self._lock:
            self._next += 1
            self._waits[self._next] = (what, self.clock.monotonic(), upper_s)
            return self._next

    def leave(self, key: int) -> None:
        with self._lock:
            self._waits.pop(key, None)

    def summary(self, longer_than_s: float = PROGRESS_AFTER_S, most: int = 4) -> str | None:
        """One line about the waits older than ``longer_than_s`` (None when there is none)."""
        now = self.clock.monotonic()
        with self._lock:
            waits = sorted(((now - since, what, upper) for what, since, upper in self._waits.values()), reverse=True)
        long = [w for w in waits if w[0] >= longer_than_s]
        if not long:
            return None
        shown = "; ".join(f"{what} ({waited:.0f} s of {upper:.0f})" for waited, what, upper in long[:most])
        more = f"; and {len(long) - most} more" if len(long) > most else ""
        return f"smlite: waiting for {len(long)} deliver{'y' if len(long) == 1 else 'ies'}: {shown}{more}"


class Progress:
    """One wait on the board; without a board, its own stderr line after 3 s, then every 5 s."""

    def __init__(self, what: str, upper_s: float, out: TextIO | None, clock: Clock, board: WaitBoard | None = None):
        self.what, self.upper_s, self.out, self.clock, self.board = what, upper_s, out, clock, board
        self.started = clock.monotonic()
        self.next_at = PROGRESS_AFTER_S
        self.key = board.enter(what, upper_s) if board is not None else None

    def tick(self) -> None:
        self.clock.check()
        if self.board is not None:
            return
        elapsed = self.clock.monotonic() - self.started
        if self.out is not None and elapsed >= self.next_at:
            print(f"smlite: waiting for {self.what}, {elapsed:.0f} s of {self.upper_s:.0f}", file=self.out, flush=True)
            self.next_at += PROGRESS_EVERY_S

    def done(self) -> None:
        if self.board is not None and self.key is not None:
            self.board.leave(self.key)


@dataclass
class Barrier:
    """An ordinary message the observer sent through the target to prove that it delivers to this recipient."""

    address: str
    subject: str
    sent_at: float  # monotonic, when the target had accepted it
    sent_wall: float
    refused: str = ""
    mail_at: float | None = None  # monotonic, when it arrived in the mailbox
    mailpit_id: str = ""
    mail_latency_s: float | None = None
    mpp_at: float | None = None
    mpp_item: str = ""

    def evidence(self, grace_s: float | None = None) -> dict[str, Any]:
        return {
            "barrier_subject": self.subject,
            "to": self.address,
            "refused": self.refused or None,
            "mailpit_id": self.mailpit_id or None,
            "mpp_item": self.mpp_item or None,
            "latency_ms": None if self.mail_latency_s is None else round(self.mail_latency_s * 1000, 1),
            "grace_ms": None if grace_s is None else round(grace_s * 1000, 1),
        }


@dataclass
class MailWait:
    """How a Mail Box wait ended: the message (None: nothing), the barrier used, a reordering seen."""

    message: Any | None
    waited_s: float
    detail: str = ""
    barrier: Barrier | None = None
    grace_s: float | None = None  # how long after acceptance absence was decided (the bound)
    reordered: bool = False
    timed_out: bool = False  # the deadline passed without even the barrier: nothing can be said
    before_barrier: list[Any] = field(default_factory=list)  # prove_nothing(): what came before the barrier
    after_barrier: list[Any] = field(default_factory=list)  # … and after it


def arrival_wall(summary: MessageSummary, clock: Clock) -> float:
    """When the mailbox received ``summary`` (its own clock, the sandbox's), never later than now."""
    now = clock.wall()
    return min(now, summary.created.timestamp()) if summary.created is not None else now
