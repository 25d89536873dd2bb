"""The MPP column: the next item in an internal recipient's Mimecast Personal Portal view.

Owns ``observe``: the oldest new item, classified by the same rules as mail (its declared ``kind`` is
a note, never a substitute for what it shows), or proof that none is coming — a barrier that arrived
(in the MPP view when the target lists ordinary mail there, else in the Mail Box) and the latency
bound since the message was accepted (harness/observation/scope.py) — or the deadline. External
recipients have no MPP. The view is polled with a growing interval (0.05 s to 0.5 s): many scenarios
may poll at once, and an item usually appears when the message is accepted.
"""

from __future__ import annotations

import json
from typing import Any

from harness.errors import DeliveryTimeout
from harness.observation.recognition import BANNER, NOTHING, classify, item_parts
from harness.observation.scope import Scope
from harness.observation.values import NO_MPP, Observation
from harness.observation.waiting import FIRST_BARRIER_S, UNREQUIRED_MPP_S, Barrier, is_barrier

POLL_FIRST_S, POLL_MAX_S = 0.05, 0.5


def observe(
    scope: Scope, address: str, internal: bool, seen: set[str], original_marker: str | None, required: bool
) -> Observation:
    if not internal:
        return Observation("MPP", NO_MPP, "external recipients have no MPP account")
    upper = scope.timeout_s if required else min(UNREQUIRED_MPP_S, scope.timeout_s)
    progress = scope.progress_of(f"an MPP item for {address}", upper)
    try:
        return _wait(scope, address, seen, original_marker, upper, progress, required)
    finally:
        progress.done()


def _wait(
    scope: Scope,
    address: str,
    seen: set[str],
    original_marker: str | None,
    upper: float,
    progress: Any,
    required: bool,
) -> Observation:
    clock = scope.clock
    started, _ = scope.start(original_marker)
    deadline = clock.monotonic() + upper
    barrier = scope.barrier_after(address, started)
    proven_at: float | None = None
    bound = 0.0
    polls = 0
    interval = POLL_FIRST_S
    while True:
        progress.tick()
        items = scope.driver.mpp_view(address)
        polls += 1
        now = clock.monotonic()
        _note_mpp_barriers(scope, address, items, seen, now)
        fresh = [item for item in items if str(item.get("id")) not in seen]
        if fresh:
            item = min(fresh, key=lambda i: i.get("received_at", ""))  # the oldest unseen item
            seen.add(str(item.get("id")))
            if original_marker and (polls > 1 or now - started < FIRST_BARRIER_S):
                scope.latency.add("mpp", now - started)
            return _item(scope, address, item, original_marker, barrier, now)
        if barrier is None:  # at once: the message's Mail Box copy is usually there already
            barrier = scope.barriers_together(address, original_marker, started)
        if barrier is not None and barrier.mpp_at is None and barrier.mail_at is None:
            scope.note_barriers(address, scope.mailbox.messages_to(address))
        if barrier is not None and proven_at is None:
            # through the MPP itself when the target lists ordinary mail there; else its Mail Box copy
            arrived = barrier.mpp_at if barrier.mpp_at is not None else barrier.mail_at
            if arrived is not None:
                proven_at, bound = scope.proven_at("mpp", started, arrived)
        if proven_at is not None and now >= proven_at and barrier is not None:
            via = "in the MPP view" if barrier.mpp_at is not None else "in the Mail Box"
            return Observation(
                "MPP",
                NOTHING,
                (
                    f"no new item in {address}'s MPP view: the ordinary barrier message '{barrier.subject}' sent "
                    f"after it arrived {via}, and nothing came within {bound:.2f}s of acceptance"
                ),
                [("mpp", f"Barrier for {address}'s MPP", barrier.evidence(bound))],
            )
        if now >= deadline:
            detail = (
                f"no new item in {address}'s MPP view within {upper:.0f}s (saw {len(items)} item(s) already observed)"
            )
            if required:  # absence not proven either: nothing can be said about this cell
                raise DeliveryTimeout(
                    f"No MPP item for {address} within the profile's delivery_timeout_s ({upper:g}s)",
                    detail + ", and the ordinary barrier message did not show",
                )
            return Observation("MPP", NOTHING, detail + " (the cell is only observed)")
        until = deadline if proven_at is None else min(deadline, proven_at)
        clock.sleep(min(interval, max(0.0, until - now)))  # polling the MPP view with a deadline
        interval = min(interval * 2, POLL_MAX_S)


def _note_mpp_barriers(scope: Scope, address: str, items: list[dict[str, Any]], seen: set[str], now: float) -> None:
    for item in items:
        if is_barrier(item.get("subject")):
            seen.add(str(item.get("id")))
            for mine in scope.barriers.get(address.lower(), []):
                if mine.subject == item.get("subject") and mine.mpp_at is None:
                    mine.mpp_at, mine.mpp_item = now, str(item.get("id"))


def _item(
    scope: Scope, address: str, item: dict[str, Any], original_marker: str | None, barrier: Barrier | None, now: float
) -> Observation:
    found = classify(
        item.get("subject", ""),
        item.get("text", ""),
        item.get("html", ""),
        item.get("headers", {}),
        scope.rules,
        original_marker,
        parts=item_parts(item),
        origins=scope.origins,
        declared=str(item.get("kind") or ""),
    )
    links = sorted(set(found.portal_links) | ({item["portal_url"]} if item.get("portal_url") else set()))
    data = {
        "item": {k: item.get(k) for k in ("id", "kind", "from", "subject", "received_at", "portal_url")},
        "classification": found.kind,
        "rule": found.rule,
        "excerpt": found.excerpt,
    }
    detail = f"MPP item '{item.get('subject')}': {found.rule}"
    evidence = [("mpp", f"MPP view of {address}", data)]
    if barrier is not None and barrier.mpp_at is not None and barrier.mpp_at < now:
        detail += "; " + scope.reordered(
            f"an MPP item for {address} appeared after the later barrier '{barrier.subject}'"
        )
        evidence.append(("mpp", "Target reorders deliveries", barrier.evidence()))
    derived = list(found.derived)
    missing = scope.missing_content(original_marker, item.get("text"), item.get("html")) if found.kind == BANNER else []
    if missing:
        derived.append("the MPP's Email with banner lacks part of the original: " + ", ".join(missing))
    raw = json.dumps(item, default=str, ensure_ascii=False).encode("utf-8")
    return Observation("MPP", found.kind, detail, evidence, links, str(item.get("id")), found.contract, derived, raw)
