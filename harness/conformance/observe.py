"""Observing what one recipient got, in the source's three columns.

* **Mail Box**: the next message Mailpit holds for the address, classified
  (harness/spec/classify.py);
* **MPP**: the next item in the recipient's MPP view, classified by the same
  rules (external recipients have no MPP);
* **Message in SM Portal**: "Yes" when a portal link the recipient was given
  (in the mail or the MPP item) opens the very message; "No" otherwise, checked
  against the target's SM Portal index where it has one.

Owns: ``Observer`` (the three columns), ``LatencyTracker`` (delivery latency
measured so far in this process: one run, or one xdist worker) and ``Barrier``.

Waits end when the answer is known (docs/vocabulary.md, "How mail is waited
for"): an observation waits for *a* delivery to the recipient, not for the
expected one, and judges what came. When nothing has come after a short while
(2 × p99 of the latency measured so far, at least 0.1 s; 1 s before any latency
is known; at once for an MPP view without a new item), the observer sends a
*barrier* — an ordinary message through the same target path to the same
recipient — and "nothing" is proven once the barrier has arrived and a grace
period of max(0.2 s, 3 × p99 of the delivery latency measured so far in the run)
has passed without anything else. A real message that arrives *after* the
barrier is a target that reorders deliveries: it is judged as what came, and
reported (cell detail, evidence, a stderr line); from then on this process no
longer trusts barriers and proves absence only by the profile's
``delivery_timeout_s``, which otherwise is just the upper bound for a target that
delivers nothing at all. Barrier messages and MPP items (subject
``smlite barrier …``) are never judged as a recipient's mail.

A wait that passes 3 s prints a progress line on stderr (in pytest-xdist
workers stderr is captured: the line shows only in the worker's output). A
timeout is an observation ("nothing arrived"), not an exception. Used by the
steps, ``smlite simulate`` and ``smlite load``; all read the target only through
a driver.
"""

from __future__ import annotations

import math
import secrets
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TextIO

from harness.spec.classify import BANNER, NOTHING, Classification, Rules, classify, parts_of
from harness.drivers.base import Driver, Outgoing
from harness.errors import ForeignLink
from harness.target.origins import declared_origins, require_target_origin
from harness.mailbox.mailpit import MailpitClient, MessageSummary

NO_MPP = "none (external users have no MPP)"
BARRIER_SUBJECT = "smlite barrier"
GRACE_FACTOR = 3.0  # × p99 of the latency measured so far
GRACE_MIN_S = 0.2  # twice the slowest poll of a wait (0.1 s): below it, a poll could miss the window
FIRST_BARRIER_S = 1.0  # before any latency is known: how long to wait for a delivery before sending a barrier
BARRIER_AFTER_FACTOR, BARRIER_AFTER_MIN_S = 2.0, 0.1  # once it is known: 2 × p99, at least 0.1 s
PROGRESS_AFTER_S = 3.0
PROGRESS_EVERY_S = 5.0
UNREQUIRED_MPP_S = 2.0  # upper bound of an MPP wait whose cell is only observed


def is_barrier(subject: str | None) -> bool:
    return (subject or "").startswith(BARRIER_SUBJECT)


class LatencyTracker:
    """Delivery latencies (seconds) seen in this process, per path: ``mail`` (accepted → in Mailpit)
    and ``mpp`` (accepted → in the MPP view); and whether the target was seen reordering."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {"mail": [], "mpp": []}
        self.reorders: list[str] = []

    def add(self, path: str, seconds: float) -> None:
        self.samples[path].append(max(0.0, seconds))

    def p99(self, path: str) -> float | None:
        values = sorted(self.samples[path])
        return values[max(0, math.ceil(0.99 * len(values)) - 1)] if values else None

    def grace(self, path: str, upper_s: float) -> float:
        """How long after a barrier's arrival anything sent before it must have arrived too."""
        p99 = self.p99(path)
        if p99 is None and path == "mpp":
            p99 = self.p99("mail")
        return min(upper_s, max(GRACE_MIN_S, GRACE_FACTOR * p99) if p99 is not None else FIRST_BARRIER_S)

    @property
    def trusted(self) -> bool:
        """Barriers prove absence only on a target not seen reordering."""
        return not self.reorders


