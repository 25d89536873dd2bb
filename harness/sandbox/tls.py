"""TLS and SMTP AUTH for the sandbox's reference gateway.

Owns ``TlsSetup``: a private CA and a server certificate for the loopback
gateway (made with ``trustme``, so no certificate code is written here),
written as PEM files into the sandbox's run dir, an SMTP account with a random
password, the gateway config keys that switch them on (docs/contract.md, "TLS
and SMTP AUTH"), the client-side ``ssl.SSLContext`` that trusts the CA, and the
profile ``[target]`` keys a driver needs (``smtp_tls``, ``ca_bundle``,
``smtp_username``, ``smtp_password``).
"""

from __future__ import annotations

import secrets
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import UsageError

SMTP_TLS_MODES = ("none", "starttls", "implicit")
SANDBOX_SMTP_USER = "submitter"


@dataclass
class TlsSetup:
    smtp_tls: str = "none"
    auth: bool = False
    http_tls: bool = False
    username: str = SANDBOX_SMTP_USER
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    ca_bundle: Path | None = None
    cert_seconds: float | None = None  # time spent making the CA and certificate

    def __post_init__(self) -> None:
        if self.smtp_tls not in SMTP_TLS_MODES:
            raise UsageError("Bad sandbox TLS mode", f"{self.smtp_tls!r}; known: {', '.join(SMTP_TLS_MODES)}")

    @property
    def any_tls(self) -> bool:
        return self.smtp_tls != "none" or self.http_tls

    @property
    def active(self) -> bool:
        return self.any_tls or self.auth

    def prepare(self, run_dir: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> dict[str, Any]:
        """Write the PEM files (once per run dir); return the gateway config keys."""
        keys: dict[str, Any] = {}
        if self.any_tls:
            tls_dir = run_dir / "tls"
            ca_path, cert_path, key_path = tls_dir / "ca.pem", tls_dir / "server.pem", tls_dir / "server.key"
            if not (ca_path.exists() and cert_path.exists() and key_path.exists()):
                import trustme  # only needed when TLS is asked for

                started = time.monotonic()
                tls_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
                ca = trustme.CA(organization_name="smlite sandbox CA")
                server = ca.issue_cert(*hosts, organization_name="smlite reference gateway")
                ca.cert_pem.write_to_path(str(ca_path))
                server.cert_chain_pems[0].write_to_path(str(cert_path))
                for extra in server.cert_chain_pems[1:]:
                    extra.write_to_path(str(cert_path), append=True)
                server.private_key_pem.write_to_path(str(key_path))
                for pem in (ca_path, cert_path, key_path):  # the key is secret; the rest private like the run dir
                    pem.chmod(0o600)
                self.cert_seconds = time.monotonic() - started
            self.ca_bundle = ca_path
            keys.update(smtp_tls=self.smtp_tls, tls_cert=str(cert_path), tls_key=str(key_path), http_tls=self.http_tls)
        if self.auth:
            keys.update(smtp_auth_required=True, smtp_users={self.username: self.password})
        return keys

    def client_context(self) -> ssl.SSLContext | None:
        """An SSL context trusting the sandbox CA (None without TLS)."""
        if self.ca_bundle is None:
            return None
        return ssl.create_default_context(cafile=str(self.ca_bundle))

    def target_keys(self) -> dict[str, Any]:
        """The profile [target] keys of the reference driver for this set-up."""
        keys: dict[str, Any] = {}
        if self.smtp_tls != "none":
            keys["smtp_tls"] = self.smtp_tls
        if self.ca_bundle is not None:
            keys["ca_bundle"] = str(self.ca_bundle)
        if self.auth:
            keys.update(smtp_username=self.username, smtp_password=self.password)
        return keys
