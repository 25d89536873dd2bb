"""How a target's delivered mail is recognised: the profile's ``[classification]`` table.

Owns ``Rules``: the banner text (what the source calls the banner), and the recognition signals a
target may choose where the source is silent — the notification subject pattern, the private-marker
header, the portal-link pattern, how far from the top the banner may start. The reference gateway's
choices are the defaults. harness/observation/recognition.py applies them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rules:
    banner_text: str = "This message was sent securely using Secure Messaging."
    notification_subject: str = r"^Secure message from "  # "" = no subject signal
    portal_link: str = r"https?://[^\s\"'<>]+/sm-portal/m/[A-Za-z0-9_-]{22,}"  # "" = any link to the target
    private_marker: str = "Sensitivity: Private"  # "" = no marker signal
    banner_window: int = 400  # how far from the top the banner may start (characters)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Rules:
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
        if rules.private_marker and ":" not in rules.private_marker:
            raise ValueError("classification.private_marker must read 'Header: value'")
        if not rules.banner_text.strip():
            raise ValueError("classification.banner_text cannot be empty: it is how a banner is recognised")
        return rules
