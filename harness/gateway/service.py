"""The gateway's use cases, shared by the SMTP and HTTP front ends.

Owns what happens to a message between "it arrived" and "it is committed":
SMTP submission checks (definition, application, MIME), MPP sends, SM Portal
replies, per-recipient fan-out through ``policy.outcome`` into outbound
deliveries, MPP items and portal tokens (one store transaction; the message's
bytes are stored once, and what each recipient gets is composed from them when
delivered or read: ``composed``), and the read side of the SM Portal and MPP
(expiry, permissions). Errors are raised as
``GatewayError`` (HTTP status, error code, message) or returned as SMTP reply
lines.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from email import errors as email_errors
from email.message import EmailMessage

from . import banner, composer, notices, policy, whole_message
from .clock import iso
from .errors import NEVER, GatewayError  # noqa: F401  (re-exported: callers catch service.GatewayError)
from .portal_service import PortalService

log = logging.getLogger("smlite.gateway")

# what the email package raises on content it cannot take apart or rebuild
CONTENT_ERRORS = (LookupError, ValueError, IndexError, UnicodeError, email_errors.MessageError)


def _id(message_id: str) -> str:
    return message_id.strip().strip("<>").strip()


class Gateway(PortalService):
    def __init__(self, cfg, store, clock, catalogue) -> None:
        self.cfg = cfg
        self.store = store
        self.clock = clock
        self.catalogue = catalogue
        self.variant = cfg.active_variant
        self.base_url = cfg.base_url(cfg.http_port)
        self._compose_lock = threading.Lock()
        self._last_composed: tuple[tuple, bytes] | None = None

    # -- classification --------------------------------------------------------
    def is_internal(self, address: str) -> bool:
        return policy.is_internal(address, self.cfg.internal_domains)

    def portal_link(self, token: str) -> str:
        return f"{self.base_url}/sm-portal/m/{token}"

    # -- SMTP --------------------------------------------------------------------
    def submit_smtp(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> str:
        """Check and accept one SMTP submission; return the SMTP reply line.

        A message the email package cannot take apart or rebuild is refused for
        good (554), never with a 451 that would make the client retry it forever;
        ``store.StorageError`` passes through (the caller answers 451).
        """
        try:
            return self._submit_smtp(mail_from, rcpt_tos, raw)
        except RecursionError:
            return self._refuse(mail_from, "554 5.6.0 Malformed message: MIME parts nested too deeply")
        except CONTENT_ERRORS as exc:
            # one line with the reason, no traceback: the refusal is the sender's answer, not a gateway fault
            reason = f"cannot be processed ({type(exc).__name__}: {composer.reply_text(exc, 120)})"
            return self._refuse(mail_from, f"554 5.6.0 Malformed message: {reason}")

    def _submit_smtp(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> str:
        msg = composer.parse(raw)
        reason = composer.malformed_reason(msg)
        if reason:
            return self._refuse(mail_from, f"554 5.6.0 Malformed message: {reason}")
        raw_def = msg.get("X-SM-Definition")
        definition = None
        if raw_def is not None:
            definition = policy.normalize_definition(str(raw_def), variant=self.variant)
            if definition is None:
                return self._refuse(
                    mail_from,
                    f"554 5.7.0 Unknown Secure Messaging definition '{composer.reply_text(raw_def)}':"
                    " Secure Messaging Lite has exactly All, External",
                )
        raw_app = msg.get("X-SM-Application")
        application = policy.normalize_smtp_application(None if raw_app is None else str(raw_app))
        if application is None:
            return self._refuse(
                mail_from,
                f"554 5.7.0 Unknown application '{composer.reply_text(raw_app)}' for SMTP submission:"
                " use outlook or mac (MPP and SM Portal send over HTTP)",
            )
        if not msg.get("Message-ID"):
            mid = composer.new_message_id(self.cfg.internal_domains[0])
            raw = f"Message-ID: {mid}\r\n".encode("ascii") + raw
            msg = composer.parse(raw)
        message_id = self.accept(msg, raw, mail_from, rcpt_tos, application, definition)
        return f"250 2.0.0 Queued as <{message_id}>"

    def _refuse(self, mail_from: str, reply: str) -> str:
        reply = "".join(c if " " <= c <= "~" else "?" for c in reply)  # an SMTP reply is ASCII
        log.info("refused message from %s: %s", mail_from, reply)
        return reply

    def _check_size(self, msg: EmailMessage) -> bytes:
        """The message's bytes; 413 when larger than max_message_bytes (the SMTP limit holds for HTTP too)."""
        raw = composer.to_bytes(msg)
        if len(raw) > self.cfg.max_message_bytes:
            raise GatewayError(
                413, "too_large", f"Message too big ({len(raw)} bytes; at most {self.cfg.max_message_bytes})"
            )
        return raw

    # -- the fan-out -------------------------------------------------------------
    def accept(
        self,
        msg: EmailMessage,
        raw: bytes,
        sender: str,
        recipients: list[str],
        application: str,
        definition: str | None,
    ) -> str:
        """Commit a message and everything each recipient gets; return its id."""
        now = self.clock.now()
        message_id = _id(str(msg.get("Message-ID", "")))
        sender_internal = self.is_internal(sender)
        seen: set[str] = set()
        rows, outbound, mpp_items, summary = [], [], [], []
        composing: list[str | None] = []  # the link of each composed row (None: a plain relay, no link)
        named = {policy.address_key(a) for field in ("To", "Cc") for a in composer.addresses(msg, field)}
        for rcpt in recipients:
            if policy.address_key(rcpt) in seen:
                continue
            seen.add(policy.address_key(rcpt))
            if self.variant == "fourth-recipient-forgotten" and len(seen) > 3:
                continue
            internal = self.is_internal(rcpt)
            oc = policy.outcome(application, definition, sender_internal, internal, variant=self.variant)
            if self.variant == "bcc-internal-plain" and internal and policy.address_key(rcpt) not in named:
                oc = policy.Outcome(policy.PLAIN, policy.NONE, False)
            token = secrets.token_urlsafe(24) if oc.in_sm_portal else None
            link = self.portal_link(token) if token else None
            built: dict[str, bytes] = {}

            def deliverable(kind: str, built: dict[str, bytes] = built, link: str | None = link, rcpt: str = rcpt):
                """What a row of this kind holds: the notification's own bytes, or how to compose the message."""
                if kind != policy.NOTIFICATION:
                    composing.append(link if kind == policy.BANNER else None)
                    return {"compose": kind, "link": link if kind == policy.BANNER else None}
                if kind not in built:
                    # without a portal message (variant mpp-not-in-portal) the link is dead
                    notif_link = link or self.portal_link(secrets.token_urlsafe(24))
                    built[kind] = notices.notification(
                        msg, sender=sender, recipient=rcpt, link=notif_link, cfg=self.cfg, now=now, variant=self.variant
                    )
                return {"raw": built[kind]}

            if oc.mailbox != policy.NONE:
                mail_from = self.cfg.sender_address() if oc.mailbox == policy.NOTIFICATION else sender
                outbound.append({"recipient": rcpt, "mail_from": mail_from, **deliverable(oc.mailbox)})
            if oc.mpp != policy.NONE:
                mpp_items.append(
                    {
                        "owner": rcpt,
                        "kind": oc.mpp,
                        "received_at": iso(now),
                        "portal_token": token,
                        **deliverable(oc.mpp),
                    }
                )
            rows.append(
                {
                    "recipient": rcpt,
                    "internal": internal,
                    "token": token,
                    "mailbox": oc.mailbox,
                    "mpp": oc.mpp,
                    "in_portal": oc.in_sm_portal,
                }
            )
            summary.append(f"{rcpt}={oc.mailbox}/{oc.mpp}/{'portal' if oc.in_sm_portal else '-'}")
        if policy.BANNER in {o.get("compose") for o in outbound} | {m.get("compose") for m in mpp_items}:
            # composed once now, so a message the banner cannot go into is refused, never accepted and lost
            link = next((x for x in composing if x), None)
            banner.with_banner(raw, self.cfg.banner_text, link, variant=self.variant)
        self.store.accept(
            {
                "message_id": message_id,
                "sender": sender,
                "to_json": json.dumps(composer.addresses(msg, "To")),
                "cc_json": json.dumps(composer.addresses(msg, "Cc")),
                "subject": composer.header_text(msg.get("Subject", "")),
                "raw": raw,
                "definition": definition,
                "application": application,
                "sent_at": iso(now),
                "in_reply_to": composer.header_text(msg.get("In-Reply-To")) or None,
            },
            rows,
            outbound,
            mpp_items,
        )
        log.info(
            "accepted <%s> from %s app=%s definition=%s: %s",
            message_id,
            sender,
            application,
            definition or "-",
            ", ".join(summary),
        )
        return message_id

    # -- composing what the store holds once -------------------------------------------
    def composed(self, kind: str, message_pk: int, link: str | None) -> bytes:
        """The message as one recipient gets it (an email with banner with their link, or the plain
        relay), composed from the one stored copy. The last one is kept: a fan-out composes once."""
        key = (kind, message_pk, link)
        with self._compose_lock:
            if self._last_composed is not None and self._last_composed[0] == key:
                return self._last_composed[1]
        raw = self.store.message_raw(message_pk)
        if kind == policy.BANNER:
            out = banner.with_banner(raw, self.cfg.banner_text, link, variant=self.variant)
        else:
            out = composer.plain(raw)
        with self._compose_lock:
            self._last_composed = (key, out)
        return out

    def item_bytes(self, row) -> bytes:
        """An outbound row's or MPP item's message: its own bytes, or composed from the stored message."""
        if row["compose"]:
            return self.composed(row["compose"], row["message_pk"], row["link"])
        return bytes(row["raw"])

    # -- MPP -----------------------------------------------------------------------
    def create_mpp_session(self, address: str) -> str:
        try:
            address = policy.carried_address(address)
        except policy.BadAddress as exc:
            raise GatewayError(422, "invalid_request", str(exc)) from None
        if not self.is_internal(address):
            raise GatewayError(403, "no_mpp_for_external", f"{address} is external: external users have no MPP")
        token = secrets.token_urlsafe(24)
        self.store.create_mpp_session(token, address, iso(self.clock.now()))
        return token

    def mpp_user(self, token: str | None) -> str:
        address = self.store.mpp_session(token) if token else None
        if address is None:
            raise GatewayError(401, "unauthorized", "a valid MPP session is required")
        return address

    def mpp_send(
        self,
        user: str,
        to: list[str],
        cc: list[str],
        subject: str,
        text: str,
        html: str | None,
        definition: str,
        headers: dict[str, str],
    ) -> str:
        canonical = policy.normalize_definition(definition, variant=self.variant)
        if canonical is None:
            raise GatewayError(
                400,
                "unknown_definition",
                f"Unknown Secure Messaging definition '{definition}': Secure Messaging Lite has exactly All, External",
            )
        keys: set[str] = set()
        recipients = []
        for address in to + cc:
            if policy.address_key(address) not in keys:
                keys.add(policy.address_key(address))
                recipients.append(address)
        if len(recipients) > self.cfg.max_recipients:
            raise GatewayError(400, "too_many_recipients", f"Too many recipients (at most {self.cfg.max_recipients})")
        mid = composer.new_message_id(self.cfg.internal_domains[0])
        msg = composer.build_original(
            sender=user,
            to=to,
            cc=cc,
            subject=subject,
            text=text,
            html=html,
            message_id=mid,
            now=self.clock.now(),
            extra_headers=headers,
        )
        return self.accept(msg, self._check_size(msg), user, recipients, "mpp", canonical)

    def mpp_view(self, user: str) -> list[dict]:
        items = []
        for row in self.store.mpp_items(user):
            raw = self.item_bytes(row)
            msg = composer.parse(raw)
            whole = {}
            if row["kind"] == policy.BANNER:
                url = f"{self.base_url}/mpp/api/items/{row['pk']}/attachments/{{}}"
                whole = whole_message.describe(raw, url, variant=self.variant)
            items.append(
                {
                    **whole,
                    "id": row["message_id"],
                    "kind": row["kind"],
                    "from": composer.header_text(msg.get("From")),
                    "subject": composer.header_text(msg.get("Subject")),
                    "text": composer.body_text(msg),
                    "html": composer.body_html(msg),
                    "headers": composer.headers_dict(msg),
                    "received_at": row["received_at"],
                    "portal_url": self.portal_link(row["portal_token"]) if row["portal_token"] else None,
                }
            )
        return items

    def mpp_attachment(self, user: str, item: int, number: int) -> tuple[dict, bytes]:
        """The ``number``-th attachment (from 1) of the user's own MPP item ``item`` (an email with banner)."""
        for row in self.store.mpp_items(user):
            if row["pk"] == item and row["kind"] == policy.BANNER:
                found = whole_message.attachment_bytes(self.item_bytes(row), number)
                if found is not None:
                    return found
        raise GatewayError(404, "not_found", "no such attachment")
