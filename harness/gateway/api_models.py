"""Pydantic models of the HTTP API: request bodies (validated, 422 on failure)
and response shapes (used for the served OpenAPI document only; handlers
return plain dicts). Owns the input rules: valid mailboxes, at least one
recipient, safe extra headers, text that is valid Unicode.
"""

from __future__ import annotations

import math
import re
import unicodedata
from email import policy as email_policy
from email.message import EmailMessage
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .policy import BadAddress, carried_address

_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII except ':'
RESERVED_HEADERS = {
    "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "sender",
    "in-reply-to", "references", "content-type", "content-transfer-encoding", "content-disposition",
}


def _unicode(value: str | None, what: str) -> str | None:
    """Text that can be written out as UTF-8 (JSON lets lone surrogates like \\udcff through)."""
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{what} is not valid Unicode text (it holds a lone surrogate)") from None
    return value


def _mailboxes(values: list[str]) -> list[str]:
    out = []
    for v in values:
        try:
            out.append(carried_address(v))
        except BadAddress as exc:
            raise ValueError(str(exc)) from None
    return out


def _bad_char(value: str) -> str | None:
    """The first control, line or paragraph separator character of `value` (tab allowed), as U+XXXX."""
    for c in value:
        if c != "\t" and (unicodedata.category(c) in ("Cc", "Zl", "Zp")):
            return f"U+{ord(c):04X}"
    return None


class Error(BaseModel):
    error: str
    message: str


class MppSend(BaseModel):
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    subject: str
    text: str
    html: Optional[str] = None
    definition: str = Field(description="All or External (case-insensitive)")
    headers: dict[str, str] = Field(default_factory=dict, description="extra header fields")

    @field_validator("to", "cc")
    @classmethod
    def _valid(cls, v: list[str]) -> list[str]:
        return _mailboxes(v)

    @field_validator("subject", "text", "html")
    @classmethod
    def _text(cls, v: str | None, info) -> str | None:
        return _unicode(v, info.field_name)

    @field_validator("headers")
    @classmethod
    def _headers(cls, v: dict[str, str]) -> dict[str, str]:
        for name, value in v.items():
            _unicode(value, f"header {name!r}")
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a header field name")
            if name.lower() in RESERVED_HEADERS or name.lower().startswith("content-"):
                raise ValueError(f"header {name!r} is set by the gateway")
            bad = _bad_char(value)
            if bad:
                raise ValueError(f"header {name!r}: the value holds a control or line/paragraph separator "
                                 f"character ({bad})")
            try:  # whatever else the email package cannot write is refused here, naming the field
                trial = EmailMessage(policy=email_policy.default)
                trial[name] = value
                trial.as_bytes(policy=email_policy.SMTP)
            except Exception as exc:  # noqa: BLE001 - the email package raises many types
                raise ValueError(f"header {name!r}: the value cannot be written ({type(exc).__name__})") from None
        return v

    @model_validator(mode="after")
    def _some_recipient(self):
        if not self.to and not self.cc:
            raise ValueError("no recipients: give at least one address in to or cc")
        return self


class Reply(BaseModel):
    text: str
    html: Optional[str] = None

    @field_validator("text", "html")
    @classmethod
    def _text(cls, v: str | None, info) -> str | None:
        return _unicode(v, info.field_name)


class MppSessionCreate(BaseModel):
    address: str


class ClockAdvance(BaseModel):
    advance_days: float = Field(ge=0)

    @field_validator("advance_days")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("advance_days must be finite")
        return v


class Attribute(BaseModel):
    name: str
    value: str


class AttributesPatch(BaseModel):
    attributes: list[Attribute]


class Definition(BaseModel):
    name: str
    description: str
    attributes: list[Attribute]


class Definitions(BaseModel):
    definitions: list[Definition]


class Id(BaseModel):
    id: str


class Permissions(BaseModel):
    print: bool
    reply: bool
    reply_all: bool


class PortalMessage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    id: str
    from_: str = Field(alias="from")
    to: list[str]
    cc: list[str]
    subject: str
    text: str
    html: Optional[str]
    sent_at: str
    definition: str
    application: str
    recipient: str
    permissions: Permissions
    expires_at: Optional[str]
    expiry: str


class InboxItem(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    token: str
    subject: str
    from_: str = Field(alias="from")
    sent_at: str


class Inbox(BaseModel):
    recipient: str
    items: list[InboxItem]


class MppItem(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    id: str
    kind: Literal["notification", "email_with_banner", "plain"]
    from_: str = Field(alias="from")
    subject: str
    text: str
    html: Optional[str]
    headers: dict[str, str]
    received_at: str
    portal_url: Optional[str]


class MppItems(BaseModel):
    items: list[MppItem]


class PortalListItem(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    id: str
    subject: str
    from_: str = Field(alias="from")
    sent_at: str
    definition: Optional[str]
    application: str


class PortalList(BaseModel):
    items: list[PortalListItem]


class MppSession(BaseModel):
    session: str
    address: str


class ClockState(BaseModel):
    now: str
    controllable: Optional[bool] = None


class QueueHealth(BaseModel):
    pending: int = Field(description="outbound deliveries not yet delivered or bounced")
    oldest_pending_age_s: int = Field(description="age in seconds of the oldest pending delivery (0: none)")
    bounced: int = Field(description="deliveries that failed for good and were bounced to their sender")


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when the oldest pending delivery is older than "
                                    "health_max_pending_age_s")
    name: str
    version: str
    queue: Optional[QueueHealth] = None