_TRACKERS: dict[str, LatencyTracker] = {}


def tracker_for(key: str) -> LatencyTracker:
    """The process-wide tracker for one Mailpit (so the latency is "measured so far in the run")."""
    return _TRACKERS.setdefault(key, LatencyTracker())


@dataclass
class Barrier:
    """An ordinary message the observer sent through the target to prove that nothing else is on its way."""

    address: str
    subject: str
    sent_at: float  # monotonic, when the target had accepted it
    sent_wall: float
    refused: str = ""
    mail_at: float | None = None  # monotonic, when the observer saw it in Mailpit
    mailpit_id: str = ""
    mail_latency_s: float | None = None
    mpp_at: float | None = None
    mpp_item: str = ""

    def evidence(self, grace_s: float | None = None) -> dict[str, Any]:
        return {"barrier_subject": self.subject, "to": self.address, "refused": self.refused or None,
                "mailpit_id": self.mailpit_id or None, "mpp_item": self.mpp_item or None,
                "latency_ms": None if self.mail_latency_s is None else round(self.mail_latency_s * 1000, 1),
                "grace_ms": None if grace_s is None else round(grace_s * 1000, 1)}


@dataclass
class MailWait:
    """How a Mail Box wait ended: the message (None: nothing), the barrier used, a reordering seen."""

    message: Any | None
    waited_s: float
    detail: str = ""
    barrier: Barrier | None = None
    grace_s: float | None = None
    reordered: bool = False
    before_barrier: list[Any] = field(default_factory=list)  # prove_nothing(): what came before the barrier
    after_barrier: list[Any] = field(default_factory=list)  # … and within the grace after it


@dataclass
class Observation:
    column: str
    value: str
    detail: str = ""
    evidence: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    item_id: str = ""
    contract: list[str] = field(default_factory=list)  # recognition signals the target does not give
    derived: list[str] = field(default_factory=list)  # derived checks that failed beside the value


def _email_evidence(message: Any, classification: Classification) -> dict[str, Any]:
    headers = {k: v for k, v in (message.headers or {}).items()
               if k.lower() in ("sensitivity", "message-id", "in-reply-to", "references", "date",
                                "disposition-notification-to", "content-type")}
    return {"mailpit_id": message.id, "from": message.sender, "to": ", ".join(message.to),
            "subject": message.subject, "date": message.date, "classification": classification.kind,
            "rule": classification.rule, "excerpt": classification.excerpt, "notes": classification.notes,
            "text": (message.text or "")[:8000], "html": (message.html or "")[:20000], "headers": headers,
            "portal_links": classification.portal_links}


class _Progress:
    """One stderr line when a wait passes PROGRESS_AFTER_S, then every PROGRESS_EVERY_S."""

    def __init__(self, what: str, upper_s: float, out: TextIO | None):
        self.what, self.upper_s, self.out = what, upper_s, out
        self.started = time.monotonic()
        self.next_at = PROGRESS_AFTER_S

    def tick(self) -> None:
        elapsed = time.monotonic() - self.started
        if self.out is not None and elapsed >= self.next_at:
            print(f"smlite: waiting for {self.what}, {elapsed:.0f} s of {self.upper_s:.0f}", file=self.out, flush=True)
            self.next_at += PROGRESS_EVERY_S


