"""The SMTP submission listener (desktop applications: outlook, mac).

Owns the aiosmtpd handler and the server factory that runs it in the
gateway's own asyncio loop (no Controller thread). It enforces the SMTP part
of docs/contract.md: internal MAIL FROM only, at most ``max_recipients``
RCPT TO, valid mailboxes, the size limit (552 5.3.4) and, at end of DATA, the
checks and commit done by ``service.Gateway.submit_smtp`` (run in a worker
thread so SQLite never blocks the loop); a database that cannot commit gets
451 4.3.0, so the client keeps the message and retries. aiosmtpd's own fixed
replies for the size limit and a DATA without RCPT are rewritten to the
contract's texts.

TLS and AUTH (docs/contract.md, "TLS and SMTP AUTH") use aiosmtpd's own
support: ``tls_context`` + ``require_starttls`` for STARTTLS, an SSL server
socket for implicit TLS, and ``auth_required`` + an ``authenticator`` checking
the configured accounts (AUTH PLAIN and LOGIN, only over TLS when TLS is on).
"""

from __future__ import annotations

import asyncio
import logging
import hmac
import socket
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from . import policy
from .store import StorageError

log = logging.getLogger("smlite.gateway")
# aiosmtpd warns on every connection when AUTH is required without its STARTTLS; that is by design here
logging.getLogger("mail.log").addFilter(lambda record: "auth_require_tls" not in record.getMessage())

TOO_BIG = "552 5.3.4 Message too big"
_REWRITES = {
    "552 Error: Too much mail data": TOO_BIG,
    "552 Error: message size exceeds fixed maximum message size": TOO_BIG,
    "503 Error: need RCPT command": "503 5.5.1 Error: need RCPT command",
}


class GatewaySMTP(SMTP):
    """aiosmtpd's SMTP with the contract's reply texts for its built-in refusals."""

    async def push(self, status: str) -> None:
        status = _REWRITES.get(status, status)
        if status == TOO_BIG:
            sender = getattr(self.envelope, "mail_from", None)
            log.info("refused message from %s: %s", sender, status)
        await super().push(status)


class SubmissionHandler:
    def __init__(self, gateway) -> None:
        self.gateway = gateway
        self.cfg = gateway.cfg

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if not policy.is_valid_mailbox(address) or not self.gateway.is_internal(address):
            shown = "<>" if address in ("", "<>") else f"<{address}>"
            log.info("refused message from %s: not in an internal domain", shown)
            return f"550 5.7.1 Relaying denied: {shown} is not in an internal domain"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if len(envelope.rcpt_tos) >= self.cfg.max_recipients:
            return f"452 4.5.3 Too many recipients (at most {self.cfg.max_recipients})"
        try:
            address = policy.carried_address(address)
        except policy.BadAddress as exc:
            shown = "".join(c if " " <= c <= "~" else "?" for c in address)
            if "SMTPUTF8" in str(exc):
                return f"553 5.6.7 <{shown}>: non-ASCII local part; this gateway does not carry SMTPUTF8"
            return f"553 5.1.3 Invalid mailbox <{shown}>"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        loop = asyncio.get_running_loop()
        raw = envelope.original_content or b""
        try:
            return await loop.run_in_executor(
                None, self.gateway.submit_smtp, envelope.mail_from, list(envelope.rcpt_tos), raw)
        except StorageError as exc:
            log.error("storage unavailable, refused a message from %s: %s", envelope.mail_from, exc)
            return "451 4.3.0 Storage unavailable, message not accepted; try again later"
        except Exception:  # noqa: BLE001 - an SMTP client must get an answer
            log.exception("internal error while accepting a message from %s", envelope.mail_from)
            return "451 4.3.0 Internal error, message not accepted; try again later"


def server_tls_context(cfg) -> ssl.SSLContext:
    """The server side TLS context of ``tls_cert`` / ``tls_key`` (TLS 1.2 at least)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cfg.tls_cert, cfg.tls_key)
    return context


class Authenticator:
    """aiosmtpd authenticator: the configured accounts, compared in constant time."""

    def __init__(self, accounts: dict[str, str]) -> None:
        self.accounts = {user.encode(): password.encode() for user, password in accounts.items()}

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        expected = self.accounts.get(bytes(auth_data.login))
        ok = expected is not None and hmac.compare_digest(expected, bytes(auth_data.password))
        if not ok:
            log.info("refused SMTP AUTH %s for %r", mechanism, bytes(auth_data.login).decode("utf-8", "replace"))
        return AuthResult(success=ok, handled=False)


async def start(gateway, sock: socket.socket) -> asyncio.AbstractServer:
    """Serve SMTP on an already bound socket, in the running loop."""
    loop = asyncio.get_running_loop()
    handler = SubmissionHandler(gateway)
    cfg = gateway.cfg
    tls = server_tls_context(cfg) if cfg.smtp_tls != "none" else None
    accounts = cfg.smtp_accounts()
    options: dict = {}
    if cfg.smtp_tls == "starttls":
        options.update(tls_context=tls, require_starttls=True)
    if accounts:
        # STARTTLS: AUTH only once encrypted. Implicit TLS is encrypted from the first byte, but
        # aiosmtpd only knows about its own STARTTLS, so it must not demand TLS again. Without TLS
        # (a lab set-up) AUTH goes in clear.
        options.update(authenticator=Authenticator(accounts), auth_required=cfg.smtp_auth_required,
                       auth_require_tls=cfg.smtp_tls == "starttls")

    def factory() -> GatewaySMTP:
        return GatewaySMTP(handler, data_size_limit=cfg.max_message_bytes, hostname="smlite-gateway",
                           ident="smlite reference gateway", loop=loop, **options)

    return await loop.create_server(factory, sock=sock, ssl=tls if cfg.smtp_tls == "implicit" else None)
