"""SMTP submission for a driver: TLS (none, STARTTLS, implicit), SMTP AUTH, one submission per message.

Owns ``SmtpSubmission``, the half of the reference driver that speaks SMTP (``smtp_connect``, the
submission ``_smtp`` and the TLS and AUTH settings of ``[target]``), and the polite and impolite ways
to end a connection. A temporary refusal (any 4xx reply, a connection closed mid-exchange) is tried
again as an MTA's queue would (RFC 5321 §4.5.4.1): after 0.5 s, then doubling up to 8 s, until
``[target] smtp_retry_s`` (default 60) has passed since the first try; then the last answer stands. A refused login or a failed TLS handshake is a harness error (the set-up is
wrong), never a conformance failure of the target. Every submission is timed and handed to the
recorder as evidence.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from harness.drivers.base import Exchange, Response
from harness.errors import HarnessError, UsageError


def crlf(raw: bytes) -> bytes:
    """Line ends as SMTP carries them (RFC 5321 §2.3.8): every bare LF or CR becomes CRLF."""
    return re.sub(rb"\r\n|\r|\n", b"\r\n", raw)


def _drop(client: smtplib.SMTP | None) -> None:
    """Close the socket without a word (a QUIT's answer could be taken for the interrupted command's)."""
    if client is not None:
        try:
            client.close()
        except Exception:
            pass


def _quit(client: smtplib.SMTP) -> None:
    """End a finished exchange politely; its answer changes nothing about the submission's."""
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        _drop(client)
    except BaseException:
        _drop(client)
        raise


