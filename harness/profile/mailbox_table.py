"""The profile's optional ``[mailbox]`` table: where the suite reads what recipients got.

Owns ``KINDS``, ``MAILBOX_KEYS``, ``validate`` (each key checked, a ``UsageError`` naming it) and
``kind_of`` / ``describe`` (which backend a profile names, in one line). The backends themselves
live in harness/mailbox/ (``open_mailbox``).
"""

from __future__ import annotations

import re
from typing import Any

from harness.errors import UsageError

KINDS = ("mailpit", "imap")
MAILBOX_KEYS: dict[str, str] = {
    "kind": '"mailpit" (default: the [mailpit] API) or "imap"',
    "host": "imap: the IMAP server's host name",
    "port": "imap: its port (default 993 with tls = implicit, else 143)",
    "tls": 'imap: "implicit" (default, IMAPS), "starttls" or "none"',
    "verify_tls": "imap: check the server's certificate (default true)",
    "ca_file": "imap: a PEM file of CAs to trust instead of the system's",
    "user": "imap: the login of a recipient's mailbox, a pattern of {address}, {local}, {domain} "
    '(default "{address}")',
    "password": "imap: the shared password of every test mailbox (or of master_user)",
    "password_env": "imap: the environment variable holding that password instead",
    "master_user": "imap: log in as this master user, with the mailbox's login as authorization identity",
    "folder": 'imap: the folder delivered mail lands in (default "INBOX")',
}
_USER_FIELD = re.compile(r"\{([^{}]*)\}")


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
            raise _bad(
                where,
                f'mailbox.kind = "mailpit" takes no other keys (got {", ".join(extra)}); '
                "Mailpit's URL is [mailpit] api",
            )
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
        raise _bad(
            where,
            f"mailbox.user must use {{address}}, {{local}} or {{domain}} (and nothing else in braces), got {user!r}",
        )
    if ("password" in value) == ("password_env" in value):
        raise _bad(where, "[mailbox] with kind = \"imap\" needs exactly one of 'password' and 'password_env'")
    if "password_env" in value and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value["password_env"]):
        raise _bad(where, f"mailbox.password_env must be an environment variable name, got {value['password_env']!r}")
    if "folder" in value and not value["folder"].strip():
        raise _bad(where, "mailbox.folder must not be empty")
    return dict(value)


def kind_of(profile: Any) -> str:
    return (getattr(profile, "mailbox", None) or {}).get("kind", "mailpit")


def describe(profile: Any) -> str:
    """Where delivered mail is read, in one line (for messages)."""
    if kind_of(profile) == "imap":
        m = profile.mailbox
        return f"IMAP {m['host']}:{m.get('port') or (993 if m.get('tls', 'implicit') == 'implicit' else 143)}"
    return f"Mailpit {profile.mailpit.get('api')}"
