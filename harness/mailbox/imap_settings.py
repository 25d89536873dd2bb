"""How the suite logs in to a recipient's IMAP mailbox: the profile's ``[mailbox]`` table, resolved.

Owns ``ImapSettings`` (host, port, TLS, the login pattern, the shared or master password, the folder)
and ``login_for(address)``; ``password_env`` is read from the environment when the settings are made.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError

TLS_MODES = ("implicit", "starttls", "none")
USER_FIELDS = ("address", "local", "domain")


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    tls: str = "implicit"
    user: str = "{address}"
    password: str = ""
    master_user: str = ""
    folder: str = "INBOX"
    verify_tls: bool = True
    ca_file: str = ""
    timeout_s: float = 10.0

    @classmethod
    def from_profile(cls, table: Mapping[str, Any], env: Mapping[str, str] | None = None) -> ImapSettings:
        """From a validated ``[mailbox]`` table (harness/mailbox/backends.py); resolves ``password_env`` now."""
        env = os.environ if env is None else env
        password = table.get("password", "")
        if table.get("password_env"):
            name = table["password_env"]
            if name not in env:
                raise HarnessError(
                    "IMAP password not set", f"the profile's mailbox.password_env names ${name}, which is not set"
                )
            password = env[name]
        tls = table.get("tls", "implicit")
        return cls(
            host=table["host"],
            port=int(table.get("port") or (993 if tls == "implicit" else 143)),
            tls=tls,
            user=table.get("user", "{address}"),
            password=password,
            master_user=table.get("master_user", ""),
            folder=table.get("folder", "INBOX"),
            verify_tls=bool(table.get("verify_tls", True)),
            ca_file=table.get("ca_file", ""),
        )

    def login_for(self, address: str) -> str:
        local, _, domain = address.strip().lower().rpartition("@")
        return self.user.format(address=address.strip().lower(), local=local, domain=domain)
