"""Owns: Northwind's byte-exact reading of a MIME message: the tree of entities with their byte offsets,
the checks that make a message broken MIME, and the whole-message listing (parts, attachments).

Hand-written over the email package on purpose: the gateway must pass on every part it does not
banner byte for byte, and the email package reads a message into objects and writes it out anew
(refolded headers, re-encoded bodies, regenerated boundaries), so it cannot say where a part's bytes
are. The email package still reads every header block (parameters, RFC 2231, RFC 2047) and undoes
each leaf's transfer encoding; only the splitting into entities is done here (RFC 2046 §5.1.1).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from functools import cached_property
from typing import Any

MAX_DEPTH = 50
FIELD = re.compile(rb"[!-9;-~]+[ \t]*:")  # RFC 5322 field name (ftext), obsolete WSP before the colon
MBOX_FROM = re.compile(rb"From [^\r\n]*\r?\n?")
OPAQUE_CTE = ("7bit", "8bit", "binary", "")
REPORT_TEXT = ("message/delivery-status", "message/disposition-notification")


class Malformed(Exception):
    """Broken MIME: refused with 554 5.6.0 Malformed message: <reason>."""

    def __init__(self, reason: str, too_deep: bool = False):
        super().__init__(reason)
        self.reason, self.too_deep = reason, too_deep


@dataclass
class Entity:
    raw: bytes
    start: int  # first byte of the header block
    header_end: int  # end of the header fields (the blank line not included)
    body_start: int
    end: int
    info: Message  # the header block, read by the email package (compat32)
    content_type: str
    children: list[Entity] = field(default_factory=list)
    enclosed: Entity | None = None  # the message inside a message/rfc822 part

    @property
    def is_multipart(self) -> bool:
        return self.content_type.startswith("multipart/")

    @property
    def subtype(self) -> str:
        return self.content_type.partition("/")[2]

    @property
    def body(self) -> bytes:
        return self.raw[self.body_start : self.end]

    @property
    def eol(self) -> bytes:
        newline = self.raw.find(b"\n", self.start)  # a part without a line break of its own: the next one
        return b"\r\n" if newline > 0 and self.raw[newline - 1 : newline] == b"\r" else b"\n"

    @property
    def cte(self) -> str:
        return str(self.info.get("Content-Transfer-Encoding", "")).strip().lower()

    @property
    def charset(self) -> str:
        return str(self.info.get_content_charset() or "us-ascii")

    @cached_property
    def filename(self) -> str | None:
        block = self.raw[self.start : self.header_end]
        try:
            name = BytesHeaderParser(policy=email_policy.default).parsebytes(block).get_filename()
        except Exception:  # parameters the email package's modern reading refuses: its compat32 reading
            name = self.info.get_filename()
        return str(name) if name else None

    @property
    def is_attachment(self) -> bool:
        if self.is_multipart or self.content_type.startswith("message/"):
            return False
        return self.info.get_content_disposition() == "attachment" or self.filename is not None

    def decoded(self) -> bytes:
        """The body with its transfer encoding undone (the email package does the decoding)."""
        if self.cte in OPAQUE_CTE:
            return self.body
        leaf = BytesParser(policy=email_policy.compat32).parsebytes(self.raw[self.start : self.end])
        payload = leaf.get_payload(decode=True)
        return payload if isinstance(payload, bytes) else self.body

    def text(self) -> str:
        data = self.decoded()
        try:
            text = data.decode(self.charset, "replace")
        except (LookupError, ValueError):  # a charset Python does not know: read as utf-8
            text = data.decode("utf-8", "replace")
        return text.replace("\r\n", "\n")

    def walk(self) -> list[Entity]:
        out = [self]
        for child in self.children:
            out += child.walk()
        if self.enclosed is not None:
            out += self.enclosed.walk()
        return out


def strip_mbox_from(raw: bytes) -> bytes:
    """An mbox separator line ("From sender date") left in a message's header block is no header field:
    dropped, wherever it is in that block (the rest of the message untouched)."""
    pos, kept = 0, []
    while pos < len(raw):
        newline = raw.find(b"\n", pos)
        stop = len(raw) if newline < 0 else newline + 1
        line = raw[pos:stop]
        if line in (b"\n", b"\r\n"):
            break
        if not (MBOX_FROM.fullmatch(line) and not FIELD.match(line)):
            kept.append(line)
        pos = stop
    return raw if sum(map(len, kept)) == pos else b"".join(kept) + raw[pos:]


def parse(raw: bytes) -> Entity:
    """The message's tree; Malformed for broken MIME (docs/contract.md, "The whole message")."""
    if not FIELD.match(raw):
        raise Malformed("no header block (the first line is not a header field)")
    return _entity(raw, 0, len(raw), "text/plain", 0, (), len(raw))


