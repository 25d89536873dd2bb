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

import time
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from harness.drivers.base import Driver, Exchange, Outgoing, Response
from harness.drivers.smtp_submission import SmtpSubmission, crlf
from harness.errors import ConformanceFailure, HarnessError, UsageError
from harness.profile.fields import key_names, shown
from harness.profile.origins import require_target_origin
from harness.profile.schema import TargetProfile

_ALL = frozenset(
    {
        "smtp-submission",
        "mpp",
        "sm-portal",
        "admin-console",
        "clock",
        "sm-portal-index",
        "sm-portal-page",
        "sm-portal-whole-message",
    }
)


def _host_port(value: str, what: str) -> tuple[str, int]:
    host, _, port = str(value).rpartition(":")
    if not host or not port.isdigit():
        raise UsageError("Bad target profile", f"target.{what} must read host:port, got {shown(value)}")
    return host, int(port)


def _in_domains(address: str, domains: list[str]) -> bool:
    return address.rpartition("@")[2].lower() in {d.lower() for d in domains}


def _marks(definition: str, application: str) -> bytes:
    """The header fields that say which definition and application a message was sent with."""
    return f"X-SM-Definition: {definition}\r\nX-SM-Application: {application}\r\n".encode()


class ReferenceDriver(SmtpSubmission, Driver):
    supported = _ALL
    sends_bcc = True  # SMTP submission only: the MPP API (docs/openapi.json, MppSend) has no bcc
    sends_raw = True  # SMTP submission only: real mail as written, the definition's header put on top

    #: the [target] keys this driver reads (docs/vendors.md, "The profile")
    settings_keys = {
        "http": "base URL of the HTTP API (MPP, SM Portal, Administration Console, /healthz), e.g. http://host:8080",
        "smtp": "host:port of the SMTP submission endpoint (needed with smtp-submission)",
        "admin_token": "Administration Console bearer token (needed with mpp, admin-console, clock, sm-portal-index)",
        "timeout_s": "seconds to wait for one HTTP or SMTP answer (default 10)",
        "smtp_tls": 'SMTP submission security: "none" (default), "starttls" (e.g. port 587) or "implicit" (465)',
        "smtp_username": "SMTP AUTH user name (AUTH PLAIN or LOGIN); omit for no AUTH",
        "smtp_password": "SMTP AUTH password (masked in reports); or use smtp_password_env",
        "smtp_password_env": "name of the environment variable holding the SMTP AUTH password",
        "ca_bundle": "PEM file of the CA(s) to trust for SMTP TLS and HTTPS (e.g. a private staging CA)",
        "tls_verify": "check TLS certificates (default true; false only for a throw-away lab)",
        "smtp_retry_s": "seconds to keep trying a submission the target refuses temporarily (4xx; default 60, 0: never)",
    }

    def __init__(self, profile: TargetProfile):
        super().__init__(profile)
        settings = profile.target
        unknown = sorted(set(settings) - set(self.settings_keys))
        if unknown:
            raise UsageError(
                "Bad target profile",
                f"[target] has unknown keys {key_names(unknown)} for the "
                f"reference driver; known: {', '.join(self.settings_keys)}",
            )
        needs_token = sorted({"mpp", "admin-console", "clock", "sm-portal-index"} & set(profile.capabilities))
        wanted = {"http": True, "smtp": "smtp-submission" in profile.capabilities, "admin_token": bool(needs_token)}
        for key, needed in wanted.items():
            if needed and not (isinstance(settings.get(key), str) and settings[key].strip()):
                why = f" (capabilities {', '.join(needs_token)} use the admin API)" if key == "admin_token" else ""
                raise UsageError(
                    "Bad target profile",
                    f"[target] needs '{key}' for the reference driver{why}: {self.settings_keys[key]}",
                )
        self.smtp_host, self.smtp_port = _host_port(settings["smtp"], "smtp") if settings.get("smtp") else ("", 0)
        self.base_url = str(settings["http"]).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError("Bad target profile", f"target.http must be an http(s) URL, got {shown(settings['http'])}")
        self.admin_token = str(settings.get("admin_token", ""))
        timeout = settings.get("timeout_s", 10)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise UsageError("Bad target profile", f"target.timeout_s must be a positive number, got {shown(timeout)}")
        self.timeout = float(timeout)
        retry = settings.get("smtp_retry_s", 60)
        if isinstance(retry, bool) or not isinstance(retry, (int, float)) or not 0 <= retry <= 3600:
            raise UsageError(
                "Bad target profile", f"target.smtp_retry_s must be seconds between 0 and 3600, got {shown(retry)}"
            )
        self.smtp_retry_s = float(retry)
        self._tls_settings(settings)
        self.session = requests.Session()
        # passed on every request: a Session's own verify loses to REQUESTS_CA_BUNDLE (requests issue #3829)
        self._verify: str | bool = self.ca_bundle if (self.ca_bundle and self.tls_verify) else self.tls_verify
        self._mpp_sessions: dict[str, str] = {}

    # -- transport -----------------------------------------------------------
    def _http(self, method: str, url: str, *, json: Any = None, auth: str | None = None) -> Response:
        if not url.startswith("http"):
            url = self.base_url + url
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        started = time.perf_counter()
        try:
            answer = self.session.request(
                method, url, json=json, headers=headers, timeout=self.timeout, verify=self._verify
            )
        except requests.exceptions.SSLError as exc:
            raise HarnessError(
                "HTTPS to the target failed (ca_bundle? tls_verify?)", f"{method} {url}", str(exc)
            ) from None
        except requests.RequestException as exc:
            raise HarnessError("Target unreachable", f"{method} {url}", str(exc)) from None
        elapsed = time.perf_counter() - started
        try:
            body = answer.json()
        except ValueError:
            body = None
        self.record(
            Exchange(
                "http",
                f"{method} {urlsplit(url).path}" + (f" {json}" if json else ""),
                answer.status_code,
                answer.text[:2000],
                elapsed,
            )
        )
        return Response(answer.status_code, body, answer.text)

    # -- sending ---------------------------------------------------------------
    def send(self, application: str, definition: str | None, message: Outgoing) -> Response:
        if message.raw is not None:
            if application not in ("outlook", "mac"):
                raise UsageError("Cannot send", "a message as written goes by SMTP submission (outlook, mac)")
            marks = b"" if definition is None else _marks(definition, application)
            return self._smtp(message.sender, message.to + message.cc + list(message.bcc), marks + crlf(message.raw))
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
                mail.add_attachment(
                    attached.content, maintype=maintype, subtype=subtype or "octet-stream", filename=attached.filename
                )
            # Bcc: envelope recipients only (RFC 5322 §3.6.3), never written into the header
            return self._smtp(message.sender, message.to + message.cc + list(message.bcc), mail)
        if application == "mpp":
            if message.bcc:
                raise UsageError(
                    "Cannot send",
                    "the MPP API (docs/openapi.json) has no bcc: send a Bcc by SMTP submission (outlook, mac)",
                )
            body = {
                "to": message.to,
                "cc": message.cc,
                "subject": message.subject,
                "text": message.text,
                "html": message.html,
                "definition": definition,
                "headers": message.headers,
            }
            return self._http("POST", "/mpp/api/messages", json=body, auth=self._mpp_session(message.sender))
        raise UsageError(
            "Cannot send",
            f"application {shown(application)} does not compose new messages "
            "(the SM Portal only replies: use portal_reply)",
        )

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
        return self._http("POST", self._portal_api(link, "/reply-all" if reply_all else "/reply"), json={"text": text})

    def portal_page(self, link: str) -> Response:
        parts = urlsplit(link)
        base = f"{parts.scheme}://{parts.netloc}" if parts.scheme else self.base_url
        return self._http("GET", f"{base}/sm-portal/m/{self._token(link)}")

    def portal_print(self, link: str) -> Response:
        return self._http("POST", self._portal_api(link, "/print"))

    def portal_fetch(self, url: str) -> Response:
        """A download the SM Portal's answer names (``raw_url``, an attachment's ``url``): only on an
        origin the profile declares for the target (a URL anywhere else raises ForeignLink, nothing
        is requested); ``body`` is the bytes."""
        parts = urlsplit(url)
        base = require_target_origin(self.profile, url)
        target = base + parts.path + (f"?{parts.query}" if parts.query else "")
        started = time.perf_counter()
        try:
            answer = self.session.get(target, timeout=self.timeout, verify=self._verify)
        except requests.RequestException as exc:
            raise HarnessError("Target unreachable", f"GET {target}", str(exc)) from None
        self.record(
            Exchange(
                "http",
                f"GET {parts.path}",
                answer.status_code,
                f"{len(answer.content)} bytes, {answer.headers.get('content-type', '')}",
                time.perf_counter() - started,
            )
        )
        return Response(answer.status_code, answer.content, answer.headers.get("content-type", ""))

    def portal_delete(self, link: str) -> Response:
        return self._http("DELETE", self._portal_api(link))

    def portal_index(self, recipient: str) -> list[dict[str, Any]]:
        answer = self._http("GET", f"/admin/api/sm-portal/messages?recipient={quote(recipient)}", auth=self.admin_token)
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
                    f"expected an MPP session, got status {answer.status}",
                    answer.text[:300],
                )
            if answer.status != 201:
                raise HarnessError(
                    "Cannot open an MPP session", f"for {user}: status {answer.status}", answer.text[:300]
                )
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
        method, path = {
            "create": ("POST", "/admin/api/definitions"),
            "change": ("PATCH", f"/admin/api/definitions/{name}"),
            "delete": ("DELETE", f"/admin/api/definitions/{name}"),
        }[action]
        return self._http(method, path, json=body or None, auth=self.admin_token)

    def advance_clock(self, days: int) -> Response:
        return self._http("POST", "/admin/api/clock", json={"advance_days": days}, auth=self.admin_token)

    def describe(self) -> dict[str, Any]:
        answer = self._http("GET", "/healthz")
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise HarnessError("Target health check failed", f"GET {self.base_url}/healthz", answer.text[:300])
        return {
            "name": answer.body.get("name", self.profile.name),
            "version": answer.body.get("version", self.profile.version),
        }

    def close(self) -> None:
        self.session.close()


def _named(address: str, names: dict[str, str]) -> Address | str:
    """``address`` with its display name, when the message gives one."""
    if address not in names:
        return address
    return Address(display_name=names[address], addr_spec=address)  # a quoted local part stays quoted once
