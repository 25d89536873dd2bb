"""The values every mailbox backend returns: what the harness knows of a delivered message.

Owns ``Address`` (a str: the bare address; ``.name`` the display name), ``MessageSummary``,
``Message``, ``Attachment``, ``MatchBy`` and ``WaitTimeout`` (a wait for mail that ran out, with
``.wait``, a ``MailboxWait``, saying what was expected and what was there). Mailpit
(harness/mailbox/mailpit.py), the raw-message parser (harness/mailbox/parsing.py) and IMAP
(harness/mailbox/imap.py) all build these; none of them imports another for its types.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from harness.errors import SmliteError

MatchBy = Literal["envelope", "headers"]


class Address(str):
    """An email address: the string is the bare address; ``.name`` the display name.

    A str so that ``"bob@x.example" in message.to`` and ``", ".join(message.to)``
    work as expected.
    """

    name: str

    def __new__(cls, address: str, name: str = "") -> Address:
        obj = super().__new__(cls, address)
        obj.name = name
        return obj

    @property
    def address(self) -> str:
        return str.__str__(self)

    def formatted(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address

    def __repr__(self) -> str:
        return f"Address({self.address!r}, name={self.name!r})"


@dataclass(frozen=True)
class MessageSummary:
    id: str
    message_id: str
    from_: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    subject: str
    created: datetime | None
    size: int
    attachment_count: int

    @property
    def sender(self) -> str:
        return self.from_ or ""

    @property
    def recipients(self) -> list[str]:
        """Every To/Cc/Bcc address, lowercased."""
        return [a.lower() for a in (*self.to, *self.cc, *self.bcc)]


def mailbox_key(address: str) -> str:
    """``address`` as one mailbox for comparison: lowercased, a quoted-string local part unquoted
    (``"Anne Van"@x.example`` and ``anne van@x.example`` are one mailbox, RFC 5321 §4.1.2: Mailpit lists
    the latter, a Received field the former)."""
    local, at, domain = address.strip().lower().rpartition("@")
    if len(local) >= 2 and local.startswith('"') and local.endswith('"'):
        local = re.sub(r"\\(.)", r"\1", local[1:-1])
    return f"{local}{at}{domain}" if at else address.strip().lower()


@dataclass(frozen=True)
class Attachment:
    part_id: str
    filename: str
    content_type: str
    size: int
    content_id: str = ""


@dataclass(frozen=True)
class Message:
    id: str
    message_id: str
    from_: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: str
    date: datetime | None
    text: str
    html: str
    headers: dict[str, list[str]]
    attachments: tuple[Attachment, ...]
    inline: tuple[Attachment, ...]
    size: int
    raw: bytes = field(repr=False)

    @property
    def sender(self) -> str:
        """The From address ("" if none); an Address, so ``.name`` is there too."""
        return self.from_ or ""

    def header(self, name: str) -> list[str]:
        """All values of header `name` (case-insensitive), [] if absent."""
        wanted = name.lower()
        return [v for key, values in self.headers.items() if key.lower() == wanted for v in values]


@dataclass(frozen=True)
class MailboxWait:
    """What a timed-out ``wait_for_messages`` expected and saw."""

    address: str
    expected: int
    deadline_s: float
    by: str
    seen: tuple[MessageSummary, ...]
    matching: int | None = None  # how many of `seen` satisfied the predicate, if any
    predicate: str | None = None
    # by="envelope" only: messages naming the address in To/Cc/Bcc that Mailpit
    # received for another envelope recipient
    delivered_elsewhere: tuple[MessageSummary, ...] = ()


class WaitTimeout(SmliteError, AssertionError):
    """The expected mail did not reach Mailpit in time; ``.wait`` has the details.

    Neither a harness error nor a verdict: the caller decides (a step turns it
    into a ConformanceFailure). An AssertionError so pytest shows it as one.
    """

    def __init__(self, wait: MailboxWait):
        self.wait = wait
        matching = "" if wait.predicate is None else f" matching {wait.predicate}"
        saw = f"saw {len(wait.seen)}"
        if wait.predicate is not None:
            saw += f" ({wait.matching} matching)"
        note = ""
        if wait.delivered_elsewhere:
            note = (
                f"{len(wait.delivered_elsewhere)} more name {wait.address} in To/Cc/Bcc but "
                f"were received for another envelope recipient: "
                f"{_listing(wait.delivered_elsewhere)}"
            )
        super().__init__(
            f"expected {wait.expected} message(s) to {wait.address}{matching} within {wait.deadline_s:g}s, {saw}",
            _listing(wait.seen),
            observed=note,
        )


def _listing(summaries: Sequence[MessageSummary]) -> str:
    return "; ".join(f"{m.id} {m.subject!r}" for m in summaries) or "(none)"


def describe_predicate(predicate: Callable[..., Any]) -> str:
    """A wait's predicate in words: its docstring's first line, else its name."""
    doc = (getattr(predicate, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else getattr(predicate, "__name__", repr(predicate))
