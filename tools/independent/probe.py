"""Owns: the differential probe: proof that every catalogued behaviour really changes what the gateway does.

The conformance suite misses many deviations; a "missed" deviation only means
something if the deviation is real. This probe drives one running independent
gateway (plus its Mailpit) through a fixed battery that reaches every corner the
catalogue touches — external To/Cc/Bcc recipients, domain case and suffix
tricks, multipart/alternative with an attachment, a long body, a non-ASCII
subject, read-receipt headers, Mimecast for Mac, the MPP, portal open / page /
print / reply / reply-all, internal portal replies, definition changes, a
lower-case definition, an unknown definition, 400 days on the clock — and
returns a normalised fingerprint (random tokens, ids and times replaced).
A behaviour whose fingerprint equals the correct implementation's is a dead
entry in the catalogue.

    python -m tools.independent.probe [NAME]    # prints the fingerprint of NAME (default: correct)
"""

from __future__ import annotations

import json
import re
import smtplib
import sys
import tempfile
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import requests

from harness.mailbox.mailpit import MailpitClient
from tools.independent.matrix import Running

INES, IDA, IDA_CASED = "ines@northwind.test", "ida@northwind.test", "Ida.Case@Northwind.TEST"
ERIK, EVE, CARL, BOB = "erik@example.net", "eve@example.org", "carl@example.net", "bob@example.net"
SUFFIX, MACX = "sam@evil-northwind.test", "max@example.org"
LONG = "Lorem ipsum dolor sit amet. " * 120  # about 3,400 characters
LINK = re.compile(r"https?://[^\s\"'<>]+/(?:sm-portal/m|secure/read)/(nw-[0-9a-f]+)")


def _token_of(link: str) -> str:
    """The portal token in a Northwind link (the link itself when it is not one)."""
    found = LINK.search(link)
    return found.group(1) if found else link


def _normalise(value: Any) -> Any:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = re.sub(r"nw-[0-9a-f]{32,64}", lambda m: f"TOKEN{len(m.group(0)) - 3}", text)
    text = re.sub(r"http://127\.0\.0\.1:[0-9]+", "BASE", text)  # each run's own port
    text = re.sub(r"mpp-[0-9a-f]{32}", "SESSION", text)
    text = re.sub(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:\+00:00)?", "TIME", text)
    text = re.sub(r"<?[0-9]{6,}\.[0-9]+\.[0-9]+@[\w.-]+>?", "MSGID", text)  # make_msgid ids
    text = re.sub(r"\b[0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [+-][0-9]{4}", "DATE", text)
    text = re.sub(r"\"id\": \"[0-9]+\"", '"id": "N"', text)
    text = re.sub(r"boundary=(?:\\?\")?=*[\w.=-]+(?:\\?\")?", "boundary=B", text)  # quoted in JSON too
    return json.loads(text)


