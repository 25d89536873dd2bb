"""Owns: putting Northwind's banner into a real message without touching anything else, and the
header edits the gateway makes on the bytes of a message (fields removed, fields added).

Where the banner goes (docs/contract.md, "The whole message"): every text/plain and text/html part of
the message's first displayed body (each alternative, the root of a related, the first part of a
report, the first subpart of a mixed that shows text); a message without one is wrapped in a
multipart/mixed whose first part is the banner. Every other byte of the message is kept: a bannered
part's body is spliced (identity and quoted-printable encodings keep the original's bytes after the
banner; base64 is decoded and encoded again), its header fields kept unless its charset cannot hold
the banner (then utf-8).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from email.message import Message

from tools.independent.gateway.mime import OPAQUE_CTE, Entity, Malformed

BODY_TAG = re.compile(rb"<body\b[^>]*>", re.I)
BODY_END = re.compile(rb"</body\s*>", re.I)
NOT_DISPLAYED = ("signed", "encrypted", "digest")


@dataclass(frozen=True)
class Banner:
    text: str  # the text/plain banner (lines, no trailing blank line)
    html: str  # the text/html banner element
    at_bottom: bool = False  # deviation banner-at-bottom
    text_only: bool = False  # deviation banner-text-only
    footer: str = ""  # alternative alt-banner-footer-too: a line after a text/plain part too
    everywhere: bool = False  # deviation whole-banner-in-every-text-part
    attachments_too: bool = False  # deviation whole-attachment-bannered
    no_wrap: bool = False  # deviation whole-no-banner-without-text-part


def displayed(e: Entity) -> list[Entity]:
    """The text/plain and text/html parts of `e` the recipient sees first (empty: none)."""
    if e.is_attachment:
        return []
    if e.content_type in ("text/plain", "text/html"):
        return [e]
    if not e.is_multipart or e.subtype in NOT_DISPLAYED or not e.children:
        return []
    if e.subtype == "alternative":
        return [part for child in e.children for part in displayed(child)]
    if e.subtype == "related":
        return displayed(_root(e))
    if e.subtype == "report":
        return displayed(e.children[0])
    for child in e.children:  # mixed, parallel and any multipart not known: the first that shows text
        found = displayed(child)
        if found:
            return found
    return []


def _root(related: Entity) -> Entity:
    start = related.info.get_param("start")
    if isinstance(start, str):
        for child in related.children:
            if str(child.info.get("Content-ID", "")).strip() == start.strip():
                return child
    return related.children[0]


def with_banner(top: Entity, banner: Banner) -> bytes:
    """The message's bytes with the banner in place (or wrapped around it)."""
    shown = displayed(top)
    targets = list(shown)
    leaves = [e for e in top.walk() if not e.is_multipart and e.content_type in ("text/plain", "text/html")]
    if banner.everywhere:
        targets = [e for e in leaves if not e.is_attachment]
    if banner.attachments_too:
        targets += [e for e in leaves if e.is_attachment]
    targets = [t for t in targets if not (banner.text_only and t.content_type == "text/html")]
    if not shown and not ((banner.everywhere or banner.attachments_too) and targets):
        return top.raw if banner.no_wrap else _wrapped(top, banner)
    raw = top.raw
    for target in sorted(targets, key=lambda t: t.start, reverse=True):
        raw = raw[: target.start] + _bannered(target, banner) + raw[target.end :]
    return raw


def _bannered(part: Entity, banner: Banner) -> bytes:
    eol, cte = part.eol, part.cte
    if cte not in (*OPAQUE_CTE, "quoted-printable", "base64"):
        raise Malformed(f"an undecodable text part (Content-Transfer-Encoding {cte})")
    is_html = part.content_type == "text/html"
    shown = (banner.html if is_html else banner.text + "\n\n").replace("\n", eol.decode())
    charset = part.charset
    encoded = _encode_in(shown, charset)
    header = part.raw[part.start : part.body_start]
    if part.header_end == part.body_start:  # fields and no blank line (a part with no body): one added
        header += (b"" if header.endswith(b"\n") else eol) + eol
    if encoded is None:  # the part's charset cannot hold the banner: the text in utf-8
        try:
            text = part.decoded().decode(charset)
        except (LookupError, ValueError):
            raise Malformed(f"an undecodable text part ({charset}) that cannot hold the banner") from None
        new_cte = cte if cte in ("quoted-printable", "base64", "8bit", "binary") else "quoted-printable"
        body = _splice(text.encode("utf-8"), shown.encode("utf-8"), is_html, banner, eol)
        return _utf8_header(part, new_cte) + _encode(body, new_cte, eol)
    if cte in OPAQUE_CTE:
        return header + _splice(part.body, encoded, is_html, banner, eol)
    if cte == "quoted-printable" and not is_html and not banner.at_bottom and not banner.footer:
        return header + binascii.b2a_qp(encoded, istext=True) + part.body
    return header + _encode(_splice(part.decoded(), encoded, is_html, banner, eol), cte, eol)


def _encode_in(text: str, charset: str) -> bytes | None:
    """The banner in the part's charset when it is the same bytes as in ASCII (unknown charset: assumed so)."""
    try:
        ascii_bytes = text.encode("ascii")
    except UnicodeEncodeError:
        ascii_bytes = None
    try:
        encoded = text.encode(charset)
    except (LookupError, ValueError):  # a charset name Python does not know (or cannot even look up)
        return ascii_bytes
    except UnicodeEncodeError:
        return None
    return encoded if encoded == ascii_bytes else None


