"""The gateway's use cases, shared by the SMTP and HTTP front ends.

Owns what happens to a message between "it arrived" and "it is committed":
SMTP submission checks (definition, application, MIME), MPP sends, SM Portal
replies, per-recipient fan-out through ``policy.outcome`` into outbound
deliveries, MPP items and portal tokens (one store transaction), and the read
side of the SM Portal and MPP (expiry, permissions). Errors are raised as
``GatewayError`` (HTTP status, error code, message) or returned as SMTP reply
lines.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import timedelta
from email import errors as email_errors
from email.message import EmailMessage

from . import composer, policy
from .clock import iso, parse_iso

log = logging.getLogger("smlite.gateway")

NEVER = "Never Expire"
# what the email package raises on content it cannot take apart or rebuild
CONTENT_ERRORS = (LookupError, ValueError, IndexError, UnicodeError, email_errors.MessageError)


class GatewayError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _id(message_id: str) -> str:
    return message_id.strip().strip("<>").strip()


class Gateway:
    def __init__(self, cfg, store, clock, catalogue) -> None:
        self.cfg = cfg
        self.store = store
        self.clock = clock
        self.catalogue = catalogue
        self.variant = cfg.active_variant
        self.base_url = cfg.base_url(cfg.http_port)

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
            log.warning("cannot process a message from %s", mail_from, exc_info=True)
            return self._refuse(mail_from, f"554 5.6.0 Malformed message: cannot be processed ({type(exc).__name__})")

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
            raise GatewayError(413, "too_large", f"Message too big ({len(raw)} bytes; at most "
                                                 f"{self.cfg.max_message_bytes})")
        return raw

    # -- the fan-out -------------------------------------------------------------
    def accept(self, msg: EmailMessage, raw: bytes, sender: str, recipients: list[str],
               application: str, definition: str | None) -> str:
        """Commit a message and everything each recipient gets; return its id."""
        now = self.clock.now()
        message_id = _id(str(msg.get("Message-ID", "")))
        sender_internal = self.is_internal(sender)
        seen: set[str] = set()
        rows, outbound, mpp_items, summary = [], [], [], []
        for rcpt in recipients:
            if policy.address_key(rcpt) in seen:
                continue
            seen.add(policy.address_key(rcpt))
            internal = self.is_internal(rcpt)
            oc = policy.outcome(application, definition, sender_internal, internal, variant=self.variant)
            token = secrets.token_urlsafe(24) if oc.in_sm_portal else None
            link = self.portal_link(token) if token else None
            built: dict[str, bytes] = {}

            def build(kind: str) -> bytes:
                if kind not in built:
                    if kind == policy.NOTIFICATION:
                        # without a portal message (variant mpp-not-in-portal) the link is dead
                        notif_link = link or self.portal_link(secrets.token_urlsafe(24))
                        built[kind] = composer.notification(
                            msg, sender=sender, recipient=rcpt, link=notif_link, cfg=self.cfg,
                            now=now, variant=self.variant)
                    elif kind == policy.BANNER:
                        built[kind] = composer.with_banner(raw, self.cfg.banner_text, link)
                    else:
                        built[kind] = composer.plain(raw)
                return built[kind]

            if oc.mailbox != policy.NONE:
                mail_from = self.cfg.sender_address() if oc.mailbox == policy.NOTIFICATION else sender
                outbound.append({"recipient": rcpt, "mail_from": mail_from, "raw": build(oc.mailbox)})
            if oc.mpp != policy.NONE:
                mpp_items.append({"owner": rcpt, "kind": oc.mpp, "raw": build(oc.mpp),
                                  "received_at": iso(now), "portal_token": token})
            rows.append({"recipient": rcpt, "internal": internal, "token": token, "mailbox": oc.mailbox,
                         "mpp": oc.mpp, "in_portal": oc.in_sm_portal})
            summary.append(f"{rcpt}={oc.mailbox}/{oc.mpp}/{'portal' if oc.in_sm_portal else '-'}")
        self.store.accept(
            {
                "message_id": message_id, "sender": sender,
                "to_json": json.dumps(composer.addresses(msg, "To")),
                "cc_json": json.dumps(composer.addresses(msg, "Cc")),
                "subject": composer.header_text(msg.get("Subject", "")), "raw": raw,
                "definition": definition, "application": application, "sent_at": iso(now),
                "in_reply_to": composer.header_text(msg.get("In-Reply-To")) or None,
            },
            rows, outbound, mpp_items,
        )
        log.info("accepted <%s> from %s app=%s definition=%s: %s", message_id, sender, application,
                 definition or "-", ", ".join(summary))
        return message_id

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

    def mpp_send(self, user: str, to: list[str], cc: list[str], subject: str, text: str,
                 html: str | None, definition: str, headers: dict[str, str]) -> str:
        canonical = policy.normalize_definition(definition, variant=self.variant)
        if canonical is None:
            raise GatewayError(400, "unknown_definition",
                               f"Unknown Secure Messaging definition '{definition}': "
                               "Secure Messaging Lite has exactly All, External")
        keys: set[str] = set()
        recipients = [a for a in to + cc if not (policy.address_key(a) in keys or keys.add(policy.address_key(a)))]
        if len(recipients) > self.cfg.max_recipients:
            raise GatewayError(400, "too_many_recipients", f"Too many recipients (at most {self.cfg.max_recipients})")
        mid = composer.new_message_id(self.cfg.internal_domains[0])
        msg = composer.build_original(sender=user, to=to, cc=cc, subject=subject, text=text, html=html,
                                      message_id=mid, now=self.clock.now(), extra_headers=headers)
        return self.accept(msg, self._check_size(msg), user, recipients, "mpp", canonical)

    def mpp_view(self, user: str) -> list[dict]:
        items = []
        for row in self.store.mpp_items(user):
            msg = composer.parse(row["raw"])
            items.append({
                "id": row["message_id"], "kind": row["kind"],
                "from": composer.header_text(msg.get("From")),
                "subject": composer.header_text(msg.get("Subject")),
                "text": composer.body_text(msg), "html": composer.body_html(msg),
                "headers": composer.headers_dict(msg), "received_at": row["received_at"],
                "portal_url": self.portal_link(row["portal_token"]) if row["portal_token"] else None,
            })
        return items

    # -- SM Portal -------------------------------------------------------------------
    def expiry(self, sent_at: str) -> tuple[str | None, str]:
        if self.variant == "expire-30-days":
            return iso(parse_iso(sent_at) + timedelta(days=30)), "30 days"
        return None, NEVER

    def portal_row(self, token: str, *, allow_expired: bool = False):
        row = self.store.by_token(token)
        if row is None:
            raise GatewayError(404, "not_found", "no such message")
        expires_at, _ = self.expiry(row["sent_at"])
        if expires_at and not allow_expired and self.clock.now() >= parse_iso(expires_at):
            raise GatewayError(410, "expired", "this secure message has expired")
        return row

    def permissions(self) -> dict[str, bool]:
        return {"print": self.variant == "print-allowed", "reply": True,
                "reply_all": self.variant != "no-reply-all"}

    def portal_view(self, token: str, *, opened: bool = True) -> dict:
        row = self.portal_row(token)
        msg = composer.parse(row["raw"])
        expires_at, expiry = self.expiry(row["sent_at"])
        if opened and self.variant == "read-receipt":
            dnt = composer.addresses(msg, "Disposition-Notification-To")
            to = dnt[0] if dnt else row["sender"]
            self.store.enqueue(to, row["recipient"], composer.read_receipt(
                msg, reader=row["recipient"], to=to, now=self.clock.now(), domain=self.cfg.internal_domains[0]))
            log.info("read receipt for <%s> queued to %s", row["message_id"], to)
        return {
            "id": row["message_id"], "from": row["sender"], "to": json.loads(row["to_json"]),
            "cc": json.loads(row["cc_json"]), "subject": row["subject"], "text": composer.body_text(msg),
            "html": composer.body_html(msg), "sent_at": row["sent_at"], "definition": row["definition"],
            "application": row["application"], "recipient": row["recipient"],
            "permissions": self.permissions(), "expires_at": expires_at, "expiry": expiry,
        }

    def portal_inbox(self, token: str) -> dict:
        row = self.portal_row(token, allow_expired=True)
        items = [{"token": r["token"], "subject": r["subject"], "from": r["sender"], "sent_at": r["sent_at"]}
                 for r in self.store.portal_items(row["recipient"])]
        return {"recipient": row["recipient"], "items": items}

    def portal_reply(self, token: str, text: str, html: str | None, reply_all: bool) -> str:
        row = self.portal_row(token)
        if reply_all and not self.permissions()["reply_all"]:
            raise GatewayError(403, "reply_all_not_allowed", "Reply All is not allowed for this message")
        replier = row["recipient"]
        orig = composer.parse(row["raw"])
        to, cc = [row["sender"]], []
        if reply_all:
            # the To/Cc addresses are recipients like any other: parsed, validated, carried in IDNA form,
            # compared by their one identity (policy.address_key); one that cannot be carried refuses the
            # reply-all with a clear error (a plain reply still works)
            taken = {policy.address_key(replier), policy.address_key(row["sender"])}
            for name, target in (("To", to), ("Cc", cc)):
                for addr in composer.addresses(orig, name):
                    try:
                        addr = policy.carried_address(addr, f"the original's {name} header")
                    except policy.BadAddress as exc:
                        raise GatewayError(422, "invalid_recipient", f"Reply All is not possible: {exc}") from None
                    if policy.address_key(addr) not in taken:
                        taken.add(policy.address_key(addr))
                        target.append(addr)
        if len(to) + len(cc) > self.cfg.max_recipients:
            raise GatewayError(400, "too_many_recipients", f"Too many recipients (at most {self.cfg.max_recipients})")
        subject = row["subject"]
        if not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        parent = f"<{row['message_id']}>"
        refs = " ".join(filter(None, [composer.header_text(orig.get("References")), parent]))
        msg = composer.build_original(
            sender=replier, to=to, cc=cc, subject=subject, text=text, html=html,
            message_id=composer.new_message_id(self.cfg.internal_domains[0]), now=self.clock.now(),
            in_reply_to=parent, references=refs)
        return self.accept(msg, self._check_size(msg), replier, to + cc, "portal", row["definition"])

    def portal_print(self, token: str) -> dict:
        self.portal_row(token)
        if not self.permissions()["print"]:
            raise GatewayError(403, "print_not_allowed", "Printing is not allowed for Secure Messaging Lite messages")
        return {"print": True}

    def portal_delete(self, token: str) -> None:
        if not self.store.delete_token(token):
            raise GatewayError(404, "not_found", "no such message")

    def admin_portal_messages(self, recipient: str) -> list[dict]:
        return [{"id": r["message_id"], "subject": r["subject"], "from": r["sender"], "sent_at": r["sent_at"],
                 "definition": r["definition"], "application": r["application"]}
                for r in self.store.portal_items(recipient)]