def _entity(
    raw: bytes, start: int, end: int, default: str, depth: int, bounds: tuple[bytes, ...], msg_end: int
) -> Entity:
    if depth > MAX_DEPTH:
        raise Malformed(f"multiparts nested deeper than {MAX_DEPTH} levels", too_deep=True)
    header_end, body_start = _header_block(raw, start, end)
    info = BytesHeaderParser(policy=email_policy.compat32).parsebytes(raw[start:header_end])
    info.set_default_type(default)
    try:  # the parameters read later (RFC 2231 continuations the email package cannot put together)
        info.get_params(), info.get_content_charset(), info.get_content_disposition(), info.get_filename()
    except Exception as exc:
        raise Malformed(f"a header the parser cannot read ({type(exc).__name__} in its parameters)") from None
    entity = Entity(raw, start, header_end, body_start, end, info, info.get_content_type().lower())
    if entity.is_multipart:
        entity.children = _children(entity, depth, bounds, msg_end)
    elif entity.content_type in ("message/rfc822", "message/global") and entity.cte in OPAQUE_CTE:
        try:  # an enclosed message is passed on untouched: one that cannot be read stays opaque
            entity.enclosed = _entity(raw, body_start, end, "text/plain", depth + 1, bounds, end)
        except Malformed as exc:
            if exc.too_deep:
                raise
            entity.enclosed = None
    return entity


def _header_block(raw: bytes, start: int, end: int) -> tuple[int, int]:
    pos, seen_field = start, False
    while pos < end:
        newline = raw.find(b"\n", pos, end)
        stop = end if newline < 0 else newline + 1
        line = raw[pos:stop]
        if line in (b"\n", b"\r\n"):
            return pos, stop
        if line[:1] in (b" ", b"\t") and seen_field:
            pass
        elif FIELD.match(line):
            seen_field = True
        else:
            shown = line.rstrip(b"\r\n")[:60].decode("ascii", "replace")
            raise Malformed(f"a header line that is not a field: {shown!r}")
        pos = stop
    return end, end


def _delimiters(boundary: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"^--" + re.escape(boundary) + rb"(--)?[ \t]*\r?$", re.M)


def _children(entity: Entity, depth: int, bounds: tuple[bytes, ...], msg_end: int) -> list[Entity]:
    raw, where = entity.raw, entity.content_type
    boundary_text = entity.info.get_boundary()
    if not boundary_text:
        raise Malformed(f"{where} without a boundary")
    boundary = boundary_text.encode("utf-8", "surrogateescape")
    if boundary in bounds:
        raise Malformed(f"a {where} part reuses the boundary of an enclosing multipart ({boundary_text!r})")
    default = "message/rfc822" if entity.subtype == "digest" else "text/plain"
    pattern = _delimiters(boundary)
    matches = list(pattern.finditer(raw, entity.body_start, entity.end))
    if not matches:
        raise Malformed(f"the boundary of {where} ({boundary_text!r}) never occurs")
    children: list[Entity] = []
    closed = False
    for here, after in zip(matches, [*matches[1:], None], strict=True):
        if here.group(1):
            closed = True
            break
        content_start = _line_end(raw, here.end(), entity.end)
        content_end = entity.end if after is None else after.start() - _eol_before(raw, after.start())
        if content_end <= content_start:
            continue  # no byte between two delimiter lines: no part
        children.append(_entity(raw, content_start, content_end, default, depth + 1, (*bounds, boundary), msg_end))
    if not closed:
        if pattern.search(raw, entity.end):
            raise Malformed(f"a part holds a boundary delimiter line of an enclosing multipart ({boundary_text!r})")
        if entity.end != msg_end:
            raise Malformed(f"{where} ({boundary_text!r}) has no closing boundary")
    return children


def _line_end(raw: bytes, pos: int, end: int) -> int:
    newline = raw.find(b"\n", pos, end)
    return end if newline < 0 else newline + 1


def _eol_before(raw: bytes, pos: int) -> int:
    if raw[pos - 2 : pos] == b"\r\n":
        return 2
    return 1 if raw[pos - 1 : pos] == b"\n" else 0


# -- the whole message, as the SM Portal and MPP answers list it ----------------------------------------
def listing(top: Entity) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], Entity]]]:
    """Every body part in order (IMAP section numbers, containers left out) and every attachment."""
    parts: list[dict[str, Any]] = []
    attachments: list[tuple[dict[str, Any], Entity]] = []

    def walk(e: Entity, number: str, alt_of: str | None, enclosed_in: str | None) -> None:
        if e.is_multipart:
            holder = number if e.subtype == "alternative" else alt_of
            for i, child in enumerate(e.children, 1):
                walk(child, f"{number}.{i}" if number else str(i), holder, enclosed_in)
            return
        path = number or "1"
        name = e.filename
        text = e.text() if e.content_type.startswith("text/") or e.content_type in REPORT_TEXT else None
        headers = _headers(e.enclosed) if e.enclosed is not None else None
        parts.append(
            {
                "path": path,
                "content_type": e.content_type,
                "name": name,
                "text": text,
                "alternative_of": alt_of,
                "enclosed_in": enclosed_in,
                "headers": headers,
            }
        )
        if e.is_attachment:
            data = e.decoded()
            info = {"path": path, "name": name, "content_type": e.content_type, "size": len(data)}
            attachments.append((info | {"sha256": hashlib.sha256(data).hexdigest()}, e))
        if e.enclosed is not None:
            inner = e.enclosed
            walk(inner, path if inner.is_multipart else f"{path}.1", None, path)

    walk(top, "", None, None)
    return parts, attachments


def _headers(e: Entity) -> dict[str, str]:
    block = BytesHeaderParser(policy=email_policy.default).parsebytes(e.raw[e.start : e.header_end])
    out: dict[str, str] = {}
    for name, raw in block.raw_items():
        try:
            value = str(block.policy.header_fetch_parse(name, raw))
        except Exception:  # a field the email package cannot read (an enclosed message is not checked)
            value = re.sub(r"\r?\n[ \t]", " ", str(raw)).strip()
        out.setdefault(name, value)
    return out
