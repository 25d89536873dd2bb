"""Reading a delivered message from its raw bytes, for every mailbox backend.

Owns ``parse_message`` (raw RFC 5322 bytes -> the harness's ``Message``, the
fields Mailpit's JSON would give: addresses, subject, date, the first
text/plain and text/html body parts, attachments and inline parts, the raw
header values) and ``html_to_text`` (the text of an HTML-only message, as
Mailpit derives it). The IMAP backend reads nothing else; the Mailpit client
reads each message's raw bytes once and parses them here instead of asking
Mailpit three times (message, headers, raw).
"""

from __future__ import annotations

import email
import email.policy
import html as html_lib
import re
from datetime import datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

from harness.mailbox.types import Address, Attachment, Message


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in ("br", "p", "div", "tr", "li", "h1", "h2", "h3", "table"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    text = html_lib.unescape("".join(parser.parts))
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", re.sub(r"[ \t]+", " ", text)).strip()


def _addresses(message: EmailMessage, name: str) -> tuple[Address, ...]:
    found = []
    for header in message.get_all(name) or ():
        try:
            found += [Address(a.addr_spec, a.display_name or "") for a in header.addresses]
        except (AttributeError, TypeError, ValueError):
            continue
    return tuple(found)


def raw_headers(raw: bytes) -> dict[str, list[str]]:
    """Header name -> values, unfolded and undecoded, as Mailpit's /headers gives them."""
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    headers: dict[str, list[str]] = {}
    for key, value in parsed.items():
        headers.setdefault(key, []).append(re.sub(r"\r?\n([ \t])", r"\1", str(value)).strip())
    return headers


def _parts(message: EmailMessage) -> tuple[str, str, tuple[Attachment, ...], tuple[Attachment, ...]]:
    text = html = ""
    attachments: list[Attachment] = []
    inline: list[Attachment] = []

    def walk(part: Any, path: str) -> None:  # EmailMessage or one of its MIMEPart children
        nonlocal text, html
        if part.is_multipart():
            for index, child in enumerate(part.iter_parts(), 1):
                walk(child, f"{path}.{index}" if path else str(index))
            return
        disposition = part.get_content_disposition()
        content_type = part.get_content_type()
        filename = part.get_filename() or ""
        content_id = (part.get("Content-ID") or "").strip().strip("<>")
        body_part = disposition != "attachment" and not filename and content_type in ("text/plain", "text/html")
        if body_part and content_type == "text/plain" and not text:
            text = _content(part)
            return
        if body_part and content_type == "text/html" and not html:
            html = _content(part)
            return
        if body_part:
            return
        payload = part.get_payload(decode=True) or b""
        if not filename and content_id:
            filename = content_id  # as Mailpit names a nameless inline part
        item = Attachment(
            part_id=path or "1", filename=filename, content_type=content_type, size=len(payload), content_id=content_id
        )
        (inline if disposition == "inline" or (content_id and disposition != "attachment") else attachments).append(
            item
        )

    walk(message, "")
    return text, html, tuple(attachments), tuple(inline)


def _content(part: EmailMessage) -> str:
    """A text part's text, line ends as delivered (CRLF, as SMTP carries them and Mailpit keeps them)."""
    try:
        return part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""


def parse_message(message_id: str, raw: bytes, mailbox_address: str = "") -> Message:
    """A delivered message as the harness sees it (the fields of harness.mailbox.Message)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    senders = _addresses(message, "From")
    to, cc, bcc = (_addresses(message, n) for n in ("To", "Cc", "Bcc"))
    owner = mailbox_address.strip().lower()
    if owner and owner not in [a.lower() for a in (*to, *cc, *bcc)]:
        bcc = (*bcc, Address(owner))  # an envelope-only recipient, listed under Bcc as Mailpit does
    text, html, attachments, inline = _parts(message)
    if not text and html:
        text = html_to_text(html)
    date: datetime | None
    try:
        date = message["Date"].datetime if message["Date"] is not None else None
    except (AttributeError, TypeError, ValueError):
        date = None
    return Message(
        id=message_id,
        message_id=str(message.get("Message-ID") or "").strip().strip("<>"),
        from_=senders[0] if senders else None,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=_addresses(message, "Reply-To"),
        subject=str(message.get("Subject") or "").strip(),
        date=date,
        text=text,
        html=html,
        headers=raw_headers(raw),
        attachments=attachments,
        inline=inline,
        size=len(raw),
        raw=raw,
    )