def _splice(body: bytes, shown: bytes, is_html: bool, banner: Banner, eol: bytes) -> bytes:
    if is_html:
        if banner.at_bottom:
            end = BODY_END.search(body)
            return body[: end.start()] + shown + body[end.start() :] if end else body + shown
        tag = BODY_TAG.search(body)
        at = tag.end() if tag else 0
        return body[:at] + shown + body[at:]
    if banner.at_bottom:
        return body.rstrip(b"\r\n") + eol + eol + shown.rstrip(b"\r\n") + eol
    footer = banner.footer.replace("\n", eol.decode()).encode("ascii", "replace")
    return shown + body + footer


def _encode(data: bytes, cte: str, eol: bytes) -> bytes:
    if cte == "base64":
        return base64.encodebytes(data).replace(b"\n", eol)
    if cte == "quoted-printable":
        encoded = binascii.b2a_qp(data.replace(b"\r\n", b"\n"), istext=True)
        return encoded.replace(b"\n", eol)
    return data


def _utf8_header(part: Entity, cte: str) -> bytes:
    """The part's header fields with charset=utf-8 (its other Content-Type parameters kept) and `cte`."""
    info = Message()
    try:
        info["Content-Type"] = str(part.info.get("Content-Type", part.content_type))
        info.set_param("charset", "utf-8")
    except (ValueError, LookupError):  # parameters the email package cannot write back: the type alone
        del info["Content-Type"]
        info["Content-Type"] = f"{part.content_type}; charset=utf-8"
    replaced = (b"content-type", b"content-transfer-encoding")
    kept = [raw for name, raw in _fields(part.raw, part.start, part.header_end) if name.lower() not in replaced]
    lines = [f"Content-Type: {info['Content-Type']}", f"Content-Transfer-Encoding: {cte}"]
    return b"".join(kept) + b"".join(line.encode("ascii", "replace") + part.eol for line in lines) + part.eol


def _wrapped(top: Entity, banner: Banner) -> bytes:
    """multipart/mixed: the banner as a text/plain part, then the original entity byte for byte."""
    eol = top.eol
    fields = [(name, raw if raw.endswith(b"\n") else raw + eol) for name, raw in _fields(top.raw, 0, top.header_end)]
    content = b"".join(raw for name, raw in fields if name.lower().startswith(b"content-"))
    outer = [raw for name, raw in fields if not name.lower().startswith(b"content-")]
    boundary = "=_northwind_" + secrets.token_hex(12)
    while boundary.encode() in top.raw:
        boundary = "=_northwind_" + secrets.token_hex(12)
    if not any(name.lower() == b"mime-version" for name, _ in fields):
        outer.append(b"MIME-Version: 1.0" + eol)
    outer.append(f'Content-Type: multipart/mixed; boundary="{boundary}"'.encode() + eol)
    text = (banner.text + "\n").replace("\n", eol.decode())
    try:
        head, body = ["charset=us-ascii", "7bit"], text.encode("ascii")
    except UnicodeEncodeError:
        head, body = ["charset=utf-8", "base64"], base64.encodebytes(text.encode("utf-8")).replace(b"\n", eol)
    banner_part = eol.join(
        [
            f"Content-Type: text/plain; {head[0]}".encode(),
            b"Content-Disposition: inline",
            f"Content-Transfer-Encoding: {head[1]}".encode(),
            b"",
            body,
        ]
    )
    dash = b"--" + boundary.encode()
    original = content + eol + top.raw[top.body_start :]
    return b"".join(outer) + eol + dash + eol + banner_part + eol + dash + eol + original + eol + dash + b"--" + eol


def _fields(raw: bytes, start: int, end: int) -> list[tuple[bytes, bytes]]:
    """The header fields between start and end: (name, the field's bytes with its folded lines)."""
    out: list[tuple[bytes, bytes]] = []
    pos = start
    while pos < end:
        newline = raw.find(b"\n", pos, end)
        stop = end if newline < 0 else newline + 1
        line, pos = raw[pos:stop], stop
        if line[:1] in (b" ", b"\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + line)
        else:
            out.append((line.split(b":", 1)[0].strip(), line))
    return out


def edit_header(
    raw: bytes, remove: tuple[str, ...] = (), prefixes: tuple[str, ...] = (), add: tuple[str, ...] = ()
) -> bytes:
    """The message's top header block without the named fields (and those starting with a prefix), with
    the `add` lines appended; the body untouched."""
    end = 0
    while end < len(raw):
        newline = raw.find(b"\n", end)
        stop = len(raw) if newline < 0 else newline + 1
        if raw[end:stop] in (b"\n", b"\r\n"):
            break
        end = stop
    eol = b"\r\n" if b"\r\n" in raw[: max(end, 2)] else b"\n"
    drop = {n.lower().encode() for n in remove}
    starts = tuple(p.lower().encode() for p in prefixes)
    kept = [
        field
        for name, field in _fields(raw, 0, end)
        if name.lower() not in drop and not name.lower().startswith(starts)
    ]
    if kept and not kept[-1].endswith(b"\n"):
        kept[-1] += eol
    added = [line.encode("utf-8") + eol for line in add]
    return b"".join(kept + added) + raw[end:]
