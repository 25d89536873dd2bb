"""Owns: the explored world as values — the people of a conversation, the content of a message, what was
sent, the target's clock — and the plans Hypothesis draws (``AddressPlan``, ``ContentPlan``), which are
plain, printable, hashable values so the same seed gives the same exchanges (``digest``).

A person's address is the drawn plan plus a tag unique to the run (``Tagger``): a replayed or shrunk
example never reads mail another example caused. Who is internal follows docs/contract.md: the domain,
compared case-insensitively with the profile's internal domains (``DOMAIN_FORMS`` names how the drawn
domain was written, and what that makes the person).
"""

from __future__ import annotations

import hashlib
import html as html_lib
import itertools
import secrets
from dataclasses import dataclass, field, replace
from typing import Any, Final

from harness.drivers.base import Attachment, Outgoing, Response

# How a drawn domain is written, and whether that makes its owner internal (docs/contract.md).
INTERNAL, CASE_VARIANT, LOOK_ALIKE, SUB_DOMAIN, EXTERNAL = (
    "an internal domain",
    "an internal domain in mixed case",
    "a look-alike of an internal domain",
    "a sub-domain of an internal domain",
    "an external domain",
)
DOMAIN_FORMS: Final = (INTERNAL, CASE_VARIANT, LOOK_ALIKE, SUB_DOMAIN, EXTERNAL)
INTERNAL_FORMS: Final = frozenset({INTERNAL, CASE_VARIANT})


@dataclass(frozen=True)
class AddressPlan:
    """An address as drawn: local part and domain as written, how the domain was made, a display name."""

    local: str
    domain: str
    form: str
    display_name: str = ""

    @property
    def internal(self) -> bool:
        return self.form in INTERNAL_FORMS

    @property
    def quoted(self) -> bool:
        return self.local.startswith('"')

    def unquoted(self) -> AddressPlan:
        """The same person with a dot-atom local part ("anne van" -> anne.van)."""
        return replace(self, local=".".join(self.local.strip('"').split())) if self.quoted else self


@dataclass(frozen=True)
class AttachmentPlan:
    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class ContentPlan:
    """A message's content as drawn: the words of its subject, its text, an HTML part, attachments, a
    header with any text, a long body."""

    subject_words: str
    text: str
    html: bool = False
    attachments: tuple[AttachmentPlan, ...] = ()
    header: str = ""  # the value of a header of the sender's own (X-Explored), any text
    long: bool = False

    @property
    def shape(self) -> str:
        """The shape in words, as a scenario would name it."""
        parts = ["an HTML part"] if self.html else []
        parts += [f"{len(self.attachments)} attachment(s)"] if self.attachments else []
        parts += ["a long body"] if self.long else []
        parts += ["a header of any text"] if self.header else []
        return "a secure message" + (" with " + ", ".join(parts) if parts else "")


class Tagger:
    """Tags unique to one run, so no two people of the run (or of two runs) share an address."""

    def __init__(self) -> None:
        self.run = secrets.token_hex(2)
        self.counter = itertools.count(1)

    def address(self, plan: AddressPlan) -> str:
        tag = f"x{self.run}{next(self.counter)}"
        local = plan.local
        if local.startswith('"'):
            return f'"{local[1:-1]}.{tag}"@{plan.domain}'
        return f"{local}.{tag}@{plan.domain}"


@dataclass
class Person:
    name: str  # a role for the reproduction: Ines1, Erik2
    plan: AddressPlan
    address: str
    seen_mail: set[str] = field(default_factory=set)
    seen_mpp: set[str] = field(default_factory=set)

    @property
    def internal(self) -> bool:
        return self.plan.internal


@dataclass
class Sent:
    """A secure message sent (or a reply), who got it, and the SM Portal link each recipient was given."""

    sender: Person
    to: list[Person]
    application: str  # slug
    definition: str  # as named (any case)
    canonical: str  # All | External
    subject: str
    marker: str
    response: Response
    cc: list[Person] = field(default_factory=list)
    bcc: list[Person] = field(default_factory=list)
    content: ContentPlan | None = None
    links: dict[str, str] = field(default_factory=dict)  # person name -> their SM Portal link
    replied_to: Sent | None = None

    @property
    def everyone(self) -> list[Person]:
        return self.to + self.cc + self.bcc

    @property
    def mixed(self) -> bool:
        """Internal and external recipients together (source defect D4)."""
        kinds = {p.internal for p in self.everyone}
        return self.sender.internal and kinds == {True, False}


@dataclass
class TargetClock:
    """How far exploration moved the target's clock (days)."""

    days: int = 0


HTML_OWN, LONG_END = "the HTML part's own text", "the end of the long body"


def content_tokens(plan: ContentPlan, marker: str) -> dict[str, str]:
    """Text only one part of the message carries, which every full copy must keep (derived)."""
    tokens = {HTML_OWN: f"{marker}-html"} if plan.html else {}
    if plan.long:
        tokens[LONG_END] = f"End of message {marker}-end"
    return tokens


def message_text(plan: ContentPlan, marker: str) -> str:
    text = f"{plan.text}\n\nReference: {marker}\n"
    if plan.long:
        text += (
            "\n".join(f"Paragraph {i}: {plan.text}" for i in range(200))
            + f"\n{content_tokens(plan, marker)[LONG_END]}\n"
        )
    return text


def outgoing(
    sender: Person, sent_to: dict[str, list[Person]], subject: str, marker: str, plan: ContentPlan
) -> Outgoing:
    """The driver's message for a drawn content plan."""
    text = message_text(plan, marker)
    everyone = [sender, *sent_to["to"], *sent_to["cc"], *sent_to["bcc"]]
    message = Outgoing(
        sender.address,
        [p.address for p in sent_to["to"]],
        subject,
        text,
        cc=[p.address for p in sent_to["cc"]],
        bcc=[p.address for p in sent_to["bcc"]],
        names={p.address: p.plan.display_name for p in everyone if p.plan.display_name},
    )
    if plan.html:
        paragraphs = "".join(f"<p>{html_lib.escape(line)}</p>" for line in text.splitlines() if line.strip())
        own = html_lib.escape(content_tokens(plan, marker)[HTML_OWN])
        message.html = f"<!DOCTYPE html><html><body>{paragraphs}<p><b>Formatted:</b> {own}</p></body></html>"
    message.attachments = [Attachment(a.filename, a.content, a.content_type) for a in plan.attachments]
    if plan.header:
        message.headers["X-Explored"] = plan.header
    return message


def digest(lines: list[str]) -> str:
    """A short digest of a run's exchanges (as drawn, without the run's tags): same seed, same digest."""
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


@dataclass
class Step:
    """One action of a conversation as the reproduction tells it: ``kind`` (meet, send, unknown, reply,
    open, clock, console) and what it needs, in the explored world's names (never the run's tags)."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return self.kind + " " + " ".join(f"{k}={v!r}" for k, v in sorted(self.fields.items()))
