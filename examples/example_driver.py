"""A worked example of a vendor driver: copy it, keep the method signatures, change the insides.

``ExampleDriver`` drives a Secure Messaging Lite target using nothing but the
standard library (``urllib.request``, ``smtplib``, ``email``). Here the target
happens to be the reference gateway, so the calls below are its HTTP contract
(docs/contract.md); in your copy each method calls *your* product instead:
your submission endpoint, your portal's API, your admin API. The suite never
sees how: it only calls these methods and reads what the recipients got in
the sandbox's Mailpit.

Use it from a profile (examples/example-driver-profile.toml)::

    driver = "examples.example_driver:ExampleDriver"   # run from the repository root
    # or, with this file next to your profile:  driver = "example_driver:ExampleDriver"

    [target]                 # this driver's own settings: any keys you like
    api_url = "http://127.0.0.1:8080"
    smtp_host = "127.0.0.1"
    smtp_port = 2525
    api_key = "..."          # keys containing token/key/secret/password are masked in reports

Rules of the game (docs/vendors.md, "Writing a driver"):

* declare ``supported``: the capabilities you implement; the profile may
  declare fewer, and scenarios needing an undeclared one are "not applicable";
* a refusal by the target is a ``Response`` with its status and text, never
  an exception; an exception means "the harness could not ask" (harness error);
* hand every exchange to ``self.record`` so it becomes evidence in the report.
"""

from __future__ import annotations

import json
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from harness.drivers import Driver, Exchange, Outgoing, Response
from harness.errors import HarnessError, UsageError
from harness.profile import TargetProfile


