"""Building the emails the gateway sends, from the original message.

Owns MIME parsing and checks (``parse``, ``malformed_reason``), the plain relay
(unchanged minus X-SM-*), header helpers, and originals built from HTTP input
(MPP sends, SM Portal replies). The email with banner is harness/gateway/banner.py's,
the notification harness/gateway/notices.py's. Everything is generated
with the email package (policy.default, serialised with policy.SMTP), through
``POLICY`` / ``SMTP_POLICY``: the same policies, except that each header class
is built once (the standard registry builds a new class with ``type()`` on
every header it parses) and each raw header value is parsed once (the standard
policy parses it again on every ``get()``): together about 60% of the
gateway's CPU per message.
"""

from __future__ import annotations

import functools
import re
import secrets
from datetime import datetime
from email import errors, policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import format_datetime, getaddresses
from typing import Any, cast

STRIP_ALWAYS = ("disposition-notification-to", "return-receipt-to")
MAX_MIME_DEPTH = 50  # real mail nests a few levels; the email package recurses per level
_CONTROLS = dict.fromkeys([*range(32), 127], " ")
_STRUCTURE_DEFECTS = {
    errors.NoBoundaryInMultipartDefect: "a multipart without a boundary parameter",
    errors.StartBoundaryNotFoundDefect: "a multipart whose boundary never occurs",
    errors.MultipartInvariantViolationDefect: "a multipart that has no parts",
    errors.InvalidMultipartContentTransferEncodingDefect: "a multipart with a content-transfer-encoding",
}


class _HeaderClasses(HeaderRegistry):
    """HeaderRegistry whose classes are built once per header name; what they parse is unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self._built: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        cls = self._built.get(key)
        if cls is None:
            cls = self._built[key] = super().__getitem__(name)
        return cls


_REGISTRY = _HeaderClasses()


@functools.lru_cache(maxsize=4096)
def _header(name: str, value: str):
    return _REGISTRY(name, value)


class _Policy(EmailPolicy):
    """EmailPolicy that parses a header field's raw value once: the email package parses it again on
    every ``get()`` (Content-Type ten times per message), and each value it sets (the same
    Content-Type, MIME-Version, Sensitivity on every notification). Header objects are immutable."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        return _header(name, "".join(_LINESEP.split(value)))

    def header_store_parse(self, name, value):
        if type(value) is str and len(value.splitlines()) <= 1:
            return (name, _header(name, value))
        return super().header_store_parse(name, value)


_LINESEP = re.compile(r"\n|\r")  # what EmailPolicy.header_fetch_parse removes
POLICY = _Policy().clone(
    **{k: getattr(policy.default, k) for k in ("linesep", "utf8", "raise_on_defect")}, header_factory=_REGISTRY
)
SMTP_POLICY = POLICY.clone(linesep="\r\n")


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, BytesParser(policy=POLICY).parsebytes(raw))


def is_sm_header(name: str) -> bool:
    return name.lower().startswith("x-sm-")


def mime_depth(msg: EmailMessage) -> int:
    """How deeply multiparts nest (a single-part message is 1), counted without recursion."""
    deepest, stack = 0, [(cast(Any, msg), 1)]
    while stack:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        if part.is_multipart():
            stack.extend((sub, depth + 1) for sub in part.get_payload())
    return deepest


def malformed_reason(msg: EmailMessage) -> str | None:
    """Why a message cannot be processed, or None if it is usable."""
    if not list(msg.keys()):
        return "no header block"
    if any(isinstance(d, errors.MissingHeaderBodySeparatorDefect) for d in msg.defects):
        return "a line in the header block is not a header field"
    if mime_depth(msg) > MAX_MIME_DEPTH:
        return f"MIME parts nested more than {MAX_MIME_DEPTH} levels deep"
    for part in msg.walk():
        for name in set(part.keys()):
            try:
                [str(v) for v in part.get_all(name, [])]
            except Exception as exc:
                return f"the {reply_text(name)} header cannot be parsed ({type(exc).__name__})"
        for defect in part.defects:
            for kind, reason in _STRUCTURE_DEFECTS.items():
                if isinstance(defect, kind):
                    return reason
            if part is not msg and isinstance(defect, errors.CloseBoundaryNotFoundDefect):
                # an enclosing multipart's delimiter line inside a part ended it early (RFC 2046 5.1.1
                # forbids it); only the message's own last boundary may be missing (a cut-off message)
                return "a part holds a boundary delimiter line of an enclosing multipart"
        if part.is_multipart() or part.get_content_maintype() != "text" or part.is_attachment():
            continue
        try:
            part.get_content()
        except (LookupError, ValueError, AssertionError) as exc:
            return f"undecodable text part ({type(exc).__name__}: {exc})"
    return None


def header_text(value) -> str:
    """A header value as one line of text (control characters count as white space)."""
    return " ".join(str(value or "").translate(_CONTROLS).split())


def reply_text(value, limit: int = 80) -> str:
    """A header value fit to quote in an SMTP reply: one line of printable ASCII, at most `limit` characters."""
    text = "".join(c if " " <= c <= "~" else "?" for c in header_text(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def addresses(msg: EmailMessage, name: str) -> list[str]:
    values = [str(v) for v in msg.get_all(name, [])]
    return [addr for _, addr in getaddresses(values) if addr]


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    return _lf(part.get_content())


def body_html(msg: EmailMessage) -> str | None:
    part = msg.get_body(preferencelist=("html",))
    return None if part is None else _lf(part.get_content())


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def headers_dict(msg: EmailMessage) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in msg.items():
        value = str(value)
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def new_message_id(domain: str) -> str:
    return f"<{secrets.token_hex(12)}@{domain}>"


def to_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=SMTP_POLICY)


# -- plain relay ---------------------------------------------------------------
def strip_raw_headers(raw: bytes, drop) -> bytes:
    """Remove header fields whose name satisfies ``drop``, leaving every other byte as it was."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    cut = min(ends) if ends else len(raw)
    head, rest = raw[:cut], raw[cut:]
    lines = head.splitlines(keepends=True)
    if lines and not lines[-1].endswith(b"\n"):
        # the separator's first line break belongs to the last header line
        nl = b"\r\n" if rest.startswith(b"\r\n") else b"\n"
        lines[-1] += nl
        rest = rest[len(nl) :]
    kept: list[bytes] = []
    dropping = False
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].decode("ascii", "replace").strip()
        dropping = drop(name)
        if not dropping:
            kept.append(line)
    return b"".join(kept) + rest


def plain(raw: bytes) -> bytes:
    """A non-secure message: relayed unchanged, minus the X-SM-* headers."""
    return strip_raw_headers(raw, is_sm_header)


# -- notification --------------------------------------------------------------
def without_banner(text: str, banner_text: str) -> str:
    """`text` with every occurrence of the banner text (any case, any white space) replaced by '[...]'."""
    words = banner_text.split()
    if not words:
        return text
    pattern = r"\s*".join(re.escape(w) for w in words)
    return re.sub(pattern, "[...]", text, flags=re.IGNORECASE)


# -- originals built from HTTP input ---------------------------------------------
def build_original(
    *,
    sender: str,
    to: list[str],
    cc: list[str],
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    now: datetime,
    in_reply_to: str | None = None,
    references: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    if to:
        msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = header_text(subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (extra_headers or {}).items():
        msg[name] = value
    msg.set_content(text, cte=None if text.isascii() else "quoted-printable")
    if html is not None:
        msg.add_alternative(html, subtype="html", cte=None if html.isascii() else "quoted-printable")
    return msg
