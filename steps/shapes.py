"""The message shapes a scenario can name, and the content each full copy of them must keep.

Owns ``SHAPES`` (a plain secure message, one with an HTML part, with an attachment, a long one, one
with a non-ASCII subject and sender name, one asking for a read receipt), ``shape_message`` (what a
shape adds to a plain message) and ``content_tokens`` (text only one part of the message carries,
which every full copy must keep: derived, the source's "Email with banner" and "Message in SM
Portal" are the message itself, not part of it).
"""

from __future__ import annotations

import html as html_lib

from harness.drivers.base import Attachment
from harness.errors import HarnessError
from steps.world import Person, World

SHAPES = (
    "a secure message",
    "a secure message with an HTML part",
    "a secure message with an attachment",
    "a long secure message",
    "a secure message with a non-ASCII subject and sender name",
    "a secure message asking for a read receipt",
)


HTML_OWN, LONG_END = "the HTML part's own text", "the end of the long body"


def content_tokens(shape: str, marker: str) -> dict[str, str]:
    """Text only one part of the message carries, which every full copy must keep (derived)."""
    if shape.endswith("with an HTML part"):
        return {HTML_OWN: f"{marker}-html"}
    if shape == "a long secure message":
        return {LONG_END: f"End of message {marker}-end"}
    return {}


def shape_message(world: World, shape: str, sender: Person, subject: str, text: str, marker: str) -> dict:
    """What ``shape`` adds to a plain message: html, attachments, a longer text, names."""
    if shape not in SHAPES:
        raise HarnessError("Unknown message shape in the feature", f"{shape!r}; known: {', '.join(SHAPES)}")
    extra: dict = {}
    if shape.endswith("with an HTML part"):
        paragraphs = "".join(f"<p>{html_lib.escape(line)}</p>" for line in text.splitlines() if line.strip())
        own = html_lib.escape(content_tokens(shape, marker)[HTML_OWN])  # in the HTML part only
        extra["html"] = (
            f"<!DOCTYPE html><html><head><title>{html_lib.escape(subject)}</title></head>"
            f"<body>{paragraphs}<p><b>Formatted:</b> {own}</p></body></html>"
        )
    elif shape.endswith("with an attachment"):
        extra["attachments"] = [Attachment("minutes.txt", f"Minutes of the meeting.\n{marker}\n".encode())]
    elif shape == "a long secure message":
        body = "\n\n".join(world.faker.paragraph(nb_sentences=8) for _ in range(12))
        extra["text"] = f"{text}\n{body}\n\n{content_tokens(shape, marker)[LONG_END]}\n"
    elif shape.endswith("asking for a read receipt"):
        extra["headers"] = {"Disposition-Notification-To": sender.address, "Return-Receipt-To": sender.address}
    elif shape.endswith("non-ASCII subject and sender name"):
        extra["subject"] = f"Überprüfung — 見積書 {subject}"
        extra["names"] = {sender.address: "José Ñúñez-Åström"}
    return extra
