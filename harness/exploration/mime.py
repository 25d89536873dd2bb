"""Owns: messages sent as written — drawn MIME shapes real mail has (text alone, text and HTML
alternatives, attachments of any bytes, an enclosed message, alternatives and attachments nested, HTML
alone) built into RFC 5322 bytes for ``Outgoing.raw`` (capability ``sends_raw``), and malformed ones the
contract says are refused (no header block, a multipart without a boundary, a header line that is not a
field; harness/observation/wholeness.py's ``malformed`` confirms each).

Built with the standard library's email package. The bytes depend on the drawn plan and the marker
only (never on the run's address tags), so the same seed gives the same shapes.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr
from typing import Final

from hypothesis import strategies as st

from harness.exploration.model import AddressPlan, ContentPlan, message_text
from harness.exploration.strategies import contents

SHAPES: Final = (
    "text",
    "alternatives",
    "attachments",
    "an enclosed message",
    "nested parts",
    "HTML alone",
    "a delivery report",
    "attachments alone",
)
MALFORMED: Final = ("no header block", "a multipart without a boundary", "a header line that is not a field")


@dataclass(frozen=True)
class RawPlan:
    shape: str
    content: ContentPlan


def raw_plans() -> st.SearchStrategy[RawPlan]:
    return st.builds(RawPlan, st.sampled_from(SHAPES), contents(attachments_allowed=True))


def _address(plan: AddressPlan) -> str:
    local = plan.local
    return formataddr((plan.display_name, f"{local}@{plan.domain}"))


def _html(text: str, marker: str) -> str:
    paragraphs = "".join(f"<p>{html_lib.escape(line)}</p>" for line in text.splitlines() if line.strip())
    return f"<!DOCTYPE html><html><body>{paragraphs}<p><b>Formatted:</b> {marker}-html</p></body></html>"


def build(plan: RawPlan, sender: AddressPlan, to: list[AddressPlan], marker: str) -> bytes:
    """The message of ``plan`` as written, its headers naming the drawn (untagged) people."""
    content = plan.content
    message = EmailMessage()
    message["From"] = _address(sender)
    message["To"] = ", ".join(_address(p) for p in to)
    message["Subject"] = f"{content.subject_words} [{marker[-6:]}]"
    message["Message-ID"] = f"<{marker}@explored.invalid>"
    if content.header:
        message["X-Explored"] = content.header
    text = message_text(content, marker)
    if plan.shape == "attachments alone":  # no text/plain or text/html part at all
        message.make_mixed()
        message.add_attachment(f"{text}\n", filename="notes.txt")
        return message.as_bytes(policy=SMTP)
    if plan.shape == "a delivery report":  # RFC 3464: a human part and a machine-readable status part
        return _report(message, text, marker)
    if plan.shape == "HTML alone":
        message.set_content(_html(text, marker), subtype="html")
        return message.as_bytes(policy=SMTP)
    message.set_content(text)
    if plan.shape in ("alternatives", "nested parts"):
        message.add_alternative(_html(text, marker), subtype="html")
    if plan.shape in ("attachments", "nested parts"):
        for attached in content.attachments or ():
            maintype, _, subtype = attached.content_type.partition("/")
            message.add_attachment(attached.content, maintype=maintype, subtype=subtype, filename=attached.filename)
    if plan.shape in ("an enclosed message", "nested parts"):
        inner = EmailMessage()
        inner["From"], inner["Subject"] = _address(sender), f"Enclosed {marker}"
        inner.set_content(f"The enclosed message's own text {marker}-enclosed\n")
        message.add_attachment(inner)
    return message.as_bytes(policy=SMTP)


def _report(message: EmailMessage, text: str, marker: str) -> bytes:
    """A multipart/report (RFC 3464) written out by hand: the email package cannot build a
    message/delivery-status part from its fields."""
    human = EmailMessage()
    human.set_content(text)
    boundary = f"report-{marker}"
    message["MIME-Version"] = "1.0"
    message["Content-Type"] = f'multipart/report; report-type=delivery-status; boundary="{boundary}"'
    head = message.as_bytes(policy=SMTP).partition(b"\r\n\r\n")[0]
    status = (
        "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; explored.invalid\r\n\r\n"
        f"Final-Recipient: rfc822; nobody@{marker}.invalid\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    ).encode()
    parts = [human.as_bytes(policy=SMTP), status]
    body = b"".join(f"--{boundary}\r\n".encode() + part + b"\r\n" for part in parts) + f"--{boundary}--\r\n".encode()
    return head + b"\r\n\r\n" + body


def malformed(kind: str, marker: str) -> bytes:
    """A broken message of ``kind`` (MALFORMED)."""
    if kind == "no header block":
        return f"This message has no header block at all {marker}\r\n".encode()
    if kind == "a multipart without a boundary":
        return (
            f"Subject: broken {marker}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
            f"--nowhere\r\nContent-Type: text/plain\r\n\r\ntext {marker}\r\n--nowhere--\r\n"
        ).encode()
    return f"Subject: broken {marker}\r\nthis line is not a field\r\n\r\ntext {marker}\r\n".encode()
