"""What an observation of one column found: the value every view returns.

Owns ``Observation`` (the column, the value seen — a kind of harness/observation/recognition.py, or
Yes/No for the SM Portal — with its detail, evidence, the portal links it gave, the recognition
signals the target does not give (``contract``), the derived checks that failed beside the
value (``derived``) and what was classified as delivered (``raw``), kept for judging it again) and ``email_evidence`` (a delivered email as evidence).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.observation.recognition import Classification

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
    raw: bytes = b""  # what was classified, as delivered: the message (Mail Box) or the item's JSON (MPP)


def email_evidence(message: Any, classification: Classification) -> dict[str, Any]:
    """A delivered email as the report shows it: addresses, subject, the rule that classified it, its text."""
    headers = {
        k: v
        for k, v in (message.headers or {}).items()
        if k.lower()
        in (
            "sensitivity",
            "message-id",
            "in-reply-to",
            "references",
            "date",
            "disposition-notification-to",
            "content-type",
        )
    }
    return {
        "mailpit_id": message.id,
        "from": message.sender,
        "to": ", ".join(message.to),
        "subject": message.subject,
        "date": message.date,
        "classification": classification.kind,
        "rule": classification.rule,
        "excerpt": classification.excerpt,
        "notes": classification.notes,
        "text": (message.text or "")[:8000],
        "html": (message.html or "")[:20000],
        "headers": headers,
        "portal_links": classification.portal_links,
    }
