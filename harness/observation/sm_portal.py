"""The "Message in SM Portal" column: can the recipient open their own copy of the message there?

Owns ``observe``: "Yes" when a portal link the recipient was given (in the mail or the MPP item), or
one they reach by signing in (capability sm-portal-sign-in), opens the very message for them; "No"
otherwise, checked against the target's SM Portal index where it has one. A link outside the target's
declared origins is never requested. The copy that opens must keep the whole message (derived).
"""

from __future__ import annotations

import json
from typing import Any

from harness.errors import ForeignLink
from harness.observation.scope import Scope
from harness.observation.values import Observation
from harness.observation.wholeness import portal_problems
from harness.profile.origins import require_target_origin

COLUMN = "Message in SM Portal"


def observe(
    scope: Scope, address: str, links: list[str], original_subject: str, original_marker: str | None
) -> Observation:
    evidence: list[tuple[str, str, dict[str, Any]]] = []
    tried: list[str] = []
    capabilities = scope.driver.capabilities
    opened, missing, raw = _open_first(scope, address, links, original_marker, evidence, tried)
    if opened:
        return Observation(
            COLUMN,
            "Yes",
            f"the portal link in {address}'s mail opens the message",
            evidence,
            [opened],
            derived=missing,
            raw=raw,
        )
    if "sm-portal-sign-in" in capabilities:
        signed_in = [link for link in scope.driver.portal_links_as(address) if link not in links]
        opened, missing, raw = _open_first(scope, address, signed_in, original_marker, evidence, tried)
        if opened:
            return Observation(
                COLUMN,
                "Yes",
                f"{address} signed in to the SM Portal and opened the message",
                evidence,
                [opened],
                derived=missing,
                raw=raw,
            )
    listed = None
    if "sm-portal-index" in capabilities:
        items = scope.driver.portal_index(address)
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
    return Observation(COLUMN, "No", detail, evidence)


def _open_first(
    scope: Scope,
    address: str,
    links: list[str],
    original_marker: str | None,
    evidence: list[tuple[str, str, dict[str, Any]]],
    tried: list[str],
) -> tuple[str | None, list[str], bytes]:
    """The first of ``links`` that opens ``address``'s own copy of the message (or None), the derived
    failures of that copy (parts of the original it lacks), and the SM Portal's answer as JSON."""
    for link in links:
        try:
            # A link outside the target is never requested. A profile that declares no origin at all
            # (a driver of its own without [target] http, written before portal_origins) leaves that
            # to its driver, as before.
            if scope.origins:
                require_target_origin(scope.driver.profile, link)
        except ForeignLink as exc:
            tried.append(str(exc))
            continue
        answer = scope.driver.portal_open(link)
        body = answer.body if isinstance(answer.body, dict) else {}
        content = portal_text(body)
        tried.append(f"{link.rsplit('/', 1)[-1][:6]}… → {answer.status}")
        opened_for = str(body.get("recipient") or "")
        if answer.status == 200 and opened_for and opened_for.lower() != address.lower():
            tried[-1] += f" (another recipient's copy: {opened_for})"
            evidence.append(
                (
                    "http",
                    f"SM Portal message behind {address}'s link",
                    {"status": 200, "recipient": opened_for, "subject": body.get("subject")},
                )
            )
            continue
        if answer.status == 200 and (not original_marker or original_marker in content):
            missing = scope.missing_content(original_marker, body.get("text"), body.get("html"))
            original = scope.originals.get(original_marker or "")
            if original is not None and "sm-portal-whole-message" in scope.driver.capabilities:
                missing += portal_problems(original, body, scope.driver.portal_fetch)
            evidence.append(
                (
                    "http",
                    f"SM Portal message of {address}",
                    {
                        "status": 200,
                        "subject": body.get("subject"),
                        "permissions": body.get("permissions"),
                        "expires_at": body.get("expires_at"),
                        "missing": missing or None,
                    },
                )
            )
            return (
                link,
                [f"the SM Portal's message lacks part of the original: {'; '.join(missing)}"] if missing else [],
                json.dumps(body, default=str, ensure_ascii=False).encode("utf-8"),
            )
    return None, [], b""


def portal_text(body: dict[str, Any]) -> str:
    """Everything an SM Portal answer shows as text: its text, its HTML and the text of its parts."""
    parts = body.get("parts")
    own = [str(p.get("text") or "") for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []
    return "\n".join([str(body.get("text") or ""), str(body.get("html") or ""), *own])