class Observer:
    def __init__(self, driver: Driver, mailpit: MailpitClient, rules: Rules, timeout_s: float = 15.0,
                 control: Callable[[], Any] | None = None, *, latency: LatencyTracker | None = None,
                 progress: TextIO | None = sys.stderr):
        self.driver, self.mailpit, self.rules, self.timeout_s = driver, mailpit, rules, timeout_s
        self.control = control  # proves the mail sandbox itself works when a wait runs out
        self.origins = list(declared_origins(driver.profile))  # where a link into the SM Portal may point
        self.latency = latency if latency is not None else tracker_for(getattr(mailpit, "api_url", None) or repr(mailpit))
        self.progress = progress
        self._started: dict[str, tuple[float, float]] = {}  # marker -> (monotonic, wall) first asked about it
        self._barriers: dict[str, list[Barrier]] = {}
        self._together: dict[str, list[str]] = {}  # marker -> the recipients observed one after the other
        self._content: dict[str, dict[str, str]] = {}  # marker -> {what: token} every full copy must carry

    def expect_content(self, marker: str | None, tokens: dict[str, str]) -> None:
        """Every full copy of the message ``marker`` (an Email with banner, the SM Portal's message)
        carries each of ``tokens`` ({what it is: text}), e.g. its HTML part's own text, the end of a
        long body: derived, the source's "Email with banner" and "Message in SM Portal" are the
        message itself, not part of it."""
        if marker:
            self._content[marker] = dict(tokens)

    def _missing_content(self, marker: str | None, *texts: str | None) -> list[str]:
        body = "\n".join(t or "" for t in texts)
        return [f"{what} ('{token}')" for what, token in self._content.get(marker or "", {}).items()
                if token not in body]

    def recipients_together(self, marker: str | None, addresses: list[str]) -> None:
        """``addresses`` (the message ``marker``'s recipients) are about to be observed one after the
        other: when one of them needs a barrier for its MPP, the others that have none get theirs at the
        same time, so their absence proofs run out together instead of one grace after another."""
        if marker:
            self._together = {marker: list(addresses)}

    # -- time and barriers ---------------------------------------------------------
    def _start(self, marker: str | None) -> tuple[float, float]:
        """When the message was (about) accepted: the first time the observer is asked about it.

        Steps observe right after the send returns, so this is the send time give or take a step's
        overhead; the latency samples are accepted → delivered.
        """
        now = (time.monotonic(), time.time())
        return self._started.setdefault(marker, now) if marker else now

    def send_barrier(self, address: str) -> Barrier | None:
        """An ordinary message through the target to ``address``; None when the target cannot take one."""
        if "smtp-submission" not in self.driver.capabilities:
            return None
        domain = self.driver.profile.internal_domains[0]
        subject = f"{BARRIER_SUBJECT} {secrets.token_hex(4)}"
        answer = self.driver.send("outlook", None, Outgoing(
            f"smlite-barrier@{domain}", [address], subject,
            "An ordinary message from smlite: whatever the target sent this person before it should be here.\n"))
        barrier = Barrier(address, subject, time.monotonic(), time.time())
        if not answer.ok:
            barrier.refused = f"{answer.status} {answer.text[:200]}"
        self._barriers.setdefault(address.lower(), []).append(barrier)
        return barrier

    def _barriers_together(self, address: str, marker: str | None, since: float) -> Barrier | None:
        """A barrier to ``address``, and one to each other recipient of the same message that has none
        since ``since`` (see ``recipients_together``); returns ``address``'s."""
        barrier = self.send_barrier(address)
        for other in self._together.get(marker or "", []):
            if other.lower() != address.lower() and self._barrier_after(other, since) is None:
                self.send_barrier(other)
        return barrier

    def _barrier_after(self, address: str, since: float) -> Barrier | None:
        """The latest usable barrier sent to ``address`` after ``since`` (monotonic)."""
        for barrier in reversed(self._barriers.get(address.lower(), [])):
            if barrier.sent_at >= since and not barrier.refused:
                return barrier
        return None

    def _note_barriers(self, address: str, summaries: list[MessageSummary]) -> None:
        mine = {b.subject: b for b in self._barriers.get(address.lower(), [])}
        for summary in summaries:
            barrier = mine.get(summary.subject)
            if barrier is not None and barrier.mail_at is None:
                barrier.mailpit_id = summary.id
                barrier.mail_latency_s = _arrival_wall(summary) - barrier.sent_wall
                # when it arrived (by the mailbox's clock, as the latency is), not when it was first looked
                # at: a barrier sent for another recipient may have been there a while
                barrier.mail_at = min(time.monotonic(), barrier.sent_at + max(0.0, barrier.mail_latency_s))
                self.latency.add("mail", barrier.mail_latency_s)

    def _reordered(self, what: str) -> str:
        note = (f"the target reorders deliveries: {what}; from now on absence is proven only by the "
                f"profile's delivery timeout ({self.timeout_s:.0f}s), not by barriers")
        self.latency.reorders.append(what)
        if self.progress is not None:
            print(f"smlite: {note}", file=self.progress, flush=True)
        return note

    # -- Mail Box ------------------------------------------------------------
    def await_mail(self, address: str, seen: set[str], marker: str | None = None,
                   timeout_s: float | None = None, what: str | None = None) -> MailWait:
        """The first message to ``address`` not in ``seen`` (barriers aside), or proof that none is coming."""
        upper = timeout_s or self.timeout_s
        started, started_wall = self._start(marker)
        wait_start = time.monotonic()
        progress = _Progress(what or f"a delivery to {address}", upper, self.progress)
        state: dict[str, Any] = {"barrier": self._barrier_after(address, started), "proven_at": None}

        def step(summaries: list[MessageSummary]) -> Any:
            self._note_barriers(address, summaries)
            fresh = [s for s in summaries if s.id not in seen and not is_barrier(s.subject)]
            barrier: Barrier | None = state["barrier"]
            if fresh:
                return ("mail", fresh[0], summaries)
            now = time.monotonic()
            if barrier is None and now - wait_start >= self._first_barrier_s(upper):
                barrier = state["barrier"] = self._barriers_together(address, marker, started)
            if barrier is not None and barrier.mail_at is not None and self.latency.trusted:
                if state["proven_at"] is None:
                    state["grace"] = self.latency.grace("mail", upper)
                    state["proven_at"] = barrier.mail_at + state["grace"]
                if now >= state["proven_at"]:
                    return ("nothing",)
            progress.tick()
            return None

        found = self.mailpit.watch(address, step, upper, tick_s=0.05)
        waited = time.monotonic() - wait_start
        barrier = state["barrier"]
        if found is None:
            if barrier is None:
                why = "(no barrier: the target lacks smtp-submission)"
            elif barrier.refused:
                why = f"(the target refused the ordinary barrier message: {barrier.refused})"
            elif barrier.mail_at is None:
                why = "not even the ordinary barrier message sent after it (does the target deliver at all?)"
            else:
                why = "(the target was seen reordering deliveries, so the barrier that arrived proves nothing)"
            return MailWait(None, waited, f"no new message reached {address} within {upper:.0f}s {why}", barrier)
        if found[0] == "nothing":
            return MailWait(None, waited, (
                f"nothing reached {address}: the ordinary barrier message '{barrier.subject}' sent through the "
                f"target arrived {barrier.mail_latency_s:.2f}s after it was sent, and nothing else came before "
                f"it nor in the {state['grace']:.2f}s grace after it"), barrier, state["grace"])
        summary, summaries = found[1], found[2]
        message = self.mailpit.message(summary.id)
        if marker and marker in self._started:
            self.latency.add("mail", _arrival_wall(summary) - started_wall)
        wait = MailWait(message, waited, barrier=barrier)
        order = [s.id for s in summaries]
        if barrier is not None and barrier.mailpit_id in order and order.index(barrier.mailpit_id) < order.index(
                summary.id):
            wait.reordered = True
            wait.detail = self._reordered(f"'{message.subject}' to {address} arrived after the later barrier "
                                          f"'{barrier.subject}'")
        return wait

    def next_mail(self, address: str, seen: set[str], timeout_s: float | None = None) -> Any | None:
        """The first message to ``address`` not in ``seen``, or None once proven that none is coming."""
        return self.await_mail(address, seen, None, timeout_s).message

    def mailbox(self, address: str, seen: set[str], original_marker: str | None) -> Observation:
        wait = self.await_mail(address, seen, original_marker)
        message = wait.message
        if message is None:
            if self.control is not None and (wait.barrier is None or wait.barrier.mail_at is None):
                self.control()  # HarnessError when the sandbox, not the target, lost the mail
            evidence = [] if wait.barrier is None else [
                ("email", f"Barrier for {address}'s Mail Box", wait.barrier.evidence(wait.grace_s))]
            return Observation("Mail Box", NOTHING, wait.detail, evidence)
        seen.add(message.id)
        found = classify(message.subject, message.text, message.html, message.headers, self.rules, original_marker,
                         parts=parts_of(message.raw) if message.raw else None, origins=self.origins)
        data = _email_evidence(message, found) | {"waited_ms": round(wait.waited_s * 1000, 1)}
        detail = f"{getattr(self.mailpit, 'label', 'Mailpit')} message {message.id} '{message.subject}': {found.rule}"
        if found.notes:
            detail += "; " + "; ".join(found.notes)
        evidence = [("email", f"Mail Box of {address}", data)]
        derived = list(found.derived)
        missing = self._missing_content(original_marker, message.text, message.html) if found.kind == BANNER else []
        if missing:
            derived.append("the Email with banner lacks part of the original: " + ", ".join(missing))
        if wait.reordered:
            detail += "; " + wait.detail
            evidence.append(("email", "Target reorders deliveries", wait.barrier.evidence()))
        return Observation("Mail Box", found.kind, detail, evidence, found.portal_links, message.id,
                           found.contract, derived)

    def prove_nothing(self, address: str, seen: set[str]) -> MailWait:
        """Send a barrier to ``address`` and collect every other new message that arrives before it or
        within the grace after it (the steps "receives nothing but a later message" / "no read receipt")."""
        upper = self.timeout_s
        wait_start = time.monotonic()
        barrier = self.send_barrier(address)
        if barrier is None or barrier.refused:
            why = "the target lacks smtp-submission" if barrier is None else f"it refused: {barrier.refused}"
            return MailWait(None, 0.0, f"cannot send an ordinary barrier message to {address}: {why}", barrier)
        progress = _Progress(f"the barrier message to {address}", upper, self.progress)
        state: dict[str, Any] = {"proven_at": None}
        before: list[MessageSummary] = []
        after: list[MessageSummary] = []

        def step(summaries: list[MessageSummary]) -> Any:
            self._note_barriers(address, summaries)
            order = [s.id for s in summaries]  # Mailpit's order of arrival, oldest first
            barrier_at = order.index(barrier.mailpit_id) if barrier.mailpit_id in order else None
            for position, summary in enumerate(summaries):
                if summary.id in seen or is_barrier(summary.subject):
                    continue
                seen.add(summary.id)
                (after if barrier_at is not None and position > barrier_at else before).append(summary)
            if barrier.mail_at is not None:
                if state["proven_at"] is None:
                    state["grace"] = self.latency.grace("mail", upper)
                    trusted = self.latency.trusted
                    state["proven_at"] = barrier.mail_at + (state["grace"] if trusted else upper)
                if time.monotonic() >= state["proven_at"]:
                    return True
            progress.tick()
            return None

        done = self.mailpit.watch(address, step, upper, tick_s=0.05)
        waited = time.monotonic() - wait_start
        wait = MailWait(None, waited, barrier=barrier, grace_s=state.get("grace"),
                        before_barrier=[self.mailpit.message(s.id) for s in before],
                        after_barrier=[self.mailpit.message(s.id) for s in after])
        if done is None and barrier.mail_at is None:
            wait.detail = f"the ordinary barrier message did not reach {address} within {upper:.0f}s"
        elif after:
            wait.reordered = True
            wait.detail = self._reordered(f"{len(after)} message(s) to {address} arrived after the later "
                                          f"barrier '{barrier.subject}'")
        return wait

    def _first_barrier_s(self, upper: float) -> float:
        """How long a Mail Box wait goes without a delivery before it sends a barrier.

        Only a cost, never a judgement: a barrier sent early is one more ordinary message, never judged.
        """
        p99 = self.latency.p99("mail")
        return min(upper, FIRST_BARRIER_S if p99 is None else max(BARRIER_AFTER_MIN_S, BARRIER_AFTER_FACTOR * p99))

    # -- MPP -------------------------------------------------------------------
    def mpp(self, address: str, internal: bool, seen: set[str], original_marker: str | None,
            required: bool) -> Observation:
        if not internal:
            return Observation("MPP", NO_MPP, "external recipients have no MPP account")
        upper = self.timeout_s if required else min(UNREQUIRED_MPP_S, self.timeout_s)
        started, _ = self._start(original_marker)
        wait_start = time.monotonic()
        deadline = wait_start + upper
        progress = _Progress(f"an MPP item for {address}", upper, self.progress)
        barrier = self._barrier_after(address, started)
        proven_at: float | None = None
        grace = None
        polls = 0
        interval = 0.02
        while True:
            items = self.driver.mpp_view(address)
            polls += 1
            now = time.monotonic()
            for item in items:
                if is_barrier(item.get("subject")):
                    seen.add(str(item.get("id")))
                    for mine in self._barriers.get(address.lower(), []):
                        if mine.subject == item.get("subject") and mine.mpp_at is None:
                            mine.mpp_at, mine.mpp_item = now, str(item.get("id"))
            fresh = [item for item in items if str(item.get("id")) not in seen]
            if fresh:
                item = min(fresh, key=lambda i: i.get("received_at", ""))  # the oldest unseen item
                seen.add(str(item.get("id")))
                if original_marker and (polls > 1 or now - started < FIRST_BARRIER_S):
                    self.latency.add("mpp", now - started)
                found = classify(item.get("subject", ""), item.get("text", ""), item.get("html", ""),
                                 item.get("headers", {}), self.rules, original_marker, origins=self.origins,
                                 declared=str(item.get("kind") or ""))
                links = sorted(set(found.portal_links) | ({item["portal_url"]} if item.get("portal_url") else set()))
                data = {"item": {k: item.get(k) for k in ("id", "kind", "from", "subject", "received_at",
                                                          "portal_url")},
                        "classification": found.kind, "rule": found.rule, "excerpt": found.excerpt}
                detail = f"MPP item '{item.get('subject')}': {found.rule}"
                evidence = [("mpp", f"MPP view of {address}", data)]
                if barrier is not None and barrier.mpp_at is not None and barrier.mpp_at < now:
                    detail += "; " + self._reordered(f"an MPP item for {address} appeared after the later "
                                                     f"barrier '{barrier.subject}'")
                    evidence.append(("mpp", "Target reorders deliveries", barrier.evidence()))
                derived = list(found.derived)
                missing = self._missing_content(original_marker, item.get("text"), item.get("html")) \
                    if found.kind == BANNER else []
                if missing:
                    derived.append("the MPP's Email with banner lacks part of the original: " + ", ".join(missing))
                return Observation("MPP", found.kind, detail, evidence, links, str(item.get("id")), found.contract,
                                   derived)
            if barrier is None:  # at once: the message's Mail Box copy is usually there already
                barrier = self._barriers_together(address, original_marker, started)
            if barrier is not None and barrier.mpp_at is None and barrier.mail_at is None:
                self._note_barriers(address, self.mailpit.messages_to(address))
            if barrier is not None and proven_at is None and self.latency.trusted:
                # through the MPP itself when the target lists ordinary mail there; else its Mail Box copy
                arrived = barrier.mpp_at if barrier.mpp_at is not None else barrier.mail_at
                if arrived is not None:
                    grace = self.latency.grace("mpp", upper)
                    proven_at = arrived + grace
            if proven_at is not None and now >= proven_at:
                via = "in the MPP view" if barrier.mpp_at is not None else "in the Mail Box"
                return Observation("MPP", NOTHING, (
                    f"no new item in {address}'s MPP view: the ordinary barrier message '{barrier.subject}' sent "
                    f"after it arrived {via}, and nothing came in the {grace:.2f}s grace after it"),
                    [("mpp", f"Barrier for {address}'s MPP", barrier.evidence(grace))])
            if now >= deadline:
                return Observation("MPP", NOTHING, f"no new item in {address}'s MPP view within {upper:.0f}s "
                                   f"(saw {len(items)} item(s) already observed)")
            progress.tick()
            until = deadline if proven_at is None else min(deadline, proven_at)
            time.sleep(min(interval, max(0.0, until - now)))  # polling the MPP view with a deadline
            interval = min(interval * 2, 0.1)

    # -- SM Portal ---------------------------------------------------------------
    def sm_portal(self, address: str, links: list[str], original_subject: str,
                  original_marker: str | None) -> Observation:
        evidence: list[tuple[str, str, dict[str, Any]]] = []
        tried: list[str] = []
        opened, missing = self._open_first(address, links, original_marker, evidence, tried)
        if opened:
            return Observation("Message in SM Portal", "Yes", f"the portal link in {address}'s mail opens the message",
                               evidence, [opened], derived=missing)
        if "sm-portal-sign-in" in self.driver.capabilities:
            signed_in = [link for link in self.driver.portal_links_as(address) if link not in links]
            opened, missing = self._open_first(address, signed_in, original_marker, evidence, tried)
            if opened:
                return Observation("Message in SM Portal", "Yes",
                                   f"{address} signed in to the SM Portal and opened the message", evidence, [opened],
                                   derived=missing)
        listed = None
        if "sm-portal-index" in self.driver.capabilities:
            items = self.driver.portal_index(address)
            listed = any(item.get("subject") == original_subject for item in items)
            evidence.append(("http", f"SM Portal index for {address}", {"items": items[:20]}))
        if not tried:
            detail = f"no portal link reached {address}"
        else:
            detail = f"portal links given to {address} do not open the message ({', '.join(tried)})"
        if listed:
            detail += "; the SM Portal index lists it, but the recipient cannot reach it"
        elif listed is False:
            detail += "; the SM Portal index does not list it"
        return Observation("Message in SM Portal", "No", detail, evidence)

    def _open_first(self, address: str, links: list[str], original_marker: str | None,
                    evidence: list[tuple[str, str, dict[str, Any]]], tried: list[str]) -> tuple[str | None, list[str]]:
        """The first of ``links`` that opens ``address``'s own copy of the message (or None), and the
        derived failures of that copy: parts of the original it lacks."""
        for link in links:
            try:
                # A link outside the target is never requested. A profile that declares no origin at all
                # (a driver of its own without [target] http, written before portal_origins) leaves that
                # to its driver, as before.
                if self.origins:
                    require_target_origin(self.driver.profile, link)
            except ForeignLink as exc:
                tried.append(str(exc))
                continue
            answer = self.driver.portal_open(link)
            body = answer.body if isinstance(answer.body, dict) else {}
            content = f"{body.get('text', '')}\n{body.get('html', '')}"
            tried.append(f"{link.rsplit('/', 1)[-1][:6]}… → {answer.status}")
            opened_for = str(body.get("recipient") or "")
            if answer.status == 200 and opened_for and opened_for.lower() != address.lower():
                tried[-1] += f" (another recipient's copy: {opened_for})"
                evidence.append(("http", f"SM Portal message behind {address}'s link",
                                 {"status": 200, "recipient": opened_for, "subject": body.get("subject")}))
                continue
            if answer.status == 200 and (not original_marker or original_marker in content):
                missing = self._missing_content(original_marker, body.get("text"), body.get("html"))
                evidence.append(("http", f"SM Portal message of {address}",
                                 {"status": 200, "subject": body.get("subject"), "permissions": body.get(
                                     "permissions"), "expires_at": body.get("expires_at"),
                                  "missing": missing or None}))
                return link, ([f"the SM Portal's message lacks part of the original: {', '.join(missing)}"]
                              if missing else [])
        return None, []

def _arrival_wall(summary: MessageSummary) -> float:
    """When Mailpit received ``summary`` (its own clock, the sandbox's), never later than now."""
    now = time.time()
    return min(now, summary.created.timestamp()) if summary.created is not None else now
