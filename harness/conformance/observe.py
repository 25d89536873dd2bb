"""Observing what one recipient got, in the source's three columns.

* **Mail Box**: the next message Mailpit holds for the address, classified
  (harness/spec/classify.py);
* **MPP**: the next item in the recipient's MPP view, classified by the same
  rules (external recipients have no MPP);
* **Message in SM Portal**: "Yes" when a portal link the recipient was given
  (in the mail or the MPP item) opens the very message; "No" otherwise, checked
  against the target's SM Portal index where it has one.

Waiting is on Mailpit (event stream or polling with a deadline, see
harness/mailbox/mailpit.py) and on the MPP view (polling with a deadline); a timeout is
an observation ("nothing arrived"), not an exception. Used by the steps and by
``smlite simulate``; both read the target only through a driver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from harness.spec.classify import NOTHING, Classification, Rules, classify, parts_of
from harness.drivers.base import Driver
from harness.errors import ForeignLink
from harness.target.origins import declared_origins, require_target_origin
from harness.mailbox.mailpit import MailpitClient, WaitTimeout

NO_MPP = "none (external users have no MPP)"


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


class Observer:
    def __init__(self, driver: Driver, mailpit: MailpitClient, rules: Rules, timeout_s: float = 15.0,
                 control: Callable[[], Any] | None = None):
        self.driver, self.mailpit, self.rules, self.timeout_s = driver, mailpit, rules, timeout_s
        self.control = control  # proves the mail sandbox itself works when a wait runs out
        self.origins = list(declared_origins(driver.profile))  # where a link into the SM Portal may point

    # -- Mail Box ------------------------------------------------------------
    def next_mail(self, address: str, seen: set[str], timeout_s: float | None = None) -> Any | None:
        """The first message to ``address`` not in ``seen``, or None at the deadline."""
        try:
            summaries = self.mailpit.wait_for_messages(
                address, count=len(seen) + 1, deadline_s=timeout_s or self.timeout_s)
        except WaitTimeout:
            return None
        fresh = [s for s in summaries if s.id not in seen]
        return self.mailpit.message(fresh[0].id) if fresh else None

    def mailbox(self, address: str, seen: set[str], original_marker: str | None) -> Observation:
        started = time.perf_counter()
        message = self.next_mail(address, seen)
        if message is None:
            if self.control is not None:
                self.control()  # HarnessError when the sandbox, not the target, lost the mail
            return Observation("Mail Box", NOTHING,
                               f"no new message reached {address} within {self.timeout_s:.0f}s")
        seen.add(message.id)
        found = classify(message.subject, message.text, message.html, message.headers, self.rules, original_marker,
                         parts=parts_of(message.raw) if message.raw else None, origins=self.origins)
        data = _email_evidence(message, found) | {"waited_ms": round((time.perf_counter() - started) * 1000, 1)}
        detail = f"{getattr(self.mailpit, 'label', 'Mailpit')} message {message.id} '{message.subject}': {found.rule}"
        if found.notes:
            detail += "; " + "; ".join(found.notes)
        return Observation("Mail Box", found.kind, detail, [("email", f"Mail Box of {address}", data)],
                           found.portal_links, message.id, found.contract, found.derived)

    # -- MPP -------------------------------------------------------------------
    def mpp(self, address: str, internal: bool, seen: set[str], original_marker: str | None,
            required: bool) -> Observation:
        if not internal:
            return Observation("MPP", NO_MPP, "external recipients have no MPP account")
        deadline = time.monotonic() + (self.timeout_s if required else min(2.0, self.timeout_s))
        interval = 0.02
        while True:
            items = self.driver.mpp_view(address)
            fresh = [item for item in items if str(item.get("id")) not in seen]
            if fresh:
                item = min(fresh, key=lambda i: i.get("received_at", ""))  # the oldest unseen item
                seen.add(str(item.get("id")))
                found = classify(item.get("subject", ""), item.get("text", ""), item.get("html", ""),
                                 item.get("headers", {}), self.rules, original_marker, origins=self.origins,
                                 declared=str(item.get("kind") or ""))
                links = sorted(set(found.portal_links) | ({item["portal_url"]} if item.get("portal_url") else set()))
                data = {"item": {k: item.get(k) for k in ("id", "kind", "from", "subject", "received_at",
                                                          "portal_url")},
                        "classification": found.kind, "rule": found.rule, "excerpt": found.excerpt}
                return Observation("MPP", found.kind, f"MPP item '{item.get('subject')}': {found.rule}",
                                   [("mpp", f"MPP view of {address}", data)], links, str(item.get("id")),
                                   found.contract)
            if time.monotonic() >= deadline:
                return Observation("MPP", NOTHING, f"no new item in {address}'s MPP view "
                                   f"(saw {len(items)} item(s) already observed)")
            time.sleep(interval)  # polling the MPP view with a deadline
            interval = min(interval * 2, 0.25)

    # -- SM Portal ---------------------------------------------------------------
    def sm_portal(self, address: str, links: list[str], original_subject: str,
                  original_marker: str | None) -> Observation:
        evidence: list[tuple[str, str, dict[str, Any]]] = []
        tried: list[str] = []
        opened = self._open_first(address, links, original_marker, evidence, tried)
        if opened:
            return Observation("Message in SM Portal", "Yes", f"the portal link in {address}'s mail opens the message",
                               evidence, [opened])
        if "sm-portal-sign-in" in self.driver.capabilities:
            signed_in = [link for link in self.driver.portal_links_as(address) if link not in links]
            opened = self._open_first(address, signed_in, original_marker, evidence, tried)
            if opened:
                return Observation("Message in SM Portal", "Yes",
                                   f"{address} signed in to the SM Portal and opened the message", evidence, [opened])
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
                    evidence: list[tuple[str, str, dict[str, Any]]], tried: list[str]) -> str | None:
        """The first of ``links`` that opens ``address``'s own copy of the message, or None."""
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
                evidence.append(("http", f"SM Portal message of {address}",
                                 {"status": 200, "subject": body.get("subject"), "permissions": body.get(
                                     "permissions"), "expires_at": body.get("expires_at")}))
                return link
        return None