class Probe:
    def __init__(self, running: Running):
        self.running = running
        self.http = f"http://127.0.0.1:{running.ports['http_port']}"
        self.smtp_port = running.ports["smtp_port"]
        self.admin = {"Authorization": f"Bearer {running.token}"}
        self.mailpit = MailpitClient(running.mailpit.api_url)
        self.log: list[Any] = []
        self.sessions: dict[str, str] = {}

    # -- actions ------------------------------------------------------------------------------------
    def smtp(
        self,
        sender: str,
        to: list[str],
        cc: list[str],
        bcc: list[str],
        subject: str,
        text: str,
        *,
        definition: str | None,
        app: str = "outlook",
        html: str | None = None,
        attach: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(to), subject
        if cc:
            msg["Cc"] = ", ".join(cc)
        msg["Message-ID"] = make_msgid(domain="northwind.test")
        if definition is not None:
            msg["X-SM-Definition"], msg["X-SM-Application"] = definition, app
        for name, value in (headers or {}).items():
            msg[name] = value
        msg.set_content(text)
        if html:
            msg.add_alternative(html, subtype="html")
        if attach:
            msg.add_attachment(b"%PDF-1.4 probe", maintype="application", subtype="pdf", filename="probe.pdf")
        try:
            with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as client:
                client.send_message(msg, from_addr=sender, to_addrs=to + cc + bcc)
                self.log.append(["smtp", subject, 250])
        except smtplib.SMTPResponseException as exc:
            self.log.append(
                [
                    "smtp",
                    subject,
                    exc.smtp_code,
                    str(exc.smtp_error, errors="replace")[:80]
                    if isinstance(exc.smtp_error, bytes)
                    else exc.smtp_error[:80],
                ]
            )

    def call(
        self, method: str, path: str, *, auth: dict[str, str] | None = None, body: Any = None, keep: bool = True
    ) -> Any:
        answer = requests.request(
            method,
            path if path.startswith("http") else self.http + path,
            headers=auth or {},
            json=body,
            timeout=10,
            allow_redirects=False,
        )
        try:
            data: Any = answer.json()
        except ValueError:
            data = answer.text[:3000]
        if keep:
            self.log.append(
                [method, re.sub(r"nw-[0-9a-f]+", "TOKEN", path.replace(self.http, "")), answer.status_code, data]
            )
        return answer.status_code, data

    def mpp(self, user: str) -> dict[str, str]:
        if user not in self.sessions:
            _, data = self.call("POST", "/admin/api/mpp-sessions", auth=self.admin, body={"address": user}, keep=False)
            self.sessions[user] = data["session"]
        return {"Authorization": f"Bearer {self.sessions[user]}"}

    def barrier(self) -> None:
        """An ordinary message queued last: once it is in Mailpit, everything before it is too."""
        subject = f"probe barrier {time.monotonic_ns()}"
        self.smtp(INES, ["barrier@northwind.test"], [], [], subject, "barrier", definition=None)
        self.log.pop()
        self.mailpit.wait_for_messages("barrier@northwind.test", count=len(self._barriers) + 1, deadline_s=20)
        self._barriers.append(subject)

    _barriers: list[str]

    def mail(self) -> list[dict[str, Any]]:
        """Every delivered message but the barriers, as (envelope recipient, headers, bodies)."""
        out = []
        listing = requests.get(
            f"{self.running.mailpit.api_url}/api/v1/messages", params={"limit": 1000}, timeout=10
        ).json()["messages"]
        for item in listing:
            message = self.mailpit.message(item["ID"])
            if message.subject.startswith("probe barrier"):
                continue
            received = " ".join(message.headers.get("Received", []))
            envelope = re.search(r"for <([^>]+)>", received)
            keep = {
                k: v
                for k, v in message.headers.items()
                if k.lower()
                in (
                    "sensitivity",
                    "disposition-notification-to",
                    "return-receipt-to",
                    "from",
                    "subject",
                    "to",
                    "cc",
                    "content-type",
                )
                or k.lower().startswith("x-")
            }
            out.append(
                {
                    "rcpt": envelope.group(1).lower() if envelope else "?",
                    "headers": keep,
                    "text": message.text,
                    "html": message.html,
                    "attachments": sorted(a.filename for a in (*message.attachments, *message.inline)),
                }
            )
        return sorted(out, key=lambda m: json.dumps(_normalise(m), sort_keys=True))

    def links(self, rcpt: str, subject_part: str) -> list[str]:
        found = []
        for item in self.mail():
            if item["rcpt"] == rcpt.lower() and subject_part in json.dumps(item["headers"].get("Subject", "")):
                found += [m.group(0) for m in LINK.finditer(item["text"] + item["html"])]
        return found

    def whole_message(self) -> None:
        """Real-mail shapes (a mixed with an attachment and an enclosed message, a delivery report, a
        forwarded message): what the internal recipient's copy holds, part by part, and the SM Portal."""
        for subject, body in WHOLE.items():
            head = f"From: {INES}\nTo: {IDA}, {ERIK}\nSubject: {subject}\nX-SM-Definition: All\nMIME-Version: 1.0\n"
            try:
                with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as client:
                    client.sendmail(INES, [IDA, ERIK], (head + body).encode())
                    self.log.append(["smtp", subject, 250])
            except smtplib.SMTPResponseException as exc:
                self.log.append(["smtp", subject, exc.smtp_code])
        self.barrier()
        listing = requests.get(
            f"{self.running.mailpit.api_url}/api/v1/messages", params={"limit": 1000}, timeout=10
        ).json()["messages"]
        copies = []
        for item in listing:
            message = self.mailpit.message(item["ID"])
            if message.subject in WHOLE and f"for <{IDA}>" in " ".join(message.headers.get("Received", [])):
                copies.append(["whole", message.subject, _parts_of(message.raw)])
        self.log += sorted(copies, key=lambda c: json.dumps(c))
        for subject in WHOLE:
            for link in self.links(ERIK, subject)[:1]:
                self.call("GET", f"/sm-portal/api/messages/{_token_of(link)}")

    # -- the battery -----------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self._barriers = []
        html = "<html><body><p>Quarterly <b>figures</b> attached.</p></body></html>"
        receipt = {"Disposition-Notification-To": INES, "Return-Receipt-To": INES}
        self.smtp(
            INES,
            [ERIK, EVE, IDA, IDA_CASED, SUFFIX],
            [CARL],
            [BOB],
            "Prüfung der Zahlen ✓ A1",
            "Quarterly figures, see attachment.\n" + LONG,
            definition="All",
            html=html,
            attach=True,
            headers=receipt,
        )
        self.smtp(
            INES,
            [ERIK, IDA],
            [],
            [],
            "External memo A2",
            "Memo for external eyes.",
            definition="External",
            html=html,
            headers=receipt,
        )
        self.smtp(INES, [MACX, IDA], [], [], "Mac memo A3", "Sent from the Mac.", definition="All", app="mac")
        self.smtp(INES, [IDA], [], [], "Lower-case definition A4", "lower", definition="external")
        self.smtp(INES, [ERIK], [], [], "Unknown definition A5", "unknown", definition="Confidential")
        self.call(
            "POST",
            "/mpp/api/messages",
            auth=self.mpp(INES),
            body={
                "to": [IDA, ERIK],
                "cc": [],
                "subject": "MPP all A6",
                "text": "MPP with All.",
                "definition": "All",
                "headers": receipt,
            },
        )
        self.call(
            "POST",
            "/mpp/api/messages",
            auth=self.mpp(INES),
            body={
                "to": [IDA, EVE],
                "cc": [],
                "subject": "MPP external A7",
                "text": "MPP with External.",
                "definition": "External",
            },
        )
        self.barrier()
        # the SM Portal, as each recipient
        for rcpt, subject in (
            (ERIK, "A1"),
            (EVE, "A1"),
            (CARL, "A1"),
            (BOB, "A1"),
            (ERIK, "A2"),
            (MACX, "A3"),
            (IDA, "A6"),
            (IDA, "A7"),
            (ERIK, "A6"),
            (EVE, "A7"),
            (IDA, "A1"),
            (IDA, "A2"),
        ):
            links = self.links(rcpt, subject)
            self.log.append(["links", rcpt, subject, len(links)])
            for link in links[:1]:
                token = _token_of(link)
                status, data = self.call("GET", f"/sm-portal/api/messages/{token}")
                if isinstance(data, dict):
                    data = {k: (v[:5000] if isinstance(v, str) else v) for k, v in data.items()}
                self.log[-1][3] = data
                self.call("GET", link)  # the HTML page
                self.call("POST", f"/sm-portal/api/messages/{token}/print")
        erik_a1 = self.links(ERIK, "A1")
        if erik_a1:
            token = _token_of(erik_a1[0])
            self.call("POST", f"/sm-portal/api/messages/{token}/reply-all", body={"text": "Reply all from Erik R1"})
            self.call("POST", f"/sm-portal/api/messages/{token}/reply", body={"text": "Reply from Erik R2"})
        erik_a2 = self.links(ERIK, "A2")
        if erik_a2:
            token = _token_of(erik_a2[0])
            self.call("POST", f"/sm-portal/api/messages/{token}/reply", body={"text": "Reply to External R3"})
        for subject in ("A6", "A7"):  # internal replies from the SM Portal (T3 rows 5 and 6)
            links = self.links(IDA, subject)
            if not links:
                _, view = self.call("GET", "/mpp/api/messages", auth=self.mpp(IDA), keep=False)
                links = [
                    i["portal_url"]
                    for i in view.get("items", [])
                    if subject in (i.get("subject") or "") and i.get("portal_url")
                ]
            if links:
                token = _token_of(links[0])
                self.call("POST", f"/sm-portal/api/messages/{token}/reply", body={"text": f"Ida replies {subject}"})
        self.barrier()
        self.whole_message()
        self.call("GET", "/mpp/api/messages", auth=self.mpp(IDA))
        self.call("GET", "/mpp/api/messages", auth=self.mpp("nobody@northwind.test"))
        self.call("GET", "/admin/api/sm-portal/messages?recipient=" + IDA, auth=self.admin)
        # the Administration Console
        self.call("GET", "/admin/api/definitions", auth=self.admin)
        self.call("POST", "/admin/api/definitions", auth=self.admin, body={"name": "Confidential"})
        self.call("PATCH", "/admin/api/definitions/All", auth=self.admin, body={"description": "changed"})
        self.call("PUT", "/admin/api/definitions/External", auth=self.admin, body={"description": "changed"})
        self.call("DELETE", "/admin/api/definitions/External", auth=self.admin)
        self.call("GET", "/admin/api/definitions", auth=self.admin)
        # time: 400 days later (a 90-day expiry and a silent 365-day one both show)
        self.call("POST", "/admin/api/clock", auth=self.admin, body={"advance_days": 400})
        if erik_a1:
            token = _token_of(erik_a1[0])
            status, _ = self.call("GET", f"/sm-portal/api/messages/{token}", keep=False)
            self.log.append(["after 400 days", status])
        self.barrier()
        return _normalise({"log": self.log, "mail": self.mail()})


WHOLE = {
    "Mixed W1": (
        'Content-Type: multipart/mixed; boundary="w1"\n\n--w1\nContent-Type: text/plain\n\nHello W1\n'
        '--w1\nContent-Type: text/plain; name="notes.txt"\n\nnotes\n--w1\nContent-Type: message/rfc822\n\n'
        "Subject: inner\n\ninner text\n--w1\nContent-Type: text/plain\n\nfooter\n--w1--\n"
    ),
    "Report W2": (
        'Content-Type: multipart/report; report-type=delivery-status; boundary="w2"\n\n--w2\n'
        "Content-Type: text/plain\n\nDelivery failed W2\n--w2\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; x@example.net\nAction: failed\n"
        "Status: 5.1.1\n--w2\nContent-Type: text/rfc822-headers\n\nSubject: lost\n--w2--\n"
    ),
    "Forwarded W3": "Content-Type: message/rfc822\n\nSubject: forwarded\n\nforwarded text\n",
}


def _parts_of(raw: bytes) -> list[list[Any]]:
    out: list[list[Any]] = []
    for part in BytesParser(policy=policy.compat32).parsebytes(raw).walk():
        data = part.get_payload(decode=True) if not part.is_multipart() else None
        text = data.decode("latin-1") if isinstance(data, bytes) and data else None
        out.append([part.get_content_type(), part.get_filename(), text])
    return out


def fingerprint(behaviour: str = "") -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nw-probe-") as tmp:
        with Running(Path(tmp), behaviour) as running:
            return Probe(running).run()


if __name__ == "__main__":
    print(json.dumps(fingerprint(sys.argv[1] if len(sys.argv) > 1 else ""), indent=1, ensure_ascii=False))
