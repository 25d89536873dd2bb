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

Bounds (docs/contract.md, "Bounded under hostile load"): aiosmtpd's idle timeout
(``smtp_idle_timeout_s``), and in ``GatewaySMTP`` a cap on sessions, a deadline for
each DATA body, a shared slot per body being received (harness/gateway/limits.py)
and AUTH failures slowed, then the session closed.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
import ssl
from typing import cast

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from . import policy
from .limits import BodySlots
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


class SessionLimits:
    """What every SMTP session of one listener shares: the session count and the body slots."""

    def __init__(self, cfg, slots: BodySlots) -> None:
        self.max_sessions = cfg.smtp_max_sessions
        self.data_timeout_s = float(cfg.smtp_data_timeout_s)
        self.auth_max_failures = cfg.smtp_auth_max_failures
        self.auth_delay_s = cfg.smtp_auth_failure_delay_ms / 1000.0
        self.slots = slots
        self.sessions = 0
        self.live: set[GatewaySMTP] = set()

    def idlest(self) -> GatewaySMTP | None:
        """The session silent longest that is not receiving a body: a client with mail to send speaks
        at once, so the one to close is the one that has said nothing for the longest time."""
        idle = [s for s in self.live if s._data_timer is None]
        return min(idle, key=lambda s: s.last_active, default=None)


class GatewaySMTP(SMTP):
    """aiosmtpd's SMTP with the contract's reply texts for its built-in refusals, and the bounds of
    docs/contract.md: a cap on sessions (at the cap the session silent longest is closed with 421 4.4.2
    to make room; when every session is receiving a body, the new one gets 421 4.7.0 and is closed), a deadline for the DATA body (421 4.4.2
    and close), a body slot for each DATA (451 4.3.2 when none is free), AUTH failures slowed and the
    session closed after a few (421 4.7.0)."""

    def __init__(self, *args, limits: SessionLimits, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._counted = self._refused = False
        self._auth_failures = 0
        self._data_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        self.last_active = self.loop.time()
        if self.transport is None:  # a new session (not the TLS layer of STARTTLS)
            if self.limits.sessions >= self.limits.max_sessions:
                idlest = self.limits.idlest()
                if idlest is None:  # every session is busy: this one waits for another day
                    self._refused = True
                    transport.write(b"421 4.7.0 Too many connections; try again later\r\n")
                    transport.close()
                    log.info("refused an SMTP session: %d open, all busy", self.limits.sessions)
                    return
                idlest.evict()  # idle connections must not keep out someone with mail to send
            self.limits.sessions += 1
            self.limits.live.add(self)
            self._counted = True
        super().connection_made(transport)

    def evict(self) -> None:
        """Close this idle session to make room for a new one (at the session cap)."""
        self._uncount()
        if self.transport is not None and not self.transport.is_closing():
            cast(asyncio.Transport, self.transport).write(b"421 4.4.2 Idle too long; closing connection\r\n")
            self.transport.close()

    def _uncount(self) -> None:
        if self._counted:
            self.limits.sessions -= 1
            self.limits.live.discard(self)
            self._counted = False

    def _reset_timeout(self, duration: float | None = None) -> None:
        self.last_active = self.loop.time()  # a command came: the session is not idle
        super()._reset_timeout(duration)

    def connection_lost(self, error) -> None:
        if self._refused:
            return  # never started: nothing of aiosmtpd's to clean up
        self._uncount()
        self.body_received()
        super().connection_lost(error)

    def body_received(self) -> None:
        """The DATA body is all here (or the session is gone): its deadline no longer runs."""
        if self._data_timer is not None:
            self._data_timer.cancel()
            self._data_timer = None

    def _data_too_slow(self) -> None:
        self._data_timer = None
        if self.transport is not None and not self.transport.is_closing():
            log.info("closed an SMTP session: DATA not complete within %ss", self.limits.data_timeout_s)
            cast(asyncio.Transport, self.transport).write(b"421 4.4.2 Message data not received in time\r\n")
            self.transport.close()

    async def smtp_DATA(self, arg: str) -> None:
        counted = self.envelope is not None and bool(self.envelope.rcpt_tos) and not arg
        if counted and not self.limits.slots.take():
            await self.push("451 4.3.2 Too many messages being received at once; try again later")
            return
        if counted:
            self._data_timer = self.loop.call_later(self.limits.data_timeout_s, self._data_too_slow)
        try:
            await super().smtp_DATA(arg)
        finally:
            self.body_received()
            if counted:
                self.limits.slots.give_back()

    async def smtp_AUTH(self, arg: str) -> None:
        await super().smtp_AUTH(arg)
        if not arg or self.session is None or self.session.authenticated:
            return
        self._auth_failures += 1
        if self._auth_failures >= self.limits.auth_max_failures:
            log.info("closed an SMTP session after %d failed AUTH attempts", self._auth_failures)
            await self.push("421 4.7.0 Too many failed authentication attempts; closing connection")
            if self.transport is not None:
                self.transport.close()
            return
        # the next command is read only after this pause, which grows with each failure
        await asyncio.sleep(self.limits.auth_delay_s * self._auth_failures)

    async def push(self, status: str) -> None:  # type: ignore[override]  # aiosmtpd pushes str statuses
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
        server.body_received()  # the body is here: its deadline must not cut the commit short
        loop = asyncio.get_running_loop()
        raw = envelope.original_content or b""
        try:
            return await loop.run_in_executor(
                None, self.gateway.submit_smtp, envelope.mail_from, list(envelope.rcpt_tos), raw
            )
        except StorageError as exc:
            log.error("storage unavailable, refused a message from %s: %s", envelope.mail_from, exc)
            return "451 4.3.0 Storage unavailable, message not accepted; try again later"
        except Exception:
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


async def start(gateway, sock: socket.socket, slots: BodySlots) -> asyncio.AbstractServer:
    """Serve SMTP on an already bound socket, in the running loop."""
    loop = asyncio.get_running_loop()
    limits = SessionLimits(gateway.cfg, slots)
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
        options.update(
            authenticator=Authenticator(accounts),
            auth_required=cfg.smtp_auth_required,
            auth_require_tls=cfg.smtp_tls == "starttls",
        )

    def factory() -> GatewaySMTP:
        return GatewaySMTP(
            handler,
            data_size_limit=cfg.max_message_bytes,
            hostname="smlite-gateway",
            ident="smlite reference gateway",
            loop=loop,
            timeout=float(cfg.smtp_idle_timeout_s),
            limits=limits,
            **options,
        )

    return await loop.create_server(factory, sock=sock, ssl=tls if cfg.smtp_tls == "implicit" else None)
