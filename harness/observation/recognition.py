"""Classification of what a recipient got: Notification, Email with banner, plain, nothing.

What the source's words decide, and nothing more:

* **Notification** — "a notification that the message is ready in the SM Portal": a
  pointer to the SM Portal (a link) and none of the original content, in any part
  (text, HTML, attachments).
* **Email with banner** — the email itself, with the banner: the original content
  kept, and the banner opening every text/plain and text/html body part a reader sees
  first (each alternative; not later parts, enclosed messages or attachments).

Everything else a target may choose is a *recognition signal* the profile can set
(the reference gateway's are the defaults): the notification subject pattern, the
private-marker header, the portal-link pattern. Their absence is reported as a
``contract`` difference, never as a different kind. Checks that follow from the
source but are not the kind itself (a secure copy that still asks for a read receipt,
while Send Read Receipt = No) are reported as ``derived`` failures.

Every classification keeps the rule that matched, as evidence for the report.
"""

from __future__ import annotations

import email
import email.policy
import html as html_lib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.observation.wholeness import is_attachment, shown_first
from harness.profile.origins import origin_of
from harness.profile.rules import Rules

NOTIFICATION, BANNER, PLAIN, NOTHING, AMBIGUOUS = (
    "Notification",
    "Email with banner",
    "plain email",
    "nothing",
    "ambiguous",
)
PARTIAL_BANNER = "Email with banner in some parts only"
RECEIPT_HEADERS = ("Disposition-Notification-To", "Return-Receipt-To")
_URL = re.compile(r"https?://[^\s\"'<>]+")


@dataclass(frozen=True)
class Part:
    """One leaf of a MIME message: its type, whether it is an attachment, its decoded text."""

    content_type: str
    content: str
    attachment: bool = False
    shown: bool = True  # among the body parts a reader sees first (harness/observation/wholeness.py)

    @property
    def body(self) -> bool:
        return not self.attachment and self.content_type in ("text/plain", "text/html")


@dataclass
class Classification:
    kind: str
    rule: str
    portal_links: list[str] = field(default_factory=list)
    excerpt: str = ""
    notes: list[str] = field(default_factory=list)
    contract: list[str] = field(default_factory=list)  # recognition signals the target does not give
    derived: list[str] = field(default_factory=list)  # derived checks that failed beside the kind


def parts_of(raw: bytes) -> list[Part]:
    """Every leaf part of a raw message, decoded (binary attachments as an empty text)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    first = {id(part) for part in shown_first(message)}
    parts = []
    for leaf in message.walk():
        if leaf.is_multipart():
            continue
        content_type = leaf.get_content_type()
        try:
            content = leaf.get_content() if leaf.get_content_maintype() == "text" else ""
        except (LookupError, ValueError, AssertionError):
            payload = leaf.get_payload(decode=True)
            content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        if isinstance(content, bytes):
            content = content.decode("utf-8", "replace")
        parts.append(Part(content_type, content, is_attachment(leaf), id(leaf) in first))
    return parts


def item_parts(item: Mapping[str, Any]) -> list[Part] | None:
    """The parts of an MPP item that lists them (``parts``, docs/contract.md "the whole message"), or
    None. Shown first: the first displayed part outside enclosed messages, with its alternatives."""
    listed = item.get("parts")
    if not isinstance(listed, list) or not listed:
        return None
    entries = [p for p in listed if isinstance(p, dict)]
    own = [
        p
        for p in entries
        if p.get("enclosed_in") is None and p.get("content_type") in ("text/plain", "text/html") and not p.get("name")
    ]
    first = own[0] if own else None
    group = None if first is None else first.get("alternative_of")
    shown = [p for p in own if p is first or (group is not None and p.get("alternative_of") == group)]
    return [
        Part(
            str(p.get("content_type") or ""),
            str(p.get("text") or ""),
            bool(p.get("name")),
            any(p is s for s in shown),
        )
        for p in entries
    ]


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _html_to_text(markup: str) -> str:
    without_tags = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", markup)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", without_tags))


def _readable(part: Part) -> str:
    return _html_to_text(part.content) if part.content_type == "text/html" else part.content


def _header_values(headers: Mapping[str, Any], name: str) -> list[str]:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    return []


def has_private_marker(headers: Mapping[str, Any], rules: Rules) -> bool:
    name, _, value = rules.private_marker.partition(":")
    return any(v.strip().lower() == value.strip().lower() for v in _header_values(headers, name.strip()))


def banner_at_top(body: str, rules: Rules) -> bool:
    flat = _normalise(body)
    position = flat.find(_normalise(rules.banner_text))
    return 0 <= position <= rules.banner_window


def _links(parts: list[Part], rules: Rules, origins: Iterable[str]) -> tuple[list[str], list[str]]:
    """(links to the SM Portal, contract notes): the profile's pattern, else any link to the target."""
    texts = [html_lib.unescape(p.content) if p.content_type == "text/html" else p.content for p in parts if p.body]
    found = sorted({u.rstrip(".,;)") for t in texts for u in _URL.findall(t)})
    wanted = {origin_of(o) for o in origins} - {None}
    matching = sorted({m for t in texts for m in re.findall(rules.portal_link, t)}) if rules.portal_link else []
    to_target = [u for u in found if origin_of(u) in wanted]
    if matching:
        return matching, []
    if to_target:
        note = f"portal link does not match the profile's pattern /{rules.portal_link}/" if rules.portal_link else ""
        return to_target, [note] if note else []
    return [], []


