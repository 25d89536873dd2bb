"""The Mail Box column: the next message the mailbox holds for a recipient, classified.

Owns ``await_mail`` (the first new message to an address, or proof that none is coming), ``observe``
(that message as an Observation: its kind, the links it gives, what a full copy lacks) and
``prove_nothing`` (a barrier, and every other message that arrives before absence is proven: "receives
nothing but a later message", "no read receipt").

Waits end when the answer is known: an observation waits for *a* delivery to the recipient, not for
the expected one, and judges what came. "Nothing" is proven as harness/observation/scope.py says (a
barrier arrived and the latency bound passed); a wait that reaches the profile's delivery timeout
without even the barrier ends ``timed_out``: nothing can be said about that recipient.
"""

from __future__ import annotations

from typing import Any

from harness.mailbox.types import MessageSummary
from harness.observation.recognition import BANNER, NOTHING, PARTIAL_BANNER, classify, parts_of
from harness.observation.scope import Scope
from harness.observation.values import Observation, email_evidence
from harness.observation.waiting import Barrier, MailWait, arrival_wall, is_barrier
from harness.observation.wholeness import banner_problems


def await_mail(
    scope: Scope,
    address: str,
    seen: set[str],
    marker: str | None = None,
    timeout_s: float | None = None,
    what: str | None = None,
) -> MailWait:
    """The first message to ``address`` not in ``seen`` (barriers aside), or proof that none is coming."""
    upper = timeout_s or scope.timeout_s
    clock = scope.clock
    started, started_wall = scope.start(marker)
    wait_start = clock.monotonic()
    progress = scope.progress_of(what or f"a delivery to {address}", upper)
    state: dict[str, Any] = {"barrier": scope.barrier_after(address, started), "proven_at": None}

    def step(summaries: list[MessageSummary]) -> Any:
        progress.tick()
        scope.note_barriers(address, summaries)
        fresh = [s for s in summaries if s.id not in seen and not is_barrier(s.subject)]
        barrier: Barrier | None = state["barrier"]
        if fresh:
            return ("mail", fresh[0], summaries)
        now = clock.monotonic()
        if barrier is None and now - wait_start >= scope.latency.first_barrier_s(upper):
            barrier = state["barrier"] = scope.barriers_together(address, marker, started)
        if barrier is not None and barrier.mail_at is not None:
            if state["proven_at"] is None:
                state["proven_at"], state["grace"] = scope.proven_at("mail", started, barrier.mail_at)
            if now >= state["proven_at"]:
                return ("nothing",)
        return None

    try:
        found = scope.mailbox.watch(address, step, upper, tick_s=0.05)
    finally:
        progress.done()
    waited = clock.monotonic() - wait_start
    barrier = state["barrier"]
    if found is None:
        if barrier is None:
            why = "and no barrier could be sent (the target lacks smtp-submission)"
        elif barrier.refused:
            why = f"and the target refused the ordinary barrier message: {barrier.refused}"
        elif barrier.mail_at is None:
            why = "not even the ordinary barrier message sent after it (does the target deliver at all?)"
        else:
            why = "and the latency bound had not passed (a slow target: raise delivery_timeout_s)"
        return MailWait(
            None, waited, f"no new message reached {address} within {upper:.0f}s, {why}", barrier, timed_out=True
        )
    if found[0] == "nothing":
        assert barrier is not None and barrier.mail_latency_s is not None
        return MailWait(
            None,
            waited,
            (
                f"nothing reached {address}: the ordinary barrier message '{barrier.subject}' sent through the "
                f"target arrived {barrier.mail_latency_s:.2f}s after it was sent, and nothing else came within "
                f"{state['grace']:.2f}s of acceptance"
            ),
            barrier,
            state["grace"],
        )
    summary, summaries = found[1], found[2]
    message = scope.mailbox.message(summary.id)
    if marker and marker in scope.started:
        scope.latency.add("mail", arrival_wall(summary, clock) - started_wall)
    wait = MailWait(message, waited, barrier=barrier)
    order = [s.id for s in summaries]
    if (
        barrier is not None
        and barrier.mailpit_id in order
        and order.index(barrier.mailpit_id) < order.index(summary.id)
    ):
        wait.reordered = True
        wait.detail = scope.reordered(
            f"'{message.subject}' to {address} arrived after the later barrier '{barrier.subject}'"
        )
    return wait