class ExampleDriver(Driver):
    supported = frozenset({"smtp-submission", "mpp", "sm-portal", "admin-console", "clock", "sm-portal-index"})
    sends_bcc = True  # optional (docs/vendors.md): Bcc recipients go in the SMTP envelope, in no header
    settings_keys = {
        "api_url": "base URL of the target's HTTP API",
        "smtp_host": "host of the SMTP submission endpoint",
        "smtp_port": "port of the SMTP submission endpoint",
        "api_key": "administration API key",
        "timeout_s": "seconds to wait for one answer (default 10)",
    }

    def __init__(self, profile: TargetProfile):
        super().__init__(profile)
        settings = profile.target
        missing = [key for key in ("api_url", "smtp_host", "smtp_port", "api_key") if key not in settings]
        if missing:  # a UsageError is printed as one line, exit code 2
            raise UsageError("Bad target profile", f"[target] needs {', '.join(missing)} for ExampleDriver")
        self.api_url = str(settings["api_url"]).rstrip("/")
        self.smtp_host, self.smtp_port = str(settings["smtp_host"]), int(settings["smtp_port"])
        self.api_key = str(settings["api_key"])
        self.timeout = float(settings.get("timeout_s", 10))
        self._sessions: dict[str, str] = {}  # MPP user -> session token

    # -- transport: the only places that touch the network --------------------
    def _call(self, method: str, path_or_url: str, body: Any = None, token: str | None = None) -> Response:
        url = path_or_url if path_or_url.startswith("http") else self.api_url + path_or_url
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as exc:  # 4xx/5xx: an answer, not a failure of the harness
            status, raw = exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            raise HarnessError("Target unreachable", f"{method} {url}", str(getattr(exc, "reason", exc))) from None
        text = raw.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        self.record(
            Exchange(
                "http",
                f"{method} {urllib.parse.urlsplit(url).path}",
                status,
                text[:2000],
                time.perf_counter() - started,
            )
        )
        return Response(status, parsed, text)

    def _submit(self, mail: EmailMessage, sender: str, recipients: list[str]) -> Response:
        started = time.perf_counter()
        try:
            with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout) as smtp:
                smtp.send_message(mail, from_addr=sender, to_addrs=recipients)
            status, text = 250, "accepted"
        except smtplib.SMTPRecipientsRefused as exc:
            status, message = next(iter(exc.recipients.values()))
            text = message.decode("utf-8", "replace")
        except smtplib.SMTPResponseException as exc:  # the target refused: its code and words
            status, text = exc.smtp_code, exc.smtp_error.decode("utf-8", "replace")
        except (OSError, smtplib.SMTPException) as exc:
            raise HarnessError("Target SMTP unreachable", f"{self.smtp_host}:{self.smtp_port}", str(exc)) from None
        self.record(
            Exchange("smtp", f"MAIL FROM:<{sender}> RCPT TO:{recipients}", status, text, time.perf_counter() - started)
        )
        return Response(status, {"message_id": mail["Message-ID"]}, text)

    # -- sending ------------------------------------------------------------------
    def send(self, application: str, definition: str | None, message: Outgoing) -> Response:
        if application in ("outlook", "mac") or definition is None:
            # Your product: how do Mimecast for Outlook / for Mac mark a message secure? Here, two headers.
            mail = EmailMessage()
            mail["From"], mail["To"], mail["Subject"] = message.sender, ", ".join(message.to), message.subject
            if message.cc:
                mail["Cc"] = ", ".join(message.cc)
            mail["Message-ID"] = make_msgid(domain=message.sender.rpartition("@")[2])
            if definition is not None:
                mail["X-SM-Definition"], mail["X-SM-Application"] = definition, application
            for name, value in message.headers.items():
                mail[name] = value
            mail.set_content(message.text)
            if message.html:
                mail.add_alternative(message.html, subtype="html")
            return self._submit(mail, message.sender, message.to + message.cc + list(message.bcc))
        if application == "mpp":
            body = {
                "to": message.to,
                "cc": message.cc,
                "subject": message.subject,
                "text": message.text,
                "html": message.html,
                "definition": definition,
                "headers": message.headers,
            }
            return self._call("POST", "/mpp/api/messages", body, token=self._session(message.sender))
        raise UsageError("Cannot send", f"{application!r} does not compose new messages")

    # -- SM Portal: a link is whatever your notifications carry -------------------
    def _portal(self, link: str, suffix: str = "") -> str:
        token = link.rstrip("/").rsplit("/", 1)[-1]
        return f"{self.api_url}/sm-portal/api/messages/{urllib.parse.quote(token)}{suffix}"

    def portal_open(self, link: str) -> Response:
        return self._call("GET", self._portal(link))

    def portal_reply(self, link: str, text: str, reply_all: bool = False) -> Response:
        return self._call("POST", self._portal(link, "/reply-all" if reply_all else "/reply"), {"text": text})

    def portal_print(self, link: str) -> Response:
        return self._call("POST", self._portal(link, "/print"))

    def portal_index(self, recipient: str) -> list[dict[str, Any]]:
        answer = self._call(
            "GET", "/admin/api/sm-portal/messages?recipient=" + urllib.parse.quote(recipient), token=self.api_key
        )
        if answer.status != 200:
            raise HarnessError("SM Portal index failed", f"status {answer.status}", answer.text[:300])
        return list(answer.body["items"])

    # -- MPP ------------------------------------------------------------------------
    def _session(self, user: str) -> str:
        # Your product: log the user into their personal portal (test account, SSO bypass, API session...).
        if user not in self._sessions:
            answer = self._call("POST", "/admin/api/mpp-sessions", {"address": user}, token=self.api_key)
            if answer.status != 201:
                raise HarnessError(
                    "Cannot open an MPP session", f"for {user}: status {answer.status}", answer.text[:300]
                )
            self._sessions[user] = answer.body["session"]
        return self._sessions[user]

    def mpp_view(self, user: str) -> list[dict[str, Any]]:
        answer = self._call("GET", "/mpp/api/messages", token=self._session(user))
        if answer.status != 200:
            raise HarnessError("MPP view failed", f"for {user}: status {answer.status}", answer.text[:300])
        # Map your items onto the keys the suite reads: id, subject, text, html, headers, received_at, portal_url.
        return [
            {key: item.get(key) for key in ("id", "subject", "text", "html", "headers", "received_at", "portal_url")}
            for item in answer.body["items"]
        ]

    # -- Administration Console ------------------------------------------------------
    def list_definitions(self) -> Response:
        return self._call("GET", "/admin/api/definitions", token=self.api_key)

    def change_definition(self, action: str, name: str, body: dict[str, Any]) -> Response:
        quoted = urllib.parse.quote(name)
        method, path = {
            "create": ("POST", "/admin/api/definitions"),
            "change": ("PATCH", f"/admin/api/definitions/{quoted}"),
            "delete": ("DELETE", f"/admin/api/definitions/{quoted}"),
        }[action]
        return self._call(method, path, body or None, token=self.api_key)

    # -- clock ------------------------------------------------------------------------
    def advance_clock(self, days: int) -> Response:
        return self._call("POST", "/admin/api/clock", {"advance_days": days}, token=self.api_key)

    # -- who is there -------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        answer = self._call("GET", "/healthz")
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise HarnessError("Target health check failed", f"GET {self.api_url}/healthz", answer.text[:300])
        return {
            "name": answer.body.get("name", self.profile.name),
            "version": answer.body.get("version", self.profile.version),
        }
