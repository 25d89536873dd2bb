"""Observing what one recipient got, in the source's three columns: one observer per scenario.

Owns ``Observer``, the one object the suite's steps, ``smlite simulate`` and the load sample ask:

* **Mail Box**: the next message the mailbox holds for the address, classified
  (harness/observation/mail_box.py);
* **MPP**: the next item in the recipient's MPP view, classified by the same rules
  (harness/observation/mpp.py; external recipients have no MPP);
* **Message in SM Portal**: whether a portal link the recipient was given opens the very message
  (harness/observation/sm_portal.py).

How waits end — barriers, graces, the deadline — is harness/observation/waiting.py's. A timeout is an
observation ("nothing arrived"), not an exception; when a wait runs out without even the barrier,
``control`` proves the mail sandbox itself works (a harness error otherwise). Observers are made by
``harness.connection.connect`` and share its latency tracker and clock; all read the target only
through a driver.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from harness.drivers.base import Driver
from harness.errors import DeliveryTimeout
from harness.mailbox.backends import Mailbox
from harness.observation import mail_box, mpp, sm_portal
from harness.observation.scope import Scope
from harness.observation.values import Observation
from harness.observation.waiting import Barrier, Clock, LatencyTracker, MailWait, WaitBoard
from harness.observation.wholeness import Original
from harness.profile.origins import declared_origins
from harness.profile.rules import Rules


class Observer:
    def __init__(
        self,
        driver: Driver,
        mailbox: Mailbox,
        rules: Rules,
        timeout_s: float = 15.0,
        control: Callable[[], Any] | None = None,
        *,
        latency: LatencyTracker | None = None,
        progress: TextIO | None = sys.stderr,
        clock: Clock | None = None,
        board: WaitBoard | None = None,
        ordered: bool = False,
    ):
        self.driver = driver
        self.control = control  # proves the mail sandbox itself works when a wait runs out
        self.scope = Scope(
            driver,
            mailbox,
            rules,
            timeout_s,
            latency if latency is not None else LatencyTracker(),
            clock or Clock(),
            list(declared_origins(driver.profile)),
            progress,
            board,
            ordered,
        )

    # the observer's parts, for the steps that read them
    @property
    def mailpit(self) -> Mailbox:
        """The mailbox delivered mail is read from (Mailpit or IMAP: the profile's kind)."""
        return self.scope.mailbox

    @property
    def latency(self) -> LatencyTracker:
        return self.scope.latency

    @property
    def timeout_s(self) -> float:
        """The profile's ``delivery_timeout_s``: the upper bound of every wait."""
        return self.scope.timeout_s

    @timeout_s.setter
    def timeout_s(self, seconds: float) -> None:
        self.scope.timeout_s = seconds

    @property
    def rules(self) -> Rules:
        return self.scope.rules

    # -- what the scenario tells the observer -------------------------------------------------------
    def expect_content(self, marker: str | None, tokens: dict[str, str]) -> None:
        """Every full copy of the message ``marker`` (an Email with banner, the SM Portal's message)
        carries each of ``tokens`` ({what it is: text}), e.g. its HTML part's own text, the end of a
        long body: derived, the source's "Email with banner" and "Message in SM Portal" are the
        message itself, not part of it."""
        if marker:
            self.scope.content[marker] = dict(tokens)

    def expect_original(self, marker: str, raw: bytes) -> None:
        """The message ``marker`` was sent as written (``raw``): every full copy keeps all of it, part by
        part (harness/observation/wholeness.py; derived)."""
        self.scope.originals[marker] = Original.from_raw(raw)

    def recipients_together(self, marker: str | None, addresses: list[str]) -> None:
        """``addresses`` (the message ``marker``'s recipients) are about to be observed one after the
        other: when one of them needs a barrier for its MPP, the others that have none get theirs at the
        same time, so their absence proofs run out together instead of one grace after another."""
        if marker:
            self.scope.together = {marker: list(addresses)}

    # -- the three columns ------------------------------------------------------------------------
    def mailbox(self, address: str, seen: set[str], original_marker: str | None) -> Observation:
        """What ``address``'s Mail Box got next. ``DeliveryTimeout`` (the run is incomplete) when the wait
        reached the delivery timeout without even the barrier: nothing can be said about this recipient."""
        observation, wait = mail_box.observe(
            self.scope, address, seen, original_marker, getattr(self.scope.mailbox, "label", "Mailpit")
        )
        if wait.timed_out:
            self.timed_out(address, wait)
        return observation

    def timed_out(self, address: str, wait: MailWait) -> None:
        """A wait ran out: the harness's own mail sandbox is checked first (its failure is the harness's),
        then ``DeliveryTimeout`` says which recipient waited for what."""
        if self.control is not None:
            self.control()  # HarnessError when the sandbox, not the target, lost the mail
        raise DeliveryTimeout(
            f"No delivery to {address} within the profile's delivery_timeout_s ({self.scope.timeout_s:g}s)",
            wait.detail,
        )

    def mpp(
        self, address: str, internal: bool, seen: set[str], original_marker: str | None, required: bool
    ) -> Observation:
        return mpp.observe(self.scope, address, internal, seen, original_marker, required)

    def sm_portal(
        self, address: str, links: list[str], original_subject: str, original_marker: str | None
    ) -> Observation:
        return sm_portal.observe(self.scope, address, links, original_subject, original_marker)

    # -- waiting, for steps that need a delivery or its absence ---------------------------------------
    def await_mail(
        self,
        address: str,
        seen: set[str],
        marker: str | None = None,
        timeout_s: float | None = None,
        what: str | None = None,
    ) -> MailWait:
        return mail_box.await_mail(self.scope, address, seen, marker, timeout_s, what)

    def next_mail(self, address: str, seen: set[str], timeout_s: float | None = None) -> Any | None:
        """The first message to ``address`` not in ``seen``, or None once proven that none is coming."""
        return self.await_mail(address, seen, None, timeout_s).message

    def prove_nothing(self, address: str, seen: set[str], since: float | None = None) -> MailWait:
        """Every message that reaches ``address`` before its absence is proven (reusing a barrier sent after
        ``since``, the scenario's last action); ``DeliveryTimeout`` when not even the barrier came."""
        wait = mail_box.prove_nothing(self.scope, address, seen, since)
        if wait.timed_out:
            self.timed_out(address, wait)
        return wait

    def barrier_after(self, address: str, since: float) -> Barrier | None:
        return self.scope.barrier_after(address, since)

    def send_barrier(self, address: str) -> Barrier | None:
        return self.scope.send_barrier(address)
