"""The built-in driver: speaks the HTTP/SMTP contract of docs/contract.md.

It drives the reference gateway, and any vendor implementation of the same
contract. SMTP submission uses smtplib; HTTP uses one requests.Session.
Both go through ``_http``/``_smtp`` (the transport boundary), which time each
exchange and hand it to the recorder as evidence.
"""

from __future__ import annotations

import smtplib
import time
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

import requests

from harness.drivers.base import Driver, Exchange, Outgoing, Response
from harness.errors import HarnessError, UsageError
from harness.target.origins import require_target_origin
from harness.target.profile import TargetProfile, key_names, shown

_ALL = frozenset({"smtp-submission", "mpp", "sm-portal", "admin-console", "clock", "sm-portal-index",
                  "sm-portal-page"})


def _host_port(value: str, what: str) -> tuple[str, int]:
    host, _, port = str(value).rpartition(":")
    if not host or not port.isdigit():
        raise UsageError("Bad target profile", f"target.{what} must read host:port, got {shown(value)}")
    return host, int(port)


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

    #: the [target] keys this driver reads (docs/vendors.md, "The profile")
    settings_keys = {
        "http": "base URL of the HTTP API (MPP, SM Portal, Administration Console, /healthz), e.g. http://host:8080",
        "smtp": "host:port of the SMTP submission endpoint (needed with smtp-submission)",
        "admin_token": "Administration Console bearer token (needed with mpp, admin-console, clock, sm-portal-index)",
        "timeout_s": "seconds to wait for one HTTP or SMTP answer (default 10)",
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
        self.session = requests.Session()
        self._mpp_sessions: dict[str, str] = {}

    # -- transport -----------------------------------------------------------
    def _http(self, method: str, url: str, *, json: Any = None, auth: str | None = None) -> Response:
        if not url.startswith("http"):
            url = self.base_url + url
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        started = time.perf_counter()
        try:
            answer = self.session.request(method, url, json=json, headers=headers, timeout=self.timeout)
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
            client = smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout)
            refused = client.send_message(message, from_addr=envelope_from, to_addrs=recipients)
            code, text = 250, f"accepted ({len(recipients) - len(refused)} recipients)"
            if refused:
                code, text = 550, f"recipients refused: {refused}"
        except smtplib.SMTPResponseException as exc:
            code, text = exc.smtp_code, exc.smtp_error.decode("utf-8", "replace")
        except smtplib.SMTPRecipientsRefused as exc:
            first = next(iter(exc.recipients.values()))
            code, text = first[0], f"recipients refused: {exc.recipients}"
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
            return self._smtp(message.sender, message.to + message.cc, mail)
        if application == "mpp":
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
