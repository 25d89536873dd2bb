"""What the gateway writes itself: the notification a recipient gets instead of the message, and (in the
broken variant 'read-receipt' only) a read receipt.

Owns ``notification`` (a new message holding the recipient's portal link and never the message itself:
the subject and text of the configuration, the private marker) and ``read_receipt``.
"""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from .composer import POLICY, body_text, header_text, new_message_id, to_bytes, without_banner


def notification(
    original: EmailMessage, *, sender: str, recipient: str, link: str, cfg, now: datetime, variant: str = ""
) -> bytes:
    """The notification: a new message holding the recipient's portal link, never the body."""
    subject = header_text(original.get("Subject", ""))
    values = {"sender": sender, "subject": subject, "link": link}
    # the banner text marks an email with banner: never let a subject carry it into a notification's text
    text_values = {**values, "subject": without_banner(subject, cfg.banner_text)}
    msg = EmailMessage(policy=POLICY)
    local, _, domain = cfg.sender_address().partition("@")
    msg["From"] = Address("Secure Messaging", local, domain)
    msg["To"] = recipient
    msg["Subject"] = header_text(cfg.notification_subject.format(**values))
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = new_message_id(cfg.internal_domains[0])
    if variant != "no-private-marker":
        msg["Sensitivity"] = "Private"
    for name in ("In-Reply-To", "References"):
        if original.get(name):
            msg[name] = header_text(original[name])
    text = cfg.notification_text.format(**text_values)
    if variant == "notification-with-body":
        text += "\n---- Original message ----\n" + body_text(original)
    msg.set_content(text, cte=None if text.isascii() else "quoted-printable")
    return to_bytes(msg)


def read_receipt(original: EmailMessage, *, reader: str, to: str, now: datetime, domain: str) -> bytes:
    """Only for the broken variant 'read-receipt'."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = reader
    msg["To"] = to
    msg["Subject"] = "Read: " + header_text(original.get("Subject", ""))
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = new_message_id(domain)
    if original.get("Message-ID"):
        msg["In-Reply-To"] = header_text(original["Message-ID"])
    msg.set_content(f"Your message was read by {reader} on {format_datetime(now)}.\n")
    return to_bytes(msg)
