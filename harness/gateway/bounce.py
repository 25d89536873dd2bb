"""Delivery status notifications (bounces) for outbound rows that failed for good.

Owns ``dsn(...)``: an RFC 3464 report as an MTA sends it - multipart/report;
report-type=delivery-status with a human-readable text part, the
message/delivery-status part (per-message and per-recipient fields, RFC 3464
section 2) and the original's header block as text/rfc822-headers (RFC 6522).
The email package has no DSN builder, so the fields are written here; every
part is 7-bit: a recipient address that is not ASCII (the usual reason for
the bounce) is written as an RFC 6533 ``utf-8`` address type with \\x{HEX}
escapes. Also owns ``classify``: whether an exception from one delivery is
permanent (5xx reply, an address that cannot be encoded) and its status code.
"""

from __future__ import annotations

import smtplib
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.utils import format_datetime

from .composer import new_message_id, to_bytes


def classify(exc: BaseException) -> tuple[bool, str, str]:
    """(permanent?, RFC 3463 status, diagnostic) for an exception raised while sending one row."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (450, b""))
        return _reply(code, text)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, UnicodeError):
        return True, "5.6.7", f"x-smlite; the address cannot be encoded without SMTPUTF8 ({type(exc).__name__})"
    return False, "4.4.1", f"x-smlite; {type(exc).__name__}: {exc}"


def _reply(code: int, text) -> tuple[bool, str, str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = " ".join(str(text).split())
    permanent = 500 <= code < 600
    status = text.split()[0] if text[:2] in ("4.", "5.") else ("5.0.0" if permanent else "4.0.0")
    return permanent, status, f"smtp; {code} {text}"


def xtext_address(address: str) -> str:
    """RFC 6533: 'rfc822; addr' for ASCII, else 'utf-8; addr' with non-ASCII as \\x{HEX}."""
    if address.isascii():
        return f"rfc822; {address}"
    return "utf-8; " + "".join(c if c.isascii() and c.isprintable() else f"\\x{{{ord(c):X}}}" for c in address)


def _ascii_line(text: str) -> str:
    return "".join(c if " " <= c <= "~" else "?" for c in " ".join(text.split()))


def dsn(
    *,
    reporting_host: str,
    from_address: str,
    to: str,
    recipient: str,
    status: str,
    diagnostic: str,
    attempts: int,
    original: bytes,
    now: datetime,
    domain: str,
    reason: str,
) -> bytes:
    """The bounce for one failed recipient of `original`, addressed to `to` (the original sender)."""
    head = original.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    head_text = head.decode("ascii", "replace").replace("\ufffd", "?")
    shown = _ascii_line(xtext_address(recipient).split("; ", 1)[1])
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = f"Mail Delivery System <{from_address}>"
    msg["To"] = to
    msg["Subject"] = "Undelivered Mail Returned to Sender: " + _subject_of(original)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = new_message_id(domain)
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content(
        f"This is the mail system at {reporting_host}.\n\n"
        f"Your message could not be delivered to {shown}\nand was removed from the queue "
        f"after {attempts} attempt(s): {_ascii_line(reason)}\n\n"
        f"The headers of your message are attached.\n"
    )
    msg.make_mixed()
    msg.replace_header("Content-Type", 'multipart/report; report-type="delivery-status"')
    msg.set_boundary(f"dsn-{new_message_id(domain).strip('<>').split('@')[0]}")
    per_message = [("Reporting-MTA", f"dns; {reporting_host}")]
    per_recipient = [
        ("Final-Recipient", xtext_address(recipient)),
        ("Original-Recipient", xtext_address(recipient)),
        ("Action", "failed"),
        ("Status", status),
        ("Diagnostic-Code", _ascii_line(diagnostic)),
        ("Last-Attempt-Date", format_datetime(now)),
    ]
    blocks: list[Message | str] = []
    for fields in (per_message, per_recipient):
        block = Message(policy=policy.compat32)
        for name, value in fields:
            block[name] = value
        blocks.append(block)
    status_part = EmailMessage(policy=policy.SMTP)
    status_part["Content-Type"] = "message/delivery-status"
    status_part["Content-Transfer-Encoding"] = "7bit"
    status_part.set_payload(blocks)
    headers_part = EmailMessage(policy=policy.SMTP)
    headers_part["Content-Type"] = "text/rfc822-headers"
    headers_part["Content-Transfer-Encoding"] = "7bit"
    headers_part.set_payload(head_text.replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n")
    msg.attach(status_part)
    msg.attach(headers_part)
    return to_bytes(msg)


def _subject_of(original: bytes) -> str:
    from .composer import header_text, parse

    try:
        return _ascii_line(header_text(parse(original).get("Subject", ""))) or "(no subject)"
    except Exception:
        return "(no subject)"
