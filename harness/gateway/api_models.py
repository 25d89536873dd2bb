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
from typing import Any, Literal

from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .policy import BadAddress, carried_address

_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII except ':'
RESERVED_HEADERS = {
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "sender",
    "in-reply-to",
    "references",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
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
    html: str | None = None
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
                raise ValueError(
                    f"header {name!r}: the value holds a control or line/paragraph separator character ({bad})"
                )
            try:  # whatever else the email package cannot write is refused here, naming the field
                trial = EmailMessage(policy=email_policy.default)
                trial[name] = value
                trial.as_bytes(policy=email_policy.SMTP)
            except Exception as exc:
                raise ValueError(f"header {name!r}: the value cannot be written ({type(exc).__name__})") from None
        return v

    @model_validator(mode="after")
    def _some_recipient(self):
        if not self.to and not self.cc:
            raise ValueError("no recipients: give at least one address in to or cc")
        return self


class Reply(BaseModel):
    text: str
    html: str | None = None

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


class BodyPart(BaseModel):
    """One body part of a message, in the message's order (docs/contract.md, "The whole message")."""

    path: str = Field(
        description="IMAP section number (RFC 3501 6.4.5): '1' for a single-part message, '2.1' for the first "
        "part of the second part; the body of an enclosed message is numbered under the message/rfc822 part"
    )
    content_type: str = Field(description="e.g. text/plain, image/png, message/rfc822, message/delivery-status")
    name: str | None = Field(None, description="its file name, if it has one")
    text: str | None = Field(
        description="the decoded text of a text/* part (and of message/delivery-status, "
        "message/disposition-notification), line breaks as LF; null for other parts"
    )
    alternative_of: str | None = Field(
        description="path of the multipart/alternative holding it ('' when that is the message's own body); "
        "null when it is no alternative"
    )
    enclosed_in: str | None = Field(description="path of the message/rfc822 part it is enclosed in, or null")
    headers: dict[str, str] | None = Field(None, description="for a message/rfc822 part: the enclosed message's header")


class AttachmentInfo(BaseModel):
    """An attachment (Content-Disposition attachment, or a file name), wherever it is in the message."""

    path: str = Field(description="its path in parts")
    name: str | None
    content_type: str
    size: int = Field(description="bytes, after the transfer encoding is undone")
    sha256: str = Field(description="SHA-256 (hex) of those bytes")
    url: str | None = Field(description="GET it for those bytes (same access rules as the message)")


class PortalMessage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    id: str
    from_: str = Field(alias="from")
    to: list[str]
    cc: list[str]
    subject: str
    text: str
    html: str | None
    sent_at: str
    definition: str
    application: str
    recipient: str
    permissions: Permissions
    expires_at: str | None
    expiry: str
    parts: list[BodyPart] | None = Field(
        None, description="optional: every body part (capability sm-portal-whole-message)"
    )
    attachments: list[AttachmentInfo] | None = Field(None, description="optional: every attachment, with downloads")
    raw_url: str | None = Field(None, description="optional: GET it for the message as delivered to the SM Portal")


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
    html: str | None
    headers: dict[str, str]
    received_at: str
    portal_url: str | None
    parts: list[BodyPart] | None = Field(None, description="optional, an email with banner: every body part")
    attachments: list[AttachmentInfo] | None = Field(None, description="optional, an email with banner: attachments")


class MppItems(BaseModel):
    items: list[MppItem]


class PortalListItem(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    id: str
    subject: str
    from_: str = Field(alias="from")
    sent_at: str
    definition: str | None
    application: str


class PortalList(BaseModel):
    items: list[PortalListItem]


class MppSession(BaseModel):
    session: str
    address: str


class ClockState(BaseModel):
    now: str
    controllable: bool | None = None


class QueueHealth(BaseModel):
    pending: int = Field(description="outbound deliveries not yet delivered or bounced")
    oldest_pending_age_s: int = Field(description="age in seconds of the oldest pending delivery (0: none)")
    bounced: int = Field(description="deliveries that failed for good and were bounced to their sender")


class Health(BaseModel):
    status: str = Field(
        description="ok, or degraded when the oldest pending delivery is older than health_max_pending_age_s"
    )
    name: str
    version: str
    queue: QueueHealth | None = None


def install_openapi(app: Any) -> None:
    """The app's OpenAPI document is FastAPI's, with the 422 body the app really sends."""

    def openapi() -> dict:
        """FastAPI's document, with the 422 body this app really sends."""
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = {
                    "title": "HTTPValidationError",
                    "type": "object",
                    "required": ["error", "message", "detail"],
                    "properties": {
                        "error": {"type": "string", "enum": ["invalid_request"]},
                        "message": {"type": "string"},
                        "detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
                    },
                }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # FastAPI's documented way to customise the schema
