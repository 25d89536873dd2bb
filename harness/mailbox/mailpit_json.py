"""Mailpit's JSON, read into the harness's values (harness/mailbox/types.py).

Owns ``summary`` (one item of a message listing), ``received_at`` (when Mailpit received a message, from
its own Received field) and ``searchable`` (whether a term survives Mailpit's search syntax).
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from harness.mailbox.types import Address, MessageSummary


def searchable(term: str) -> bool:
    """Whether Mailpit's search can hold `term` as one word ('"' is stripped, spaces split)."""
    return bool(term) and not re.search(r'["\\\s]', term)


def _address(item: dict[str, Any] | None) -> Address | None:
    return Address(item.get("Address") or "", item.get("Name") or "") if item else None


def _addresses(items: Sequence[dict[str, Any]] | None) -> tuple[Address, ...]:
    return tuple(Address(i.get("Address") or "", i.get("Name") or "") for i in items or ())


def received_at(headers: dict[str, list[str]]) -> datetime | None:
    """When Mailpit received the message: the date of its own (first) Received field."""
    for value in headers.get("Received", [])[:1]:
        try:
            return email.utils.parsedate_to_datetime(value.rpartition(";")[2].strip())
        except (TypeError, ValueError, IndexError):
            return None
    return None


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def summary(item: dict[str, Any]) -> MessageSummary:
    return MessageSummary(
        id=item["ID"],
        message_id=item.get("MessageID") or "",
        from_=_address(item.get("From")),
        to=_addresses(item.get("To")),
        cc=_addresses(item.get("Cc")),
        bcc=_addresses(item.get("Bcc")),
        subject=item.get("Subject") or "",
        created=_when(item.get("Created")),
        size=int(item.get("Size") or 0),
        attachment_count=int(item.get("Attachments") or 0),
    )
