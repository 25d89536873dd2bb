"""Mailbox backends: where the suite reads what recipients got.

Owns the ``Mailbox`` interface (what the steps, ``Observer``, ``smlite
simulate`` and ``smlite target check`` call on a mailbox), the profile's
optional ``[mailbox]`` table (``MAILBOX_KEYS``, ``validate``) and
``open_mailbox(profile)``, which picks the backend the profile names:

* ``kind = "mailpit"`` (the default, and what a profile without ``[mailbox]``
  gets): harness/mailbox/mailpit.py's ``MailpitClient`` on ``[mailpit] api``;
* ``kind = "imap"``: harness/mailbox/imap.py's ``ImapMailbox``, for targets
  that deliver to real test mailboxes (docs/vendors.md, "Observing through
  IMAP"). ``[mailpit]`` is then optional.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from harness.errors import UsageError
from harness.mailbox.mailpit import MatchBy, Message, MessageSummary

KINDS = ("mailpit", "imap")
MAILBOX_KEYS: dict[str, str] = {
    "kind": '"mailpit" (default: the [mailpit] API) or "imap"',
    "host": "imap: the IMAP server's host name",
    "port": "imap: its port (default 993 with tls = implicit, else 143)",
    "tls": 'imap: "implicit" (default, IMAPS), "starttls" or "none"',
    "verify_tls": "imap: check the server's certificate (default true)",
    "ca_file": "imap: a PEM file of CAs to trust instead of the system's",
    "user": 'imap: the login of a recipient\'s mailbox, a pattern of {address}, {local}, {domain} '
            '(default "{address}")',
    "password": "imap: the shared password of every test mailbox (or of master_user)",
    "password_env": "imap: the environment variable holding that password instead",
    "master_user": "imap: log in as this master user, with the mailbox's login as authorization identity",
    "folder": 'imap: the folder delivered mail lands in (default "INBOX")',
}
_USER_FIELD = re.compile(r"\{([^{}]*)\}")


@runtime_checkable
class Mailbox(Protocol):
    """What the suite needs of a mailbox backend (both backends return harness.mailbox.mailpit's types)."""

    def messages_to(self, address: str, *, by: MatchBy = "envelope") -> list[MessageSummary]:
        """Messages delivered to `address`, oldest first."""

    def message(self, message_id: str) -> Message:
        """The full message with backend id `message_id` (raw headers, text, HTML, attachments)."""

    def wait_for_messages(self, address: str, count: int = 1, deadline_s: float = 10,
                          predicate: Callable[[Message], bool] | None = None, *,
                          by: MatchBy = "envelope") -> list[Message]:
        """At least `count` messages to `address` (matching `predicate`), oldest first; WaitTimeout at the deadline."""

    def watch(self, address: str, step: Callable[[list[MessageSummary]], Any], deadline_s: float, *,
              by: MatchBy = "envelope", tick_s: float = 0.25) -> Any:
        """``step(messages to address)`` on every change until it returns something; None at the deadline."""


def _bad(where: str, text: str) -> UsageError:
    return UsageError("Bad target profile", f"{where}: {text} (see docs/vendors.md, 'Observing through IMAP')")


def validate(value: Any, where: str) -> dict[str, Any]:
    """The ``[mailbox]`` table, checked key by key (UsageError naming the key)."""
    if not isinstance(value, dict):
        raise _bad(where, f"[mailbox] must be a table, got {value!r}")
    unknown = sorted(set(value) - set(MAILBOX_KEYS))
    if unknown:
        raise _bad(where, f"[mailbox] has unknown keys {', '.join(unknown)}; known: {', '.join(MAILBOX_KEYS)}")
    kind = value.get("kind", "mailpit")
    if kind not in KINDS:
        raise _bad(where, f"mailbox.kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "mailpit":
        extra = sorted(set(value) - {"kind"})
        if extra:
            raise _bad(where, f"mailbox.kind = \"mailpit\" takes no other keys (got {', '.join(extra)}); "
                       "Mailpit's URL is [mailpit] api")
        return dict(value)
    strings = ("host", "tls", "ca_file", "user", "password", "password_env", "master_user", "folder")
    for key in strings:
        if key in value and not isinstance(value[key], str):
            raise _bad(where, f"mailbox.{key} must be a string, got {value[key]!r}")
    if not value.get("host", "").strip() or re.search(r"[\s/]", value["host"]):
        raise _bad(where, f"mailbox.host must be a host name, got {value.get('host')!r}")
    tls = value.get("tls", "implicit")
    if tls not in ("implicit", "starttls", "none"):
        raise _bad(where, f'mailbox.tls must be "implicit", "starttls" or "none", got {tls!r}')
    port = value.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise _bad(where, f"mailbox.port must be a port number, got {port!r}")
    if "verify_tls" in value and not isinstance(value["verify_tls"], bool):
        raise _bad(where, f"mailbox.verify_tls must be true or false, got {value['verify_tls']!r}")
    user = value.get("user", "{address}")
    fields = _USER_FIELD.findall(user)
    if not fields or any(f not in ("address", "local", "domain") for f in fields):
        raise _bad(where, f"mailbox.user must use {{address}}, {{local}} or {{domain}} (and nothing else in "
                   f"braces), got {user!r}")
    if ("password" in value) == ("password_env" in value):
        raise _bad(where, "[mailbox] with kind = \"imap\" needs exactly one of 'password' and 'password_env'")
    if "password_env" in value and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value["password_env"]):
        raise _bad(where, f"mailbox.password_env must be an environment variable name, got {value['password_env']!r}")
    if "folder" in value and not value["folder"].strip():
        raise _bad(where, "mailbox.folder must not be empty")
    return dict(value)


def kind_of(profile: Any) -> str:
    return (getattr(profile, "mailbox", None) or {}).get("kind", "mailpit")


def open_mailbox(profile: Any) -> Mailbox:
    """The backend the profile names (no ``[mailbox]``: Mailpit, as before)."""
    if kind_of(profile) == "imap":
        from harness.mailbox.imap import ImapMailbox, ImapSettings

        return ImapMailbox(ImapSettings.from_profile(profile.mailbox))
    from harness.mailbox.mailpit import MailpitClient

    if not profile.mailpit.get("api"):
        raise UsageError("Bad target profile", "[mailpit] needs 'api', the sandbox Mailpit's API URL "
                         "(or observe through IMAP: [mailbox] kind = \"imap\")")
    return MailpitClient(profile.mailpit["api"])


def describe(profile: Any) -> str:
    """Where delivered mail is read, in one line (for messages)."""
    if kind_of(profile) == "imap":
        m = profile.mailbox
        return f"IMAP {m['host']}:{m.get('port') or (993 if m.get('tls', 'implicit') == 'implicit' else 143)}"
    return f"Mailpit {profile.mailpit.get('api')}"
