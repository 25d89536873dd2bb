"""The email with banner: the original message, one banner on top of what the recipient sees first.

Owns ``with_banner`` and the rules of docs/contract.md ("Email with banner"): the banner goes at
the top of the message's first displayed body — into every text/plain and text/html part of it,
each alternative of a multipart/alternative included (``displayed``); a message with no such part
gets a text/plain banner part at the top (the message wrapped as multipart/mixed, the banner part
first). Never touched: machine-readable parts (message/delivery-status,
message/disposition-notification, text/rfc822-headers: the parts of a multipart/report after the
first), signed content (multipart/signed: the banner goes outside it), enclosed messages
(message/rfc822, digest members) and attachments (Content-Disposition attachment, or a filename).

The message is edited in place, byte ranges from ``mime_layout``: only the header block of the
message (``X-SM-*``, ``Disposition-Notification-To`` and ``Return-Receipt-To`` removed) and the
bannered text parts are written anew; every other byte is the original's. A text part keeps its
header fields, its charset when the banner fits in it, and its Content-Type parameters. The result
is parsed again and must have the original's structure, or ``ValueError`` (the caller refuses the
message, never sends a mangled one). Broken variants that misplace the banner or change an
attachment are applied here (``variant``).
"""

from __future__ import annotations

import codecs
import html as html_mod
import re
import secrets
from collections.abc import Callable
from email.message import MIMEPart
from typing import Any

from . import mime_layout
from .composer import POLICY, STRIP_ALWAYS, is_sm_header, parse

_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
DISPLAYED = ("text/plain", "text/html")
NOT_TOUCHED = ("multipart/signed", "multipart/digest")


def banner_plain(text: str, banner_text: str, link: str | None) -> str:
    top = banner_text + "\n"
    if link:
        top += f"Read it in the Secure Messaging Portal: {link}\n"
    return top + "\n" + text


def banner_html(doc: str, banner_text: str, link: str | None) -> str:
    div = (
        '<div class="sm-banner" style="border:1px solid #b58900;background:#fdf6e3;color:#333;'
        'padding:8px 12px;margin:0 0 12px 0;font-family:sans-serif">' + html_mod.escape(banner_text)
    )
    if link:
        div += f' <a href="{html_mod.escape(link, quote=True)}">Read it in the Secure Messaging Portal</a>'
    div += "</div>"
    m = _BODY_TAG.search(doc)
    if m:
        return doc[: m.end()] + div + doc[m.end() :]
    return div + doc


def is_attachment(part: Any) -> bool:
    return part.is_attachment() or part.get_filename() is not None


def displayed(part: Any) -> list[Any]:
    """The text/plain and text/html parts of what ``part`` shows first: every alternative of a
    multipart/alternative, the root of a multipart/related, the first part of a multipart/report,
    else the first subpart that shows any. Empty when it shows none."""
    if is_attachment(part):
        return []
    ctype = part.get_content_type()
    if ctype in DISPLAYED:
        return [part]
    if not part.is_multipart() or part.get_content_maintype() != "multipart" or ctype in NOT_TOUCHED:
        return []
    subparts = part.get_payload()
    if ctype == "multipart/alternative":
        return [t for sub in subparts for t in displayed(sub)]
    if ctype == "multipart/report":
        subparts = subparts[:1]
    elif ctype == "multipart/related":
        start = part.get_param("start")
        roots = [s for s in subparts if start and str(s.get("Content-ID", "")).strip() == start.strip()]
        subparts = roots or subparts[:1]
    for sub in subparts:
        found = displayed(sub)
        if found:
            return found
    return []


def _enclosed_messages(msg: Any) -> list[Any]:
    """Every message enclosed in ``msg`` (message/rfc822 parts, digest members), outermost first."""
    return [
        p.get_payload(0)
        for p in msg.walk()
        if p is not msg and p.get_content_type() == "message/rfc822" and p.is_multipart()
    ]


def _report_parts(msg: Any) -> list[Any]:
    """The machine-readable parts of every multipart/report (all but its first part)."""
    return [sub for p in msg.walk() if p.get_content_type() == "multipart/report" for sub in p.get_payload()[1:]]


def _text_part(
    lay: mime_layout.Layout, part: Any, text: str, nl: bytes, *, drop: Callable[[str], bool], root: bool
) -> bytes:
    """``part`` written anew with ``text`` as its content: its other header fields as they were."""
    subtype = part.get_content_subtype()
    charset = part.get_content_charset() or "us-ascii"
    try:
        codecs.lookup(charset)
        text.encode(charset)
    except (LookupError, UnicodeError):
        charset = "utf-8"
    fresh = MIMEPart(policy=POLICY.clone(linesep=nl.decode()))
    plain_7bit = text.isascii() and all(len(line) <= 998 for line in text.splitlines())
    fresh.set_content(text, subtype=subtype, charset=charset, cte="7bit" if plain_7bit else "quoted-printable")
    for name, value in part.get_params(header="content-type", failobj=[])[1:]:
        if name.lower() not in ("charset", "boundary") and isinstance(value, str):
            fresh.set_param(name, value)
    new_head, _, new_body = fresh.as_bytes().partition(nl + nl)
    if not text.endswith(("\n", "\r")) and new_body.endswith(nl):
        new_body = new_body[: -len(nl)]  # the email package ends every text with a line break; the original did not
    kept = [
        field
        for name, field in mime_layout.header_fields(lay.header_block(part))
        if name not in ("content-type", "content-transfer-encoding") and not drop(name)
    ]
    if root and not any(name == "mime-version" for name, _ in mime_layout.header_fields(lay.header_block(part))):
        kept.append(b"MIME-Version: 1.0" + nl)
    out = b"".join(_ending(f, nl) for f in kept) + new_head + nl + nl + new_body
    if lay.span(part).in_multipart:
        out += nl  # the line break before the next delimiter belongs to the delimiter
    return out


