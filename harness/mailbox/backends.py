"""Mailbox backends: where the suite reads what recipients got.

Owns the ``Mailbox`` interface (what the observer, ``smlite simulate`` and
``smlite target check`` call on a mailbox) and ``open_mailbox(profile)``, which
picks the backend the profile's ``[mailbox]`` table names (its keys are checked in
harness/profile/mailbox_table.py):

* ``kind = "mailpit"`` (the default, and what a profile without ``[mailbox]``
  gets): harness/mailbox/mailpit.py's ``MailpitClient`` on ``[mailpit] api``;
* ``kind = "imap"``: harness/mailbox/imap.py's ``ImapMailbox``, for targets
  that deliver to real test mailboxes (docs/vendors.md, "Observing through
  IMAP"). ``[mailpit]`` is then optional.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from harness.errors import UsageError
from harness.mailbox.types import MatchBy, Message, MessageSummary
from harness.profile.mailbox_table import KINDS, MAILBOX_KEYS, describe, kind_of, validate

__all__ = ["KINDS", "MAILBOX_KEYS", "Mailbox", "describe", "kind_of", "open_mailbox", "validate"]


@runtime_checkable
class Mailbox(Protocol):
    """What the suite needs of a mailbox backend (both backends return harness.mailbox.types' values)."""

    def messages_to(self, address: str, *, by: MatchBy = "envelope") -> list[MessageSummary]:
        """Messages delivered to `address`, oldest first."""

    def message(self, message_id: str) -> Message:
        """The full message with backend id `message_id` (raw headers, text, HTML, attachments)."""

    def wait_for_messages(
        self,
        address: str,
        count: int = 1,
        deadline_s: float = 10,
        predicate: Callable[[Message], bool] | None = None,
        *,
        by: MatchBy = "envelope",
    ) -> list[Message]:
        """At least `count` messages to `address` (matching `predicate`), oldest first; WaitTimeout at the deadline."""

    def watch(
        self,
        address: str,
        step: Callable[[list[MessageSummary]], Any],
        deadline_s: float,
        *,
        by: MatchBy = "envelope",
        tick_s: float = 0.25,
    ) -> Any:
        """``step(messages to address)`` on every change until it returns something; None at the deadline."""

    def close(self) -> None:
        """Release connections (IMAP: log out of the mailboxes still open)."""


def open_mailbox(profile: Any) -> Mailbox:
    """The backend the profile names (no ``[mailbox]``: Mailpit, as before)."""
    if kind_of(profile) == "imap":
        from harness.mailbox.imap import ImapMailbox, ImapSettings

        return ImapMailbox(ImapSettings.from_profile(profile.mailbox))
    from harness.mailbox.mailpit import MailpitClient

    if not profile.mailpit.get("api"):
        raise UsageError(
            "Bad target profile",
            "[mailpit] needs 'api', the sandbox Mailpit's API URL (or observe through IMAP: [mailbox] kind = \"imap\")",
        )
    return MailpitClient(profile.mailpit["api"])