def classify(
    subject: str,
    text: str,
    html: str,
    headers: Mapping[str, Any],
    rules: Rules,
    original_marker: str | None = None,
    *,
    parts: list[Part] | None = None,
    origins: Iterable[str] = (),
    declared: str = "",
) -> Classification:
    """Classify one delivered item (a delivered email, or an MPP view item).

    ``parts``: the message's leaves (``parts_of(raw)``); without them, ``text`` and ``html``.
    ``original_marker``: a token only the original content carries. ``origins``: where the
    target serves the SM Portal. ``declared``: the kind an MPP item says it is: a note
    beside what its content shows, never a substitute for it.
    """
    text, html = text or "", html or ""
    if parts is None:
        parts = [p for p in (Part("text/plain", text), Part("text/html", html)) if p.content.strip()]
    body = [p for p in parts if p.body and p.shown and p.content.strip()]
    links, contract = _links(parts, rules, origins)
    everything = "\n".join(p.content for p in parts) + "\n" + "\n".join(_readable(p) for p in parts)
    carries_original = bool(original_marker) and str(original_marker) in everything
    with_banner = [p for p in body if banner_at_top(_readable(p), rules)]
    banner_all = bool(body) and len(with_banner) == len(body)
    excerpt = _normalise(_readable(body[0]) if body else "")[:300]
    notes: list[str] = []
    derived = [
        f"the delivered copy still asks for a read receipt ({name})"
        for name in RECEIPT_HEADERS
        if _header_values(headers, name)
    ]

    if original_marker:
        notification = bool(links) and not carries_original
        if links and carries_original:
            notes.append("has a portal link but carries the original content")
    else:  # nothing to tell the original by: a link is all a notification shows
        notification = bool(links)
    if declared == "notification" and not carries_original and not links and original_marker:
        notes.append("the MPP item says it is a notification but gives no way into the SM Portal")
    if declared == "email_with_banner" and carries_original and not banner_all:
        # a label is not what the user sees: the MPP column says "Email with banner", so the banner must show
        notes.append("the MPP item says it is the email with banner, but the banner does not open it")

    if notification:
        if rules.notification_subject and not re.search(rules.notification_subject, subject or ""):
            contract.append(f"notification subject does not match /{rules.notification_subject}/")
        if rules.private_marker and not has_private_marker(headers, rules):
            contract.append(f"notification lacks the private marker '{rules.private_marker}'")
        if not original_marker and banner_all:
            return Classification(
                AMBIGUOUS, "both the notification and the banner rules match", links, excerpt, notes, contract, derived
            )
        return Classification(
            NOTIFICATION,
            f"notification: a link to the SM Portal, none of the original content in {len(parts)} part(s)",
            links,
            excerpt,
            notes,
            contract,
            derived,
        )
    if banner_all and (carries_original or not original_marker):
        kinds = "/".join(sorted({p.content_type for p in body}))
        return Classification(
            BANNER,
            f"banner: every body part shown first ({kinds}) opens with '{rules.banner_text}'",
            links,
            excerpt,
            notes,
            contract,
            derived,
        )
    if with_banner and carries_original:
        missing = sorted({p.content_type for p in body} - {p.content_type for p in with_banner})
        return Classification(
            PARTIAL_BANNER,
            f"the banner opens {len(with_banner)} of {len(body)} body parts shown first; "
            f"not the {', '.join(missing) or 'other'} part",
            links,
            excerpt,
            notes,
            contract,
            derived,
        )
    if banner_all and not carries_original:
        notes.append("has the banner but not the original content")
    return Classification(
        PLAIN, "neither the notification nor the banner rules match", links, excerpt, notes, contract, derived
    )