def _ending(field: bytes, nl: bytes) -> bytes:
    return field if field.endswith((b"\n", b"\r")) else field + nl


def _bannered(part: Any, banner_text: str, link: str | None) -> str:
    text = part.get_content()
    if part.get_content_subtype() == "html":
        return banner_html(text, banner_text, link)
    return banner_plain(text, banner_text, link)


def _keep(name: str) -> bool:
    return False


def _stripped(name: str) -> bool:
    return name in STRIP_ALWAYS or is_sm_header(name)


def _wrapped(lay: mime_layout.Layout, head: bytes, body: bytes, banner_text: str, link: str | None, nl: bytes) -> bytes:
    """The message as multipart/mixed: a text/plain banner part first, the original entity second."""
    boundary = f"=_smlite_{secrets.token_hex(12)}"
    while ("--" + boundary).encode() in body:
        boundary = f"=_smlite_{secrets.token_hex(12)}"
    fields = mime_layout.header_fields(head)
    outer = [f for name, f in fields if not name.startswith("content-") and not _stripped(name)]
    if not any(name == "mime-version" for name, _ in fields):
        outer.append(b"MIME-Version: 1.0" + nl)
    entity = [f for name, f in fields if name.startswith("content-")]
    note = MIMEPart(policy=POLICY.clone(linesep=nl.decode()))
    text = banner_plain("", banner_text, link)
    note.set_content(text, charset="utf-8", cte=None if text.isascii() else "quoted-printable")
    note["Content-Disposition"] = "inline"
    delimiter = b"--" + boundary.encode()
    return b"".join(
        [
            *(_ending(f, nl) for f in outer),
            f'Content-Type: multipart/mixed; boundary="{boundary}"'.encode() + nl,
            nl,
            delimiter + nl,
            note.as_bytes(),
            nl + delimiter + nl,
            *(_ending(f, nl) for f in entity),
            nl,
            body,
            nl + delimiter + b"--" + nl,
        ]
    )


def _alter_one_byte(lay: mime_layout.Layout, attachment: Any) -> tuple[int, int, bytes] | None:
    """Broken variant 'attachment-altered': one character of the attachment's encoded body changed."""
    span = lay.span(attachment)
    for at in range(span.body, span.payload_end(lay.raw)):
        c = lay.raw[at : at + 1]
        if c.isalnum():
            return at, at + 1, b"B" if c == b"A" else b"A"
    return None


def with_banner(raw: bytes, banner_text: str, link: str | None, *, variant: str = "") -> bytes:
    """The original with one banner on top of what its recipient sees first; every other byte kept."""
    lay = mime_layout.read(raw)
    msg = lay.message
    nl = mime_layout.line_ending(raw)
    targets = displayed(msg)
    if variant == "banner-in-enclosed-messages":
        targets += [t for enclosed in _enclosed_messages(msg) for t in displayed(enclosed)]
    edits: list[tuple[int, int, bytes]] = []
    for part in targets:
        span = lay.span(part)
        root = part is msg
        text = _bannered(part, banner_text, link)
        drop = _stripped if root else _keep
        edits.append((span.start, span.end, _text_part(lay, part, text, nl, root=root, drop=drop)))
    if variant == "banner-inside-report-parts":
        for part in _report_parts(msg):
            span = lay.span(part)
            edits.append((span.body, span.body, (banner_text + "\n").encode() + nl))
    if variant == "attachment-altered":
        first = next((p for p in msg.walk() if not p.is_multipart() and is_attachment(p)), None)
        change = _alter_one_byte(lay, first) if first is not None else None
        if change:
            edits.append(change)
    head_end = lay.span(msg).body
    body = _apply(raw, sorted(e for e in edits if e[0] >= head_end), head_end)
    if any(e[0] == 0 for e in edits):  # the message itself was the bannered text part
        out = _apply(raw, sorted(edits), 0)
    elif targets or variant == "no-banner-without-text-part":
        out = _head_without_stripped(raw[:head_end], nl) + body
    else:
        out = _wrapped(lay, raw[:head_end], body, banner_text, link, nl)
    if variant != "banner-inside-report-parts":  # that variant changes the report's structure on purpose
        _check_structure(msg, out, wrapped=not targets and variant != "no-banner-without-text-part")
    return out


def _head_without_stripped(block: bytes, nl: bytes) -> bytes:
    """The message's header block without the fields the email with banner never carries."""
    fields = mime_layout.header_fields(block)
    separator = block[sum(len(f) for _, f in fields) :]
    return b"".join(_ending(f, nl) for name, f in fields if not _stripped(name)) + separator


def _apply(raw: bytes, edits: list[tuple[int, int, bytes]], start: int) -> bytes:
    """``raw[start:]`` with each (begin, end, replacement) applied; edits are sorted and disjoint."""
    out, at = [], start
    for begin, end, replacement in edits:
        out += [raw[at:begin], replacement]
        at = end
    out.append(raw[at:])
    return b"".join(out)


def _check_structure(original: Any, out: bytes, *, wrapped: bool) -> None:
    before = [p.get_content_type() for p in original.walk()]
    after = [p.get_content_type() for p in parse(out).walk()]
    if wrapped:
        before = ["multipart/mixed", "text/plain", *before]
    if after != before:
        raise ValueError("putting the banner in would change the message's MIME structure")
