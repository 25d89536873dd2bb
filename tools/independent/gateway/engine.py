"""Owns: the Secure Messaging Lite policy and mail composition of the independent gateway.

Per recipient, from (application, definition, recipient internal?): what lands in
the Mail Box (notification / banner / plain), in the MPP view, and whether the
message goes into the SM Portal — the source's tables, applied per recipient.
Also builds notifications, emails with banner, portal replies, and (for the
read-receipt deviations only) MDNs. Every `cfg.on("...")` is one entry of
tools/independent/behaviours.py.
"""

from __future__ import annotations

import copy
import html as html_lib
import json
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy as email_policy
from email.header import Header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from typing import Any

from tools.independent.gateway import mime
from tools.independent.gateway.banner import Banner, displayed, edit_header, with_banner
from tools.independent.gateway.config import Config
from tools.independent.gateway.store import Store, dumps

DEFINITIONS = ("All", "External")
APPLICATIONS = {
    "outlook": "outlook",
    "mimecast for outlook": "outlook",
    "microsoft office": "outlook",
    "mac": "mac",
    "mimecast for mac": "mac",
}
ATTRIBUTES = [
    ("Allow External Recipients to Print", "False"),
    ("Allow External Recipients to Reply", "True"),
    ("Allow External Recipients to Reply All", "True"),
    ("Expire Secure Messages for External Recipients After", "Never Expire"),
    ("Send Read Receipt", "No"),
]
DESCRIPTIONS = {
    "All": "Secure Messaging is applied to messages for all recipients (legacy from CCM).",
    "External": "Secure Messaging is applied only to external recipients.",
}
NOTIFICATION, BANNER, PLAIN = "notification", "email_with_banner", "plain"
ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


class Refused(Exception):
    """A message the gateway will not take: SMTP code + enhanced text, HTTP status + error code."""

    def __init__(self, smtp: str, http_status: int, code: str, message: str):
        super().__init__(message)
        self.smtp, self.http_status, self.code, self.message = smtp, http_status, code, message


@dataclass
class Decision:
    mailbox: str
    mpp: str | None  # None: no MPP (external recipient)
    portal: bool


def canonical_definition(value: str, cfg: Config) -> str | None:
    if cfg.on("definition-name-case-sensitive"):
        return value.strip() if value.strip() in DEFINITIONS else None
    for name in DEFINITIONS:
        if value.strip().lower() == name.lower():
            return name
    return None