def observe(
    scope: Scope, address: str, seen: set[str], original_marker: str | None, label: str = "Mailpit"
) -> tuple[Observation, MailWait]:
    """What ``address``'s Mail Box got next, as the source's kinds; and how the wait ended."""
    wait = await_mail(scope, address, seen, original_marker)
    message = wait.message
    if message is None:
        evidence = (
            []
            if wait.barrier is None
            else [("email", f"Barrier for {address}'s Mail Box", wait.barrier.evidence(wait.grace_s))]
        )
        return Observation("Mail Box", NOTHING, wait.detail, evidence), wait
    seen.add(message.id)
    found = classify(
        message.subject,
        message.text,
        message.html,
        message.headers,
        scope.rules,
        original_marker,
        parts=parts_of(message.raw) if message.raw else None,
        origins=scope.origins,
    )
    data = email_evidence(message, found) | {"waited_ms": round(wait.waited_s * 1000, 1)}
    detail = f"{label} message {message.id} '{message.subject}': {found.rule}"
    if found.notes:
        detail += "; " + "; ".join(found.notes)
    evidence = [("email", f"Mail Box of {address}", data)]
    derived = list(found.derived)
    missing = scope.missing_content(original_marker, message.text, message.html) if found.kind == BANNER else []
    if missing:
        derived.append("the Email with banner lacks part of the original: " + ", ".join(missing))
    original = scope.originals.get(original_marker or "")
    contract = list(found.contract)
    if original is not None and message.raw and found.kind in (BANNER, PARTIAL_BANNER):
        derived += banner_problems(original, message.raw, scope.rules.banner_text, contract)
    if wait.reordered and wait.barrier is not None:
        detail += "; " + wait.detail
        evidence.append(("email", "Target reorders deliveries", wait.barrier.evidence()))
    return Observation(
        "Mail Box",
        found.kind,
        detail,
        evidence,
        found.portal_links,
        message.id,
        contract,
        derived,
        message.raw or b"",
    ), wait


def prove_nothing(scope: Scope, address: str, seen: set[str], since: float | None = None) -> MailWait:
    """A barrier to ``address`` — one already sent after ``since`` (the scenario's last action), else a
    new one — and every other new message that arrives before absence is proven (the steps "receives
    nothing but a later message" / "no read receipt"). What could have been sent happened before the
    barrier was sent, so the latency bound counts from the barrier's sending."""
    upper = scope.timeout_s
    clock = scope.clock
    wait_start = clock.monotonic()
    barrier = scope.barrier_after(address, since) if since is not None else None
    barrier = barrier or scope.send_barrier(address)
    if barrier is None or barrier.refused:
        why = "the target lacks smtp-submission" if barrier is None else f"it refused: {barrier.refused}"
        return MailWait(None, 0.0, f"cannot send an ordinary barrier message to {address}: {why}", barrier)
    progress = scope.progress_of(f"the barrier message to {address}", upper)
    state: dict[str, Any] = {"proven_at": None}
    before: list[MessageSummary] = []
    after: list[MessageSummary] = []

    def step(summaries: list[MessageSummary]) -> Any:
        progress.tick()
        scope.note_barriers(address, summaries)
        order = [s.id for s in summaries]  # the mailbox's order of arrival, oldest first
        barrier_at = order.index(barrier.mailpit_id) if barrier.mailpit_id in order else None
        for position, summary in enumerate(summaries):
            if summary.id in seen or is_barrier(summary.subject):
                continue
            seen.add(summary.id)
            (after if barrier_at is not None and position > barrier_at else before).append(summary)
        if barrier.mail_at is not None:
            if state["proven_at"] is None:
                state["proven_at"], state["grace"] = scope.proven_at("mail", barrier.sent_at, barrier.mail_at)
            if clock.monotonic() >= state["proven_at"]:
                return True
        return None

    try:
        done = scope.mailbox.watch(address, step, upper, tick_s=0.05)
    finally:
        progress.done()
    waited = clock.monotonic() - wait_start
    wait = MailWait(
        None,
        waited,
        barrier=barrier,
        grace_s=state.get("grace"),
        before_barrier=[scope.mailbox.message(s.id) for s in before],
        after_barrier=[scope.mailbox.message(s.id) for s in after],
    )
    if done is None and barrier.mail_at is None:
        wait.timed_out = True
        wait.detail = f"the ordinary barrier message did not reach {address} within {upper:.0f}s"
    elif after and scope.by_order():
        wait.reordered = True
        wait.detail = scope.reordered(
            f"{len(after)} message(s) to {address} arrived after the later barrier '{barrier.subject}'"
        )
    return wait
