"""The SM Portal side of the gateway's use cases: a recipient's message, its permissions and expiry,
replying, printing and deleting (mixed into ``Gateway``, harness/gateway/service.py).

Owns ``PortalService``: ``portal_view`` (the whole message as the portal shows it: its parts and
attachments, harness/gateway/whole_message.py), ``portal_raw`` and ``portal_attachment`` (downloads), ``portal_reply``
(a reply or reply-all from the portal, fanned out like any message), ``expiry`` (Never Expire, as the
definitions say), ``permissions``, ``portal_print``, ``portal_delete`` and the Administration Console's
list of what the portal holds for a recipient.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from . import composer, notices, policy, whole_message
from .clock import iso, parse_iso
from .errors import NEVER, GatewayError

log = logging.getLogger("smlite.gateway")


class PortalService:
    """What ``Gateway`` holds that the portal's use cases read (see harness/gateway/service.py)."""

    cfg: Any
    base_url: str
    store: Any
    clock: Any
    variant: str

    def portal_link(self, token: str) -> str:  # Gateway's
        raise NotImplementedError

    def accept(self, *args: Any, **kwargs: Any) -> Any:  # Gateway's
        raise NotImplementedError

    def _check_size(self, msg: Any) -> bytes:  # Gateway's
        raise NotImplementedError

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

    def permissions(self, sent_at: str | None = None) -> dict[str, bool]:
        """What the recipient may do with a message sent at ``sent_at`` (the definitions allow the same at
        any age; two broken variants change with age)."""
        age = self.clock.now() - parse_iso(sent_at) if sent_at else timedelta(0)
        return {
            "print": self.variant == "print-allowed"
            or (self.variant == "print-allowed-after-a-year" and age > timedelta(days=365)),
            "reply": not (self.variant == "reply-refused-after-90-days" and age > timedelta(days=90)),
            "reply_all": self.variant != "no-reply-all"
            and not (self.variant == "reply-refused-after-90-days" and age > timedelta(days=90)),
        }

    def portal_view(self, token: str, *, opened: bool = True) -> dict:
        row = self.portal_row(token)
        msg = composer.parse(row["raw"])
        expires_at, expiry = self.expiry(row["sent_at"])
        if opened and self.variant == "read-receipt":
            dnt = composer.addresses(msg, "Disposition-Notification-To")
            to = dnt[0] if dnt else row["sender"]
            self.store.enqueue(
                to,
                row["recipient"],
                notices.read_receipt(
                    msg, reader=row["recipient"], to=to, now=self.clock.now(), domain=self.cfg.internal_domains[0]
                ),
            )
            log.info("read receipt for <%s> queued to %s", row["message_id"], to)
        api = f"{self.base_url}/sm-portal/api/messages/{token}"
        whole = whole_message.describe(
            whole_message.portal_copy(row["raw"]), api + "/attachments/{}", variant=self.variant
        )
        return {
            **whole,
            "raw_url": api + "/raw",
            "id": row["message_id"],
            "from": row["sender"],
            "to": json.loads(row["to_json"]),
            "cc": json.loads(row["cc_json"]),
            "subject": row["subject"],
            "text": composer.body_text(msg),
            "html": composer.body_html(msg),
            "sent_at": row["sent_at"],
            "definition": row["definition"],
            "application": row["application"],
            "recipient": row["recipient"],
            "permissions": self.permissions(row["sent_at"]),
            "expires_at": expires_at,
            "expiry": expiry,
        }

    def portal_raw(self, token: str) -> bytes:
        """The message as delivered to the SM Portal (RFC 5322 bytes)."""
        return whole_message.portal_copy(self.portal_row(token)["raw"])

    def portal_attachment(self, token: str, number: int) -> tuple[dict, bytes]:
        """The ``number``-th attachment (from 1) of the portal's message: its name and type, its bytes."""
        found = whole_message.attachment_bytes(self.portal_raw(token), number)
        if found is None or self.variant == "portal-drops-attachments":
            raise GatewayError(404, "not_found", "no such attachment")
        return found

    def portal_inbox(self, token: str) -> dict:
        row = self.portal_row(token, allow_expired=True)
        items = [
            {"token": r["token"], "subject": r["subject"], "from": r["sender"], "sent_at": r["sent_at"]}
            for r in self.store.portal_items(row["recipient"])
        ]
        return {"recipient": row["recipient"], "items": items}

    def portal_reply(self, token: str, text: str, html: str | None, reply_all: bool) -> str:
        row = self.portal_row(token)
        allowed = self.permissions(row["sent_at"])
        if reply_all and not allowed["reply_all"]:
            raise GatewayError(403, "reply_all_not_allowed", "Reply All is not allowed for this message")
        if not allowed["reply"]:
            raise GatewayError(403, "reply_not_allowed", "Reply is not allowed for this message")
        replier = row["recipient"]
        orig = composer.parse(row["raw"])
        to: list[str] = [row["sender"]]
        cc: list[str] = []
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
            sender=replier,
            to=to,
            cc=cc,
            subject=subject,
            text=text,
            html=html,
            message_id=composer.new_message_id(self.cfg.internal_domains[0]),
            now=self.clock.now(),
            in_reply_to=parent,
            references=refs,
        )
        return self.accept(msg, self._check_size(msg), replier, to + cc, "portal", row["definition"])

    def portal_print(self, token: str) -> dict:
        row = self.portal_row(token)
        if not self.permissions(row["sent_at"])["print"]:
            raise GatewayError(403, "print_not_allowed", "Printing is not allowed for Secure Messaging Lite messages")
        return {"print": True}

    def portal_delete(self, token: str) -> None:
        if not self.store.delete_token(token):
            raise GatewayError(404, "not_found", "no such message")

    def admin_portal_messages(self, recipient: str) -> list[dict]:
        return [
            {
                "id": r["message_id"],
                "subject": r["subject"],
                "from": r["sender"],
                "sent_at": r["sent_at"],
                "definition": r["definition"],
                "application": r["application"],
            }
            for r in self.store.portal_items(recipient)
        ]
