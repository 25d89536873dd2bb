"""What the views of one observer share, and when the absence of a message is proven.

Owns ``Scope``: the target's driver, the mailbox, the recognition rules, the deadline (the profile's
``delivery_timeout_s``), the connection's latency tracker, clock and board, whether the target
promises to deliver in order; and per message of the scenario: when it was first asked about, the
recipients observed together, the content every full copy must keep (and the original itself, when
it was sent as written), the barriers sent. And
``Scope.proven_at``: the moment from which "nothing came" is a fact — a barrier sent after the message
has arrived (the target delivers to this recipient now) *and* the latency bound has passed since the
message was accepted (harness/observation/waiting.py's ``LatencyTracker.bound``). A target that
declares ``delivers_in_order`` and was not seen reordering needs only the barrier and a short grace.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TextIO

from harness.drivers.base import Driver, Outgoing
from harness.mailbox.backends import Mailbox
from harness.mailbox.types import MessageSummary
from harness.observation.waiting import (
    BARRIER_SUBJECT,
    GRACE_MIN_S,
    Barrier,
    Clock,
    LatencyTracker,
    Progress,
    WaitBoard,
    arrival_wall,
)
from harness.observation.wholeness import Original
from harness.profile.rules import Rules


@dataclass
class Scope:
    driver: Driver
    mailbox: Mailbox
    rules: Rules
    timeout_s: float
    latency: LatencyTracker
    clock: Clock
    origins: list[str]
    progress: TextIO | None = None
    board: WaitBoard | None = None
    ordered: bool = False  # the profile's delivers_in_order
    started: dict[str, tuple[float, float]] = field(default_factory=dict)  # marker -> (monotonic, wall)
    barriers: dict[str, list[Barrier]] = field(default_factory=dict)  # address (lower case) -> sent
    together: dict[str, list[str]] = field(default_factory=dict)  # marker -> its recipients, observed in turn
    content: dict[str, dict[str, str]] = field(default_factory=dict)  # marker -> {what: token} of full copies
    originals: dict[str, Original] = field(default_factory=dict)  # marker -> a message sent as it was written

    def start(self, marker: str | None) -> tuple[float, float]:
        """When the message was (about) accepted: the first time the observer is asked about it.

        Steps observe right after the send returns, so this is the send time give or take a step's
        overhead; the latency samples are accepted → delivered.
        """
        now = (self.clock.monotonic(), self.clock.wall())
        return self.started.setdefault(marker, now) if marker else now

    def progress_of(self, what: str, upper_s: float) -> Progress:
        return Progress(what, upper_s, self.progress, self.clock, self.board)

    def missing_content(self, marker: str | None, *texts: str | None) -> list[str]:
        """What a full copy of the message ``marker`` lacks of the content it must keep."""
        body = "\n".join(t or "" for t in texts)
        return [
            f"{what} ('{token}')" for what, token in self.content.get(marker or "", {}).items() if token not in body
        ]

    # -- absence --------------------------------------------------------------------------------
    def by_order(self) -> bool:
        """Whether a barrier's arrival proves an earlier message absent by order alone."""
        return self.ordered and self.latency.trusted

    def proven_at(self, path: str, accepted_at: float, barrier_arrived_at: float) -> tuple[float, float]:
        """(when absence is proven, the wait after acceptance it rests on) for a message accepted at
        ``accepted_at`` whose recipient's barrier arrived at ``barrier_arrived_at`` (monotonic)."""
        if self.by_order():
            return barrier_arrived_at + GRACE_MIN_S, GRACE_MIN_S
        bound = self.latency.bound(path, self.timeout_s)
        return max(barrier_arrived_at + GRACE_MIN_S, accepted_at + bound), bound

    # -- barriers ---------------------------------------------------------------------------------
    def send_barrier(self, address: str) -> Barrier | None:
        """An ordinary message through the target to ``address``; None when the target cannot take one."""
        if "smtp-submission" not in self.driver.capabilities:
            return None
        domain = self.driver.profile.internal_domains[0]
        subject = f"{BARRIER_SUBJECT} {secrets.token_hex(4)}"
        sent_at, sent_wall = self.clock.monotonic(), self.clock.wall()  # before: a latency is never negative
        answer = getattr(self.driver, "unwatched", self.driver).send(  # a barrier is not an action
            "outlook",
            None,
            Outgoing(
                f"smlite-barrier@{domain}",
                [address],
                subject,
                "An ordinary message from smlite: whatever the target sent this person before it should be here.\n",
            ),
        )
        barrier = Barrier(address, subject, sent_at, sent_wall)
        if not answer.ok:
            barrier.refused = f"{answer.status} {answer.text[:200]}"
        self.barriers.setdefault(address.lower(), []).append(barrier)
        return barrier

    def barriers_together(self, address: str, marker: str | None, since: float) -> Barrier | None:
        """A barrier to ``address``, and one to each other recipient of the same message that has none
        since ``since`` (see ``Observer.recipients_together``); returns ``address``'s."""
        barrier = self.send_barrier(address)
        for other in self.together.get(marker or "", []):
            if other.lower() != address.lower() and self.barrier_after(other, since) is None:
                self.send_barrier(other)
        return barrier

    def barrier_after(self, address: str, since: float) -> Barrier | None:
        """The latest usable barrier sent to ``address`` after ``since`` (monotonic)."""
        for barrier in reversed(self.barriers.get(address.lower(), [])):
            if barrier.sent_at >= since and not barrier.refused:
                return barrier
        return None

    def note_barriers(self, address: str, summaries: list[MessageSummary]) -> None:
        """Barriers to ``address`` among ``summaries``: when each arrived, and its latency."""
        mine = {b.subject: b for b in self.barriers.get(address.lower(), [])}
        for summary in summaries:
            barrier = mine.get(summary.subject)
            if barrier is not None and barrier.mail_at is None:
                barrier.mailpit_id = summary.id
                barrier.mail_latency_s = arrival_wall(summary, self.clock) - barrier.sent_wall
                # when it arrived (by the mailbox's clock, as the latency is), not when it was first looked
                # at: a barrier sent for another recipient may have been there a while
                barrier.mail_at = min(self.clock.monotonic(), barrier.sent_at + max(0.0, barrier.mail_latency_s))
                self.latency.add("mail", barrier.mail_latency_s)

    def reordered(self, what: str) -> str:
        """A message arrived after a later barrier: said once, and barriers no longer prove absence by order."""
        note = f"the target reorders deliveries: {what}"
        if self.ordered:
            note += "; the profile says delivers_in_order, so from now on absence waits for the latency bound"
        self.latency.reordered(what)
        if self.progress is not None and self.board is None:
            print(f"smlite: {note}", file=self.progress, flush=True)
        return note