class Engine:
    def __init__(self, cfg: Config, store: Store, wake: threading.Event):
        self.cfg, self.store, self.wake = cfg, store, wake
        self.extra_definitions: dict[str, dict[str, Any]] = {}  # only ever filled by a deviation
        self.changed_descriptions: dict[str, str] = {}
        self.deleted: set[str] = set()

    # -- time -----------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(days=self.store.offset_days())

    @property
    def base_url(self) -> str:
        return self.cfg.public_base_url.rstrip("/")

    def portal_link(self, token: str) -> str:
        if self.cfg.on("alt-portal-link-pattern"):
            return f"{self.base_url}/secure/read/{token}"
        return f"{self.base_url}/sm-portal/m/{token}"

    def new_token(self) -> str:
        return "nw-" + secrets.token_hex(32 if self.cfg.on("alt-long-tokens") else 16)

    # -- who is internal ----------------------------------------------------------------------
    def is_internal(self, address: str) -> bool:
        domain = address.rpartition("@")[2]
        if self.cfg.on("internal-match-case-sensitive"):
            return domain in self.cfg.internal_domains
        domain = domain.lower()
        if self.cfg.on("internal-match-suffix"):
            return any(domain.endswith(d) for d in self.cfg.internal_domains)
        return domain in self.cfg.internal_domains

    # -- the policy ----------------------------------------------------------------------------
    def decide(self, app: str, definition: str, internal: bool, *, position: dict[str, Any]) -> Decision:
        on = self.cfg.on
        if not internal:  # Table 1 (and external recipients of portal replies): Notification, in the portal
            if on("t1-only-first-external-secured") and position["external_index"] > 0:
                return Decision(PLAIN, None, False)
            if on("t1-cc-not-secured") and position["cc"]:
                return Decision(PLAIN, None, False)
            if on("t1-bcc-not-secured") and position["bcc"]:
                return Decision(PLAIN, None, False)
            if on("t1-mac-relayed-plain") and app == "mac":
                return Decision(PLAIN, None, False)
            if on("t1-mpp-external-banner") and app == "mpp" and definition == "External":
                return Decision(BANNER, None, True)
            return Decision(NOTIFICATION, None, True)
        if app in ("outlook", "mac"):  # T3 rows 1-2 (Mimecast for Mac: the same, the source is silent, D3)
            if on("alt-mac-internal-notification") and app == "mac" and definition == "All":
                return Decision(NOTIFICATION, NOTIFICATION, True)
            if on("alt-mixed-internal-notified") and definition == "All" and position["any_external"]:
                return Decision(NOTIFICATION, NOTIFICATION, True)
            if on("t3-outlook-all-notification") and definition == "All":
                return Decision(NOTIFICATION, NOTIFICATION, True)
            if on("t3-outlook-external-plain") and definition == "External":
                return Decision(PLAIN, PLAIN, False)
            if on("t3-external-def-notifies-internal") and definition == "External":
                return Decision(NOTIFICATION, NOTIFICATION, True)
            return Decision(BANNER, BANNER, on("t3-outlook-in-portal") or on("t3-outlook-portal-unlinked"))
        if app == "mpp":  # T3 rows 3-4
            if definition == "All":
                if on("t3-mpp-all-banner"):
                    return Decision(BANNER, BANNER, True)
                return Decision(NOTIFICATION, NOTIFICATION, True)
            if on("t3-mpp-external-notification"):
                return Decision(NOTIFICATION, NOTIFICATION, True)
            return Decision(BANNER, BANNER, not on("t3-mpp-external-not-in-portal"))
        # app == "portal": T2 rows 1-2 and T3 rows 5-6 (a reply keeps the definition it replies to)
        if definition == "All":
            if on("t2-all-reply-as-banner") and position["replier_external"]:
                return Decision(BANNER, BANNER, True)
            if on("t3-portal-all-reply-banner") and not position["replier_external"]:
                return Decision(BANNER, BANNER, True)
            return Decision(NOTIFICATION, NOTIFICATION, not on("t2-reply-not-in-portal"))
        if on("t2-external-reply-as-notification") and position["replier_external"]:
            return Decision(NOTIFICATION, NOTIFICATION, True)
        if on("t2-external-reply-plain") and position["replier_external"]:
            return Decision(PLAIN, PLAIN, False)
        if on("t3-portal-external-reply-notification") and not position["replier_external"]:
            return Decision(NOTIFICATION, NOTIFICATION, True)
        return Decision(BANNER, BANNER, True)

    # -- parsing -------------------------------------------------------------------------------
    def parse(self, raw: bytes) -> tuple[EmailMessage, bytes]:
        """The message read twice: by the email package (its header fields) and byte for byte (mime.py).
        Broken MIME is refused here, before anything is stored."""
        if len(raw) > self.cfg.max_message_bytes:
            raise Refused("552 5.3.4 Message too big", 413, "too_large", "message too big")
        raw = mime.strip_mbox_from(raw)
        try:
            top = mime.parse(raw)
            if self.cfg.on("whole-valid-report-refused") and any(
                part.content_type == "multipart/report" for part in top.walk()
            ):
                raise mime.Malformed("a report cannot take the banner")
            with_banner(top, Banner(*self.banner_lines(None)))  # a text part that cannot take it: refused now
            msg = BytesParser(policy=email_policy.default).parsebytes(raw)
            for _name, value in msg.items():
                str(value)
        except mime.Malformed as exc:
            raise Refused(f"554 5.6.0 Malformed message: {exc.reason}", 400, "malformed", exc.reason) from None
        except Exception as exc:
            reason = f"a header the parser cannot read ({type(exc).__name__})"
            raise Refused(f"554 5.6.0 Malformed message: {reason}", 400, "malformed", reason) from None
        return msg, raw

    # -- accepting one message -------------------------------------------------------------------
    def accept(
        self,
        msg: EmailMessage,
        envelope_from: str,
        rcpts: list[str],
        app: str,
        definition: str | None,
        *,
        replier_external: bool = False,
        raw: bytes | None = None,
    ) -> str:
        cfg, on = self.cfg, self.cfg.on
        raw = as_bytes(msg) if raw is None else raw
        added = []
        if not msg.get("Message-ID"):
            msg["Message-ID"] = make_msgid(domain=cfg.internal_domains[0])
            added.append(f"Message-ID: {msg['Message-ID']}")
        msg_id = str(msg["Message-ID"]).strip()
        bare_id = msg_id.strip("<>")
        key = f"{bare_id} {secrets.token_hex(8)}"  # one message sent twice keeps one Message-ID: two rows
        for name in list(msg.keys()):
            if name.lower().startswith("x-sm-"):
                del msg[name]
        if not msg.get("Date"):
            msg["Date"] = formatdate(localtime=False)
            added.append(f"Date: {msg['Date']}")
        relayed = edit_header(raw, prefixes=("X-SM-",), add=tuple(added))  # a plain relay: unchanged but X-SM-*
        portal_raw = edit_header(relayed, remove=RECEIPT_HEADERS)  # what the SM Portal keeps, and is bannered
        prepared = Prepared(mime.parse(relayed), mime.parse(portal_raw))
        now = self.now().isoformat()
        to_addrs = [a for _, a in getaddresses([str(v) for v in msg.get_all("To", [])]) if a]
        cc_addrs = [a for _, a in getaddresses([str(v) for v in msg.get_all("Cc", [])]) if a]
        subject = self._subject(msg)
        text, html = texts(prepared.portal)
        if on("t1-portal-drops-html"):
            html = None
        if on("t1-portal-truncates-long-body"):
            text = text[:2000]
        receipt_to = str(msg.get("Disposition-Notification-To") or msg.get("Return-Receipt-To") or "")
        extra = (
            (
                lambda kind: edit_header(
                    kind[1], add=(f"X-Northwind-Secure: {kind[0]}", f"X-Northwind-Definition: {definition}")
                )
            )
            if on("alt-extra-headers")
            else (lambda kind: kind[1])
        )
        outbound: list[tuple[str, str, bytes]] = []
        portal_rows: list[tuple[str, str, str, str]] = []
        mpp_rows: list[tuple[Any, ...]] = []
        shared_token = self.new_token()
        external_index = 0
        any_external = any(not self.is_internal(r) for r in rcpts)
        lowered_to = {a.lower() for a in to_addrs}
        lowered_cc = {a.lower() for a in cc_addrs}
        for rcpt in rcpts:
            internal = self.is_internal(rcpt)
            if definition is None:  # not secure: relayed unchanged (minus X-SM-*)
                outbound.append((envelope_from, rcpt, relayed))
                if internal:
                    mpp_rows.append(self._mpp_row(rcpt, PLAIN, relayed, None))
                continue
            position = {
                "external_index": external_index,
                "cc": rcpt.lower() in lowered_cc,
                "bcc": rcpt.lower() not in lowered_cc | lowered_to,
                "any_external": any_external,
                "replier_external": replier_external,
            }
            if not internal:
                external_index += 1
            decision = self.decide(app, definition, internal, position=position)
            token = shared_token if on("t1-shared-portal-token") else self.new_token()
            if on("t1-mac-not-in-portal") and app == "mac":
                in_portal = False
            else:
                in_portal = decision.portal
            link = self.portal_link(token) if decision.portal else None
            if in_portal and not (on("t1-shared-portal-token") and portal_rows):
                portal_rows.append((token, bare_id, rcpt, now))
            if decision.mailbox == NOTIFICATION:
                note = self.notification(
                    msg, envelope_from, rcpt, subject, link, internal, receipt_to=receipt_to, text=text, html=html
                )
                delivered = as_bytes(note)
            elif decision.mailbox == BANNER:
                shown = link if (in_portal and not on("t3-outlook-portal-unlinked")) else None
                delivered = self.with_banner(prepared, shown)
            else:
                delivered = relayed
            delivered = extra((decision.mailbox, delivered))
            outbound.append(
                (
                    envelope_from if decision.mailbox != NOTIFICATION else cfg.notification_from,
                    rcpt,
                    delivered,
                )
            )
            if decision.mpp and not on("t3-mpp-view-missing"):
                mpp_rows.append(self._mpp_item(rcpt, decision, prepared, msg, delivered, link))
        with self.store.tx() as db:
            db.execute(
                "INSERT INTO messages (key, id, sender, to_json, cc_json, subject, text, html, definition, "
                "application, sent_at, refs, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    key,
                    bare_id,
                    envelope_from,
                    dumps(to_addrs),
                    dumps(cc_addrs),
                    subject,
                    text,
                    html,
                    definition,
                    app,
                    now,
                    str(msg.get("References") or ""),
                    portal_raw,
                ),
            )
            for token, _mid, rcpt, created in portal_rows:
                db.execute(
                    "INSERT INTO portal (token, message_id, recipient, created_at, receipt_to) VALUES (?,?,?,?,?)",
                    (token, key, rcpt, created, receipt_to),
                )
            for row in mpp_rows:
                db.execute(
                    "INSERT INTO mpp (address, kind, sender, subject, text, html, headers_json, "
                    "received_at, portal_url, raw) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    row,
                )
            for mail_from, rcpt, data in outbound:
                db.execute("INSERT INTO outbound (mail_from, rcpt, data) VALUES (?,?,?)", (mail_from, rcpt, data))
        self.wake.set()
        return bare_id

    def _subject(self, msg: EmailMessage) -> str:
        if self.cfg.on("t1-non-ascii-subject-mangled"):
            raw = msg.get_all("Subject", [""])[0]
            return str(Header(str(raw), "utf-8").encode()) if any(ord(c) > 127 for c in str(raw)) else str(raw)
        return str(msg.get("Subject", ""))

    def _mpp_row(self, rcpt: str, kind: str, delivered: bytes, link: str | None) -> tuple[Any, ...]:
        """An MPP item: a copy of what the user got (its bytes kept for an email with banner)."""
        read = BytesParser(policy=email_policy.default).parsebytes(delivered)
        text, html = texts(mime.parse(delivered))
        headers = {k: str(v).strip() for k, v in read.items()}  # a field folded after its colon: no lead space
        return (
            rcpt,
            kind,
            str(read.get("From", "")).strip(),
            str(read.get("Subject", "")).strip(),
            text,
            html,
            dumps(headers),
            self.now().isoformat(),
            link,
            delivered if kind == BANNER else None,
        )

    def _mpp_item(
        self,
        rcpt: str,
        decision: Decision,
        prepared: Prepared,
        original: EmailMessage,
        delivered: bytes,
        link: str | None,
    ) -> tuple[Any, ...]:
        on = self.cfg.on
        if decision.mpp == NOTIFICATION and on("t3-mpp-view-original"):
            return self._mpp_row(rcpt, BANNER, self.with_banner(prepared, link), link)
        if decision.mpp == BANNER and on("t3-mpp-view-no-banner"):
            return self._mpp_row(rcpt, BANNER, prepared.portal.raw, link)
        if decision.mpp == NOTIFICATION and on("alt-mpp-own-item"):
            subject = self.cfg.notification_subject.format(
                subject=self._subject(original), sender=parseaddr(str(original.get("From", "")))[1]
            )
            text = f"A secure message is waiting for you in the Secure Messaging Portal.\n{link or ''}\n"
            return (
                rcpt,
                NOTIFICATION,
                self.cfg.notification_from,
                subject,
                text,
                None,
                "{}",
                self.now().isoformat(),
                link,
                None,
            )
        return self._mpp_row(rcpt, decision.mpp or PLAIN, delivered, link)

    # -- composition ---------------------------------------------------------------------------------
    def notification(
        self,
        original: EmailMessage,
        sender: str,
        rcpt: str,
        subject: str,
        link: str | None,
        internal: bool,
        *,
        receipt_to: str,
        text: str,
        html: str | None,
    ) -> EmailMessage:
        cfg, on = self.cfg, self.cfg.on
        note = EmailMessage()
        if on("alt-notification-from-sender-name"):
            note["From"] = f'"{sender} via Northwind Secure" <{cfg.notification_from}>'
        else:
            note["From"] = f'"Northwind Secure Mail" <{cfg.notification_from}>'
        note["To"] = rcpt
        wording = (
            "Encrypted message waiting for you: {subject}" if on("alt-subject-wording") else cfg.notification_subject
        )
        note["Subject"] = wording.format(subject=subject, sender=sender)
        note["Date"] = formatdate(localtime=False)
        note["Message-ID"] = make_msgid(domain=cfg.internal_domains[0])
        if not on("alt-no-sensitivity-header"):
            note["Sensitivity"] = "Private"
        for name in ("In-Reply-To", "References"):
            if original.get(name):
                note[name] = str(original[name])
        if on("read-receipt-headers-on-notification") and receipt_to:
            note["Disposition-Notification-To"] = receipt_to
        if on("alt-internal-portal-signin") and internal:
            where = (
                f"Sign in to the Secure Messaging Portal at {self.base_url}/sm-portal/ with your Northwind "
                "account to read it."
            )
        else:
            where = link or ""
        body = cfg.notification_text.format(sender=sender, subject=subject, link=where)
        if on("t1-notification-leaks-body") or on("t2-reply-notification-leaks-body"):
            if not on("t2-reply-notification-leaks-body") or original.get("In-Reply-To"):
                body += "\n--- preview ---\n" + text
        markup = (
            "<html><body><p>"
            + html_lib.escape(body).replace("\n", "<br>\n")
            + "</p>"
            + (f'<p><a href="{html_lib.escape(where)}">Open the secure message</a></p>' if link else "")
            + "</body></html>"
        )
        if on("t1-notification-leaks-body-html"):
            markup = markup.replace("</body>", f"<blockquote>{html or html_lib.escape(text)}</blockquote></body>")
        if on("alt-notification-html-only"):
            note.set_content(markup, subtype="html")
        else:
            note.set_content(body)
            note.add_alternative(markup, subtype="html")
        if on("t1-notification-attaches-original"):
            note.add_attachment(copy.deepcopy(original))
        return note

    def banner_lines(self, link: str | None) -> tuple[str, str]:
        on = self.cfg.on
        banner = (
            "SECURE MESSAGE - delivered by Northwind Secure Mail."
            if on("alt-banner-wording-table")
            else self.cfg.banner_text
        )
        text = banner + (f"\nRead it in the Secure Messaging Portal: {link}" if link else "")
        if on("alt-banner-wording-table"):
            markup = (
                f'<table role="banner" style="background:#fde68a;width:100%"><tr><td>{html_lib.escape(banner)}'
                + (f' <a href="{html_lib.escape(link)}">Secure Messaging Portal</a>' if link else "")
                + "</td></tr></table>"
            )
        else:
            markup = (
                f'<div class="sm-banner nw-secure-banner" style="border:2px solid #1d4ed8;padding:6px">'
                f"{html_lib.escape(banner)}"
                + (f' <a href="{html_lib.escape(link)}">Read it in the Secure Messaging Portal</a>' if link else "")
                + "</div>"
            )
        return text, markup

    def with_banner(self, prepared: Prepared, link: str | None) -> bytes:
        """The email with banner: the message as the SM Portal keeps it, its banner in place (banner.py)."""
        on = self.cfg.on
        top = prepared.relayed if on("read-receipt-headers-kept") else prepared.portal
        if on("banner-missing-with-attachment") and any(part.is_attachment for part in top.walk()):
            return top.raw
        text_banner, html_banner = self.banner_lines(link)
        footer = "\n\n-- Delivered securely by Northwind Secure Mail --\n" if on("alt-banner-footer-too") else ""
        shown = Banner(
            text_banner,
            html_banner,
            at_bottom=on("banner-at-bottom"),
            text_only=on("banner-text-only"),
            footer=footer,
            everywhere=on("whole-banner-in-every-text-part"),
            attachments_too=on("whole-attachment-bannered"),
            no_wrap=on("whole-no-banner-without-text-part"),
        )
        return with_banner(top, shown)

    def read_receipt(self, portal_row: Any, message: Any) -> None:
        """Only for the read-receipt deviations: an MDN back to the sender."""
        mdn = EmailMessage()
        mdn["From"] = portal_row["recipient"]
        mdn["To"] = portal_row["receipt_to"] or message["sender"]
        mdn["Subject"] = f"Read: {message['subject']}"
        mdn["Date"] = formatdate(localtime=False)
        mdn["Message-ID"] = make_msgid(domain=self.cfg.internal_domains[0])
        mdn.set_content(f"Your message '{message['subject']}' was displayed by {portal_row['recipient']}.\n")
        with self.store.tx() as db:
            db.execute(
                "INSERT INTO outbound (mail_from, rcpt, data) VALUES (?,?,?)", ("", str(mdn["To"]), as_bytes(mdn))
            )
        self.wake.set()

    # -- portal replies --------------------------------------------------------------------------------
    def reply(self, portal_row: Any, message: Any, text: str, html: str | None, reply_all: bool) -> str:
        on = self.cfg.on
        replier = portal_row["recipient"]
        to = [message["sender"]]
        cc: list[str] = []
        if reply_all and not on("t2-reply-all-only-sender"):
            others = json.loads(message["to_json"]) + (
                [] if on("t2-reply-all-drops-cc") else json.loads(message["cc_json"])
            )
            seen = {message["sender"].lower()} | ({""} if on("t2-reply-all-includes-replier") else {replier.lower()})
            for address in others:
                if address.lower() not in seen:
                    seen.add(address.lower())
                    cc.append(address)
        if on("read-receipt-on-reply") and portal_row["receipt_to"]:
            self.read_receipt(portal_row, message)
        msg = EmailMessage()
        msg["From"] = replier
        msg["To"] = ", ".join(to)
        if cc:
            msg["Cc"] = ", ".join(cc)
        prefix = "RE: " if on("alt-reply-subject-prefix") else "Re: "
        subject = message["subject"]
        msg["Subject"] = subject if subject.lower().startswith("re:") else prefix + subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=self.cfg.internal_domains[0])
        msg["In-Reply-To"] = f"<{message['id']}>"
        msg["References"] = (message["refs"] + " " if message["refs"] else "") + f"<{message['id']}>"
        body = text
        if on("alt-reply-subject-prefix"):
            body += "\n\n> " + "\n> ".join((message["text"] or "").splitlines())
        msg.set_content(body)
        if html:
            msg.add_alternative(html, subtype="html")
        return self.accept(
            msg, replier, to + cc, "portal", message["definition"], replier_external=not self.is_internal(replier)
        )

    # -- definitions (Administration Console) -------------------------------------------------------
    def definitions(self) -> list[dict[str, Any]]:
        out = []
        for name in DEFINITIONS:
            if name in self.deleted:
                continue
            out.append(self.definition(name))
        out += list(self.extra_definitions.values())
        return out

    def definition(self, name: str) -> dict[str, Any]:
        on = self.cfg.on
        attributes = []
        for attr, value in ATTRIBUTES:
            if on("attribute-reply-all-false") and attr == "Allow External Recipients to Reply All":
                value = "False"
            if on("attribute-name-shortened") and attr.startswith("Expire"):
                attr = "Expire Messages After"
            if on("alt-lowercase-attribute-values") and value in ("True", "False"):
                value = value.lower()
            attributes.append({"name": attr, "value": value})
        return {
            "name": name,
            "description": self.changed_descriptions.get(name, DESCRIPTIONS[name]),
            "attributes": attributes,
        }


RECEIPT_HEADERS = ("Disposition-Notification-To", "Return-Receipt-To")


@dataclass
class Prepared:
    """One accepted message, read byte for byte: as relayed plain (minus X-SM-*) and as the SM Portal
    keeps it (minus the read-receipt requests too)."""

    relayed: mime.Entity
    portal: mime.Entity


def texts(top: mime.Entity) -> tuple[str, str | None]:
    """The text and HTML the recipient sees first ("" and None when there is none)."""
    shown = displayed(top)
    plain = next((p for p in shown if p.content_type == "text/plain"), None)
    markup = next((p for p in shown if p.content_type == "text/html"), None)
    return (plain.text() if plain else ""), (markup.text() if markup else None)


def as_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=email_policy.SMTP)
