"""The built-in driver: speaks the HTTP/SMTP contract of docs/contract.md.

It drives the reference gateway, and any vendor implementation of the same
contract. SMTP submission uses smtplib; HTTP uses one requests.Session.

Optional [target] keys (docs/vendors.md, "TLS and SMTP AUTH"): ``smtp_tls``
("none", "starttls" or "implicit"), ``smtp_username`` with ``smtp_password``
or ``smtp_password_env`` (AUTH PLAIN/LOGIN, smtplib picks what the server
offers), ``ca_bundle`` (PEM file trusted for SMTP TLS and HTTPS) and
``tls_verify`` (false turns certificate checks off, for a throw-away lab
only). Without them the driver speaks plain SMTP without AUTH, as before. A
refused login or a failed TLS handshake is a harness error (the set-up is
wrong), never a conformance failure of the target.
Both go through ``_http``/``_smtp`` (the transport boundary), which time each
exchange and hand it to the recorder as evidence.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import time
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

import requests

from harness.drivers.base import Driver, Exchange, Outgoing, Response
from harness.errors import ConformanceFailure, HarnessError, UsageError
from harness.target.origins import require_target_origin
from harness.target.profile import TargetProfile, key_names, shown

_ALL = frozenset({"smtp-submission", "mpp", "sm-portal", "admin-console", "clock", "sm-portal-index",
                  "sm-portal-page"})


def _host_port(value: str, what: str) -> tuple[str, int]:
    host, _, port = str(value).rpartition(":")
    if not host or not port.isdigit():
        raise UsageError("Bad target profile", f"target.{what} must read host:port, got {shown(value)}")
    return host, int(port)


def _in_domains(address: str, domains: list[str]) -> bool:
    return address.rpartition("@")[2].lower() in {d.lower() for d in domains}


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


class ReferenceDriver(Driver):
    supported = _ALL
    sends_bcc = True  # SMTP submission only: the MPP API (docs/openapi.json, MppSend) has no bcc

    #: the [target] keys this driver reads (docs/vendors.md, "The profile")
    settings_keys = {
        "http": "base URL of the HTTP API (MPP, SM Portal, Administration Console, /healthz), e.g. http://host:8080",
        "smtp": "host:port of the SMTP submission endpoint (needed with smtp-submission)",
        "admin_token": "Administration Console bearer token (needed with mpp, admin-console, clock, sm-portal-index)",
        "timeout_s": "seconds to wait for one HTTP or SMTP answer (default 10)",
        "smtp_tls": "SMTP submission security: \"none\" (default), \"starttls\" (e.g. port 587) or \"implicit\" (465)",
        "smtp_username": "SMTP AUTH user name (AUTH PLAIN or LOGIN); omit for no AUTH",
        "smtp_password": "SMTP AUTH password (masked in reports); or use smtp_password_env",
        "smtp_password_env": "name of the environment variable holding the SMTP AUTH password",
        "ca_bundle": "PEM file of the CA(s) to trust for SMTP TLS and HTTPS (e.g. a private staging CA)",
        "tls_verify": "check TLS certificates (default true; false only for a throw-away lab)",
    }

    def __init__(self, profile: TargetProfile):
        super().__init__(profile)
        settings = profile.target
        unknown = sorted(set(settings) - set(self.settings_keys))
        if unknown:
            raise UsageError("Bad target profile", f"[target] has unknown keys {key_names(unknown)} for the "
                             f"reference driver; known: {', '.join(self.settings_keys)}")
        needs_token = sorted({"mpp", "admin-console", "clock", "sm-portal-index"} & set(profile.capabilities))
        wanted = {"http": True, "smtp": "smtp-submission" in profile.capabilities, "admin_token": bool(needs_token)}
        for key, needed in wanted.items():
            if needed and not (isinstance(settings.get(key), str) and settings[key].strip()):
                why = f" (capabilities {', '.join(needs_token)} use the admin API)" if key == "admin_token" else ""
                raise UsageError("Bad target profile", f"[target] needs '{key}' for the reference driver{why}: "
                                 f"{self.settings_keys[key]}")
        self.smtp_host, self.smtp_port = _host_port(settings["smtp"], "smtp") if settings.get("smtp") else ("", 0)
        self.base_url = str(settings["http"]).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError("Bad target profile", f"target.http must be an http(s) URL, got {shown(settings['http'])}")
        self.admin_token = str(settings.get("admin_token", ""))
        timeout = settings.get("timeout_s", 10)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise UsageError("Bad target profile", f"target.timeout_s must be a positive number, got {shown(timeout)}")
        self.timeout = float(timeout)
        self._tls_settings(settings)
        self.session = requests.Session()
        # passed on every request: a Session's own verify loses to REQUESTS_CA_BUNDLE (requests issue #3829)
        self._verify: str | bool = self.ca_bundle if (self.ca_bundle and self.tls_verify) else self.tls_verify
        self._mpp_sessions: dict[str, str] = {}

    def _tls_settings(self, settings: dict[str, Any]) -> None:
        def bad(text: str) -> UsageError:
            return UsageError("Bad target profile", text)

        self.smtp_tls = settings.get("smtp_tls", "none")
        if self.smtp_tls not in ("none", "starttls", "implicit"):
            raise bad(f"target.smtp_tls must be \"none\", \"starttls\" or \"implicit\", got {self.smtp_tls!r}")
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
                client = smtplib.SMTP_SSL(self.smtp_host, self.smtp_port, timeout=self.timeout,
                                          context=self._ssl_context())
            else:
                client = smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout)
            if self.smtp_tls == "starttls":
                client.ehlo()
                if not client.has_extn("starttls"):
                    raise HarnessError("Target SMTP does not offer STARTTLS", where,
                                       "the profile says smtp_tls = \"starttls\"; EHLO did not list STARTTLS")
                client.starttls(context=self._ssl_context())
            if self.smtp_username:
                client.ehlo()
                if not client.has_extn("auth"):
                    raise HarnessError("Target SMTP does not offer AUTH", where,
                                       "the profile sets smtp_username; EHLO did not list AUTH")
                try:
                    client.login(self.smtp_username, self._smtp_password)
                except smtplib.SMTPAuthenticationError as exc:
                    raise HarnessError(
                        "SMTP AUTH refused: check smtp_username / smtp_password in the target profile",
                        f"{where} as {self.smtp_username!r}",
                        f"{exc.smtp_code} {exc.smtp_error.decode('utf-8', 'replace')}") from None
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
            raise HarnessError("Target SMTP unreachable", where, str(exc)) from None
        return client

    # -- transport -----------------------------------------------------------
    def _http(self, method: str, url: str, *, json: Any = None, auth: str | None = None) -> Response:
        if not url.startswith("http"):
            url = self.base_url + url
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        started = time.perf_counter()
        try:
            answer = self.session.request(method, url, json=json, headers=headers, timeout=self.timeout,
                                          verify=self._verify)
        except requests.exceptions.SSLError as exc:
            raise HarnessError("HTTPS to the target failed (ca_bundle? tls_verify?)", f"{method} {url}",
                               str(exc)) from None
        except requests.RequestException as exc:
            raise HarnessError("Target unreachable", f"{method} {url}", str(exc)) from None
        elapsed = time.perf_counter() - started
        try:
            body = answer.json()
        except ValueError:
            body = None
        self.record(Exchange("http", f"{method} {urlsplit(url).path}" + (f" {json}" if json else ""),
                             answer.status_code, answer.text[:2000], elapsed))
        return Response(answer.status_code, body, answer.text)

    def _smtp(self, envelope_from: str, recipients: list[str], message: EmailMessage) -> Response:
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
            client = self.smtp_connect()  # secured and logged in as the profile says
            refused = client.send_message(message, from_addr=envelope_from, to_addrs=recipients)
            code, text = 250, f"accepted ({len(recipients) - len(refused)} recipients)"
            if refused:
                code, text = 550, f"recipients refused: {refused}"
        except smtplib.SMTPResponseException as exc:
            code, text = exc.smtp_code, exc.smtp_error.decode("utf-8", "replace")
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
        self.record(Exchange("smtp", f"MAIL FROM:<{envelope_from}> RCPT TO:{recipients} "
                             f"Subject: {message['Subject']}", code, text, time.perf_counter() - started))
        return Response(code, {"message_id": message["Message-ID"]}, text)

    # -- sending ---------------------------------------------------------------
    def send(self, application: str, definition: str | None, message: Outgoing) -> Response:
        if application in ("outlook", "mac") or definition is None:
            mail = EmailMessage()
            mail["From"] = _named(message.sender, message.names)
            mail["To"] = [_named(a, message.names) for a in message.to]
            if message.cc:
                mail["Cc"] = [_named(a, message.names) for a in message.cc]
            mail["Subject"] = message.subject
            mail["Message-ID"] = make_msgid(domain=message.sender.rpartition("@")[2] or None)
            if definition is not None:
                mail["X-SM-Definition"] = definition
                mail["X-SM-Application"] = application
            for name, value in message.headers.items():
                mail[name] = value
            mail.set_content(message.text)
            if message.html:
                mail.add_alternative(message.html, subtype="html")
            for attached in message.attachments:
                maintype, _, subtype = attached.content_type.partition("/")
                mail.add_attachment(attached.content, maintype=maintype, subtype=subtype or "octet-stream",
                                    filename=attached.filename)
            # Bcc: envelope recipients only (RFC 5322 §3.6.3), never written into the header
            return self._smtp(message.sender, message.to + message.cc + list(message.bcc), mail)
        if application == "mpp":
            if message.bcc:
                raise UsageError("Cannot send", "the MPP API (docs/openapi.json) has no bcc: send a Bcc by "
                                 "SMTP submission (outlook, mac)")
            body = {"to": message.to, "cc": message.cc, "subject": message.subject, "text": message.text,
                    "html": message.html, "definition": definition, "headers": message.headers}
            return self._http("POST", "/mpp/api/messages", json=body, auth=self._mpp_session(message.sender))
        raise UsageError("Cannot send", f"application {shown(application)} does not compose new messages "
                         "(the SM Portal only replies: use portal_reply)")

    # -- SM Portal -------------------------------------------------------------
    @staticmethod
    def _token(link: str) -> str:
        return urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1]

    def _portal_api(self, link: str, suffix: str = "") -> str:
        """The API URL behind a portal link, on the origin the profile declares for it (never the
        link's own host): a link anywhere else raises ForeignLink and nothing is requested."""
        base = require_target_origin(self.profile, link)
        return f"{base}/sm-portal/api/messages/{self._token(link)}{suffix}"

    def portal_open(self, link: str) -> Response:
        return self._http("GET", self._portal_api(link))

    def portal_reply(self, link: str, text: str, reply_all: bool = False) -> Response:
        return self._http("POST", self._portal_api(link, "/reply-all" if reply_all else "/reply"),
                          json={"text": text})

    def portal_page(self, link: str) -> Response:
        parts = urlsplit(link)
        base = f"{parts.scheme}://{parts.netloc}" if parts.scheme else self.base_url
        return self._http("GET", f"{base}/sm-portal/m/{self._token(link)}")

    def portal_print(self, link: str) -> Response:
        return self._http("POST", self._portal_api(link, "/print"))

    def portal_delete(self, link: str) -> Response:
        return self._http("DELETE", self._portal_api(link))

    def portal_index(self, recipient: str) -> list[dict[str, Any]]:
        answer = self._http("GET", f"/admin/api/sm-portal/messages?recipient={requests.utils.quote(recipient)}",
                            auth=self.admin_token)
        if answer.status != 200:
            raise HarnessError("SM Portal index failed", f"status {answer.status}", answer.text[:300])
        return list(answer.body.get("items", []))

    # -- MPP -------------------------------------------------------------------
    def _mpp_session(self, user: str) -> str:
        if user not in self._mpp_sessions:
            answer = self._http("POST", "/admin/api/mpp-sessions", json={"address": user}, auth=self.admin_token)
            if answer.status == 403 and _in_domains(user, self.profile.internal_domains):
                # docs/contract.md: 403 no_mpp_for_external — the target counts this internal user external
                raise ConformanceFailure(
                    "The target has no MPP for an internal user",
                    f"{user} is in an internal domain of the profile (domains are case-insensitive); "
                    f"expected an MPP session, got status {answer.status}", answer.text[:300])
            if answer.status != 201:
                raise HarnessError("Cannot open an MPP session", f"for {user}: status {answer.status}",
                                   answer.text[:300])
            self._mpp_sessions[user] = answer.body["session"]
        return self._mpp_sessions[user]

    def mpp_view(self, user: str) -> list[dict[str, Any]]:
        answer = self._http("GET", "/mpp/api/messages", auth=self._mpp_session(user))
        if answer.status != 200:
            raise HarnessError("MPP view failed", f"for {user}: status {answer.status}", answer.text[:300])
        return list(answer.body.get("items", []))

    # -- Administration Console --------------------------------------------------
    def list_definitions(self) -> Response:
        return self._http("GET", "/admin/api/definitions", auth=self.admin_token)

    def change_definition(self, action: str, name: str, body: dict[str, Any]) -> Response:
        method, path = {"create": ("POST", "/admin/api/definitions"),
                        "change": ("PATCH", f"/admin/api/definitions/{name}"),
                        "delete": ("DELETE", f"/admin/api/definitions/{name}")}[action]
        return self._http(method, path, json=body or None, auth=self.admin_token)

    def advance_clock(self, days: int) -> Response:
        return self._http("POST", "/admin/api/clock", json={"advance_days": days}, auth=self.admin_token)

    def describe(self) -> dict[str, Any]:
        answer = self._http("GET", "/healthz")
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise HarnessError("Target health check failed", f"GET {self.base_url}/healthz", answer.text[:300])
        return {"name": answer.body.get("name", self.profile.name),
                "version": answer.body.get("version", self.profile.version)}

    def close(self) -> None:
        self.session.close()


def _named(address: str, names: dict[str, str]) -> Address | str:
    """``address`` with its display name, when the message gives one."""
    if address not in names:
        return address
    local, _, domain = address.rpartition("@")
    return Address(display_name=names[address], username=local, domain=domain)
