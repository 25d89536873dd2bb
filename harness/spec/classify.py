"""Classification of what a recipient got: Notification, Email with banner, plain, nothing.

The rules are data a target sets in its profile (banner text, notification
subject and portal-link patterns, private marker); the reference gateway's
rules are the default. Every classification keeps the rule that matched, as
evidence for the report.

A message is a *Notification* only when all three notification rules hold
(subject, portal link, private marker) and it does not carry the original
body. It is an *Email with banner* when the banner text opens its text part
(or, failing a text part, its HTML part). A message matching both is
``ambiguous``, which no expected value accepts.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

NOTIFICATION, BANNER, PLAIN, NOTHING, AMBIGUOUS = (
    "Notification", "Email with banner", "plain email", "nothing", "ambiguous")


@dataclass(frozen=True)
class Rules:
    banner_text: str = "This message was sent securely using Secure Messaging."
    notification_subject: str = r"^Secure message from "
    portal_link: str = r"https?://[^\s\"'<>]+/sm-portal/m/[A-Za-z0-9_-]{22,}"
    private_marker: str = "Sensitivity: Private"
    banner_window: int = 400  # how far from the top the banner may start (characters)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> "Rules":
        data = dict(data or {})
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown classification keys: {', '.join(sorted(unknown))}")
        rules = cls(**data)
        for key in ("notification_subject", "portal_link"):
            try:
                re.compile(getattr(rules, key))
            except re.error as exc:
                raise ValueError(f"classification.{key} is not a valid regular expression: {exc}") from None
        if ":" not in rules.private_marker:
            raise ValueError("classification.private_marker must read 'Header: value'")
        return rules


@dataclass
class Classification:
    kind: str
    rule: str
    portal_links: list[str] = field(default_factory=list)
    excerpt: str = ""
    notes: list[str] = field(default_factory=list)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _html_to_text(markup: str) -> str:
    without_tags = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", markup)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", without_tags))


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


def classify(subject: str, text: str, html: str, headers: Mapping[str, Any], rules: Rules,
             original_marker: str | None = None) -> Classification:
    """Classify one delivered item (a Mailpit message or an MPP view item)."""
    text, html = text or "", html or ""
    links = sorted(set(re.findall(rules.portal_link, text + "\n" + html)))
    subject_ok = re.search(rules.notification_subject, subject or "") is not None
    private = has_private_marker(headers, rules)
    body_for_banner = text if text.strip() else _html_to_text(html)
    banner = banner_at_top(body_for_banner, rules)
    carries_original = bool(original_marker) and original_marker in (text + html)
    notes: list[str] = []
    notification = subject_ok and bool(links) and private and not carries_original
    if subject_ok and links and not private:
        notes.append(f"looks like a notification but lacks the private marker '{rules.private_marker}'")
    if subject_ok and links and carries_original:
        notes.append("looks like a notification but carries the original message body")
    excerpt = _normalise(body_for_banner)[:300]
    if notification and banner:
        return Classification(AMBIGUOUS, "both the notification and the banner rules match", links, excerpt, notes)
    if notification:
        rule = (f"notification: subject matches /{rules.notification_subject}/, portal link "
                f"/{rules.portal_link}/ present, header '{rules.private_marker}', original body absent")
        return Classification(NOTIFICATION, rule, links, excerpt, notes)
    if banner:
        part = "text/plain" if text.strip() else "text/html"
        return Classification(BANNER, f"banner: {part} opens with '{rules.banner_text}'", links, excerpt, notes)
    return Classification(PLAIN, "neither the notification nor the banner rules match", links, excerpt, notes)