class SmtpSubmission:
    """SMTP submission as the profile's ``[target]`` says (mixed into a ``Driver``)."""

    profile: Any
    smtp_host: str
    smtp_port: int
    timeout: float

    record: Callable[[Exchange], None]  # the Driver's: hands each exchange to the recorder
    smtp_retry_s: float = 60.0

    def _tls_settings(self, settings: dict[str, Any]) -> None:
        def bad(text: str) -> UsageError:
            return UsageError("Bad target profile", text)

        self.smtp_tls = settings.get("smtp_tls", "none")
        if self.smtp_tls not in ("none", "starttls", "implicit"):
            raise bad(f'target.smtp_tls must be "none", "starttls" or "implicit", got {self.smtp_tls!r}')
        self.tls_verify = settings.get("tls_verify", True)
        if not isinstance(self.tls_verify, bool):
            raise bad(f"target.tls_verify must be true or false, got {self.tls_verify!r}")
        ca_bundle = settings.get("ca_bundle", "")
        if not isinstance(ca_bundle, str):
            raise bad(f"target.ca_bundle must be a path to a PEM file, got {ca_bundle!r}")
        if ca_bundle:
            path = os.path.expanduser(ca_bundle)
            if not os.path.isabs(path) and self.profile.source_path:
                path = os.path.join(os.path.dirname(self.profile.source_path), path)
            if not os.path.isfile(path):
                raise bad(f"target.ca_bundle: no such file {ca_bundle!r}")
            ca_bundle = path
        self.ca_bundle = ca_bundle
        self.smtp_username = settings.get("smtp_username", "")
        if not isinstance(self.smtp_username, str):
            raise bad(f"target.smtp_username must be a string, got {self.smtp_username!r}")
        password, env_name = settings.get("smtp_password"), settings.get("smtp_password_env")
        if password is not None and env_name is not None:
            raise bad("target has both smtp_password and smtp_password_env; keep one")
        if env_name is not None:
            if not isinstance(env_name, str) or not env_name:
                raise bad(f"target.smtp_password_env must name an environment variable, got {env_name!r}")
            password = os.environ.get(env_name)
            if password is None:
                raise bad(f"target.smtp_password_env names {env_name}, which is not set in the environment")
        if password is not None and not isinstance(password, str):
            raise bad("target.smtp_password must be a string")
        if self.smtp_username and not password:
            raise bad("target.smtp_username needs smtp_password or smtp_password_env")
        if password and not self.smtp_username:
            raise bad("target.smtp_password needs smtp_username")
        self._smtp_password = password or ""

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_bundle or None)
        if not self.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def smtp_connect(self) -> smtplib.SMTP:
        """An SMTP client connection, secured and logged in as the profile says.

        Raises ``HarnessError`` when the set-up is wrong (no answer, TLS refused or
        unverifiable, STARTTLS or AUTH not offered, login refused)."""
        where = f"{self.smtp_host}:{self.smtp_port}"
        client: smtplib.SMTP | None = None
        try:
            if self.smtp_tls == "implicit":
                client = smtplib.SMTP_SSL(
                    self.smtp_host, self.smtp_port, timeout=self.timeout, context=self._ssl_context()
                )
            else:
                client = smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout)
            if self.smtp_tls == "starttls":
                _ehlo(client)
                if not client.has_extn("starttls"):
                    raise HarnessError(
                        "Target SMTP does not offer STARTTLS",
                        where,
                        'the profile says smtp_tls = "starttls"; EHLO did not list STARTTLS',
                    )
                client.starttls(context=self._ssl_context())
            if self.smtp_username:
                _ehlo(client)
                if not client.has_extn("auth"):
                    raise HarnessError(
                        "Target SMTP does not offer AUTH",
                        where,
                        "the profile sets smtp_username; EHLO did not list AUTH",
                    )
                try:
                    client.login(self.smtp_username, self._smtp_password)
                except smtplib.SMTPAuthenticationError as exc:
                    if 400 <= exc.smtp_code < 500:
                        raise  # a temporary refusal: below
                    raise HarnessError(
                        "SMTP AUTH refused: check smtp_username / smtp_password in the target profile",
                        f"{where} as {self.smtp_username!r}",
                        f"{exc.smtp_code} {_text(exc.smtp_error)}",
                    ) from None
        except HarnessError:
            if client is not None:
                client.close()
            raise
        except ssl.SSLError as exc:
            if client is not None:
                client.close()
            raise HarnessError("TLS to the target SMTP failed (ca_bundle? smtp_tls?)", where, str(exc)) from None
        except (OSError, smtplib.SMTPException) as exc:
            if client is not None:
                client.close()
            if isinstance(exc, smtplib.SMTPResponseException) and 400 <= exc.smtp_code < 500:
                raise Busy(where, exc.smtp_code, _text(exc.smtp_error)) from None
            raise HarnessError("Target SMTP unreachable", where, str(exc)) from None
        return client

    def _smtp(self, envelope_from: str, recipients: list[str], message: EmailMessage | bytes) -> Response:
        """The submission, tried again while the target refuses it temporarily (4xx) and time is left."""
        deadline = time.monotonic() + self.smtp_retry_s
        pause = 0.5
        while True:
            answer = self._submit_once(envelope_from, recipients, message)
            if not 400 <= answer.status < 500 or time.monotonic() + pause > deadline:
                return answer
            time.sleep(pause)  # an MTA's retry interval, not a wait for mail
            pause = min(pause * 2, 8.0)

    def _submit_once(self, envelope_from: str, recipients: list[str], message: EmailMessage | bytes) -> Response:
        """One submission. Only a reply the server gave to this exchange becomes a Response: an
        interrupt (Ctrl-C, SystemExit) or any other non-SMTP error mid-exchange drops the connection
        without QUIT and propagates, so nothing is recorded. (``with smtplib.SMTP()`` would send QUIT on
        the way out and read the interrupted DATA's pending "250" as QUIT's answer, which smtplib then
        raises as SMTPResponseException(250): a message never confirmed, recorded as accepted.)"""
        if not self.smtp_host:
            raise UsageError("No SMTP submission endpoint", "the profile's [target] has no 'smtp' (host:port)")
        started = time.perf_counter()
        client: smtplib.SMTP | None = None
        try:
            try:
                client = self.smtp_connect()  # secured and logged in as the profile says
            except Busy as busy:  # a 4xx before the message: an answer to try again later, as any 4xx
                code, text = busy.code, busy.text
                self.record(Exchange("smtp", f"connect {busy.where}", code, text, time.perf_counter() - started))
                return Response(code, {}, text)
            if isinstance(message, bytes):
                refused = client.sendmail(envelope_from, recipients, message)
            else:
                refused = client.send_message(message, from_addr=envelope_from, to_addrs=recipients)
            code, text = 250, f"accepted ({len(recipients) - len(refused)} recipients)"
            if refused:
                code, text = 550, f"recipients refused: {refused}"
        except smtplib.SMTPResponseException as exc:
            code, text = exc.smtp_code, _text(exc.smtp_error)
        except smtplib.SMTPRecipientsRefused as exc:
            first = next(iter(exc.recipients.values()))
            code, text = first[0], f"recipients refused: {exc.recipients}"
        except smtplib.SMTPServerDisconnected as exc:
            if client is None:  # no connection at all: the harness could not ask
                raise HarnessError("Target SMTP unreachable", f"{self.smtp_host}:{self.smtp_port}", str(exc)) from None
            _drop(client)  # connected, then the target hung up mid-exchange: its answer, not a harness fault
            code, text = 421, f"the target closed the connection during the exchange ({exc})"
            client = None
        except (OSError, smtplib.SMTPException) as exc:
            _drop(client)
            raise HarnessError("Target SMTP unreachable", f"{self.smtp_host}:{self.smtp_port}", str(exc)) from None
        except BaseException:
            _drop(client)  # interrupted: no QUIT, no answer, no evidence
            raise
        if client is not None:
            _quit(client)
        self.record(
            Exchange(
                "smtp",
                f"MAIL FROM:<{envelope_from}> RCPT TO:{recipients} Subject: {_subject(message)}",
                code,
                text,
                time.perf_counter() - started,
            )
        )
        message_id = _field(message, "Message-ID")
        return Response(code, {"message_id": message_id}, text)


class Busy(HarnessError):
    """The target refused the session for now — a 4xx greeting, EHLO or AUTH answer (too many
    connections, say): a sender tries again later, as after any 4xx."""

    def __init__(self, where: str, code: int, text: str):
        super().__init__("Target SMTP refused the session for now", where, f"{code} {text}")
        self.where, self.code, self.text = where, code, text


def _ehlo(client: smtplib.SMTP) -> None:
    """EHLO; a 4xx answer is a temporary refusal (``Busy``), not a server without extensions."""
    code, reply = client.ehlo()
    if 400 <= code < 500:
        raise smtplib.SMTPResponseException(code, reply)


def _text(reply: bytes | str) -> str:
    """An SMTP server's reply text (smtplib hands bytes, or a str it made itself)."""
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _field(message: EmailMessage | bytes, name: str) -> str | None:
    if isinstance(message, bytes):
        head = message.partition(b"\r\n\r\n")[0].decode("utf-8", "replace")
        found = re.search(rf"(?im)^{name}:[ \t]*(.*(?:\r\n[ \t].*)*)", head)
        return found.group(1).replace("\r\n", "") if found else None
    value = message[name]
    return None if value is None else str(value)


def _subject(message: EmailMessage | bytes) -> str:
    return _field(message, "Subject") or ""
