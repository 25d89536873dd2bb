"""Owns: the catalogue of named behaviours of the independent Secure Messaging Lite implementation.

The independent gateway (tools/independent/gateway/) is correct by default; its
configuration key ``behaviour = "<name>"`` switches on exactly one entry of this
catalogue. Each entry is either

* a **deviation**: a realistic bug that violates the source document
  ("Secure Messaging - Lite Definitions", /work/shared/seed/000_99618b2f85010427.txt,
  restored in SPEC-READING.md); the suite should find it ("Not conformant"); or
* an **alternative**: a choice the source allows; the suite should accept it
  (a verdict starting with "Conformant"); or
* a **contract** difference: a choice the source allows but docs/contract.md (or
  the reference gateway's reading of the source) does not make; the suite
  should say "Conformant" and report it beside the verdict (at least one
  contract difference in results.json).

``ref`` names what the entry touches: a table row (T1-r1, T2-r1, T3-r4 ...),
a column (Mail Box / MPP / SM Portal), an attribute, or a definition.
``source`` quotes the source words that make it a bug (deviation) or allowed
(alternative). ``classification`` holds profile [classification] overrides the
vendor would write for that build (an alternative that changes its wording
describes it to the suite, as docs/vendors.md lets any vendor do).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEVIATION, ALTERNATIVE, CONTRACT = "deviation", "alternative", "contract"

NOTIFICATION_DEF = (
    '"Notification" means an email notification is received indicating there is a message '
    "ready to be read from the Secure Messaging Portal"
)
BANNER_DEF = (
    '"Email with banner" means a banner message is displayed at the top the email, indicating it '
    "was sent as a Secure Message"
)
T1 = (
    "T1: All applications (e.g. Mimecast for Outlook / Mimecast for Mac / Mimecast Personal Portal) | "
    "All or External | Notification"
)
ALL_DEF = "All: ... Secure Messaging should be applied to messages for all recipients"
EXTERNAL_DEF = "External: ... Secure Messaging is only applied to external recipients"
READ_RECEIPT = "Send Read Receipt: No"


@dataclass(frozen=True)
class Behaviour:
    name: str
    kind: str
    ref: str
    description: str
    source: str
    classification: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def expected(self) -> str:
        return {DEVIATION: "Not conformant", CONTRACT: "Conformant + contract"}.get(self.kind, "Conformant")


def _d(name: str, ref: str, description: str, source: str) -> Behaviour:
    return Behaviour(name, DEVIATION, ref, description, source)


def _a(name: str, ref: str, description: str, source: str, **extra: Any) -> Behaviour:
    return Behaviour(name, ALTERNATIVE, ref, description, source, **extra)


def _c(name: str, ref: str, description: str, source: str, **extra: Any) -> Behaviour:
    return Behaviour(name, CONTRACT, ref, description, source, **extra)


CATALOGUE: list[Behaviour] = [
    # ---- Table 1: internal sender -> external recipients (Mail Box / SM Portal) -------------------
    _d(
        "t1-only-first-external-secured",
        "T1-r1 / Mail Box",
        "only the first external recipient gets a Notification; the other external recipients get the plain original",
        T1,
    ),
    _d(
        "t1-cc-not-secured",
        "T1-r1 / Mail Box",
        "external Cc recipients are not secured: they get the plain original",
        T1,
    ),
    _d(
        "t1-bcc-not-secured",
        "T1-r1 / Mail Box",
        "external Bcc (envelope-only) recipients are not secured: they get the plain original",
        T1,
    ),
    _d(
        "t1-mac-relayed-plain",
        "T1-r1 / Mail Box (Mimecast for Mac)",
        "messages from Mimecast for Mac are relayed as ordinary mail to external recipients",
        T1,
    ),
    _d(
        "t1-mpp-external-banner",
        "T1-r1 / Mail Box (MPP, External)",
        "MPP with the External definition gives external recipients an Email with banner instead of a Notification",
        T1,
    ),
    _d(
        "t1-notification-leaks-body",
        "T1-r1 / Mail Box + definition of Notification",
        "the notification quotes the original message body",
        NOTIFICATION_DEF + "; the message itself is in the portal",
    ),
    _d(
        "t1-notification-leaks-body-html",
        "T1-r1 / Mail Box + definition of Notification",
        "the notification's HTML part quotes the original body (its text part does not)",
        NOTIFICATION_DEF,
    ),
    _d(
        "t1-notification-attaches-original",
        "T1-r1 / Mail Box + definition of Notification",
        "the notification carries the original message as a message/rfc822 attachment",
        NOTIFICATION_DEF,
    ),
    _d(
        "t1-shared-portal-token",
        "T1-r1 / SM Portal",
        "one portal token per message, shared by every recipient: each link opens the first recipient's copy",
        NOTIFICATION_DEF + " (the recipient's own message)",
    ),
    _d(
        "t1-mac-not-in-portal",
        "T1-r1 / SM Portal (Mimecast for Mac)",
        "a Notification is sent for Mimecast for Mac messages but the message is never stored in the SM Portal",
        NOTIFICATION_DEF,
    ),
    _d(
        "t1-portal-drops-html",
        "T1-r1 / SM Portal",
        "the SM Portal keeps only the text/plain part; the HTML body of the message is lost",
        NOTIFICATION_DEF + " (the message itself)",
    ),
    _d(
        "t1-portal-truncates-long-body",
        "T1-r1 / SM Portal",
        "the SM Portal stores only the first 2000 characters of the body",
        NOTIFICATION_DEF + " (the message itself)",
    ),
    _d(
        "t1-non-ascii-subject-mangled",
        "T1-r1 / Mail Box + SM Portal",
        "a non-ASCII subject is stored and shown as its raw RFC 2047 encoded-word",
        NOTIFICATION_DEF,
    ),
    _d(
        "internal-match-suffix",
        "T1-r1 / internal vs external",
        "a domain ending in an internal domain (evil-northwind.test, sub.northwind.test) counts as internal: "
        "those external recipients get an Email with banner",
        T1,
    ),
    _d(
        "internal-match-case-sensitive",
        "T3-r1 / internal vs external",
        "internal domains are compared case-sensitively: Ida@Northwind.TEST counts as external and gets a Notification",
        "T3: Microsoft Office | All | Email with banner",
    ),
    # ---- Table 2: external replies from the SM Portal --------------------------------------------------
    _d(
        "t2-all-reply-as-banner",
        "T2-r1 / Mail Box",
        "a portal reply to an All message reaches the internal user as an Email with banner",
        "T2: Secure Messaging Portal | All | Notification",
    ),
    _d(
        "t2-external-reply-as-notification",
        "T2-r2 / Mail Box",
        "a portal reply to an External message reaches the internal user as a Notification",
        "T2: Secure Messaging Portal | External | Email with banner",
    ),
    _d(
        "t2-external-reply-plain",
        "T2-r2 / Mail Box",
        "a portal reply to an External message reaches the internal user without a banner",
        "T2: Secure Messaging Portal | External | Email with banner",
    ),
    _d(
        "t2-reply-not-in-portal",
        "T2-r1 / SM Portal",
        "the notification of an All reply links to the portal, but the reply is never stored there (404)",
        "T2: ... All | Notification; " + NOTIFICATION_DEF,
    ),
    _d(
        "t2-reply-all-only-sender",
        "T2-r1,r2 / attribute Reply All",
        "reply-all behaves as reply: only the original sender gets it",
        "Allow External Recipients to Reply All: True",
    ),
    _d(
        "t2-reply-all-drops-cc",
        "T2 / attribute Reply All",
        "reply-all goes to the sender and the To recipients; the original Cc recipients are dropped",
        "Allow External Recipients to Reply All: True",
    ),
    _d(
        "t2-reply-all-includes-replier",
        "T2 / attribute Reply All",
        "reply-all also sends the replier a copy of their own reply",
        "Allow External Recipients to Reply All: True",
    ),
    _d(
        "t2-reply-notification-leaks-body",
        "T2-r1 / Mail Box + definition of Notification",
        "the notification of a portal reply quotes the reply's text",
        "T2: ... All | Notification; " + NOTIFICATION_DEF,
    ),
    # ---- Table 3: between internal users ------------------------------------------------------------------
    _d(
        "t3-outlook-all-notification",
        "T3-r1 / Mail Box + MPP",
        "Outlook with All gives internal recipients a Notification",
        "T3: Microsoft Office | All | Email with banner",
    ),
    _d(
        "t3-outlook-external-plain",
        "T3-r2 / Mail Box + MPP",
        "Outlook with External relays to internal recipients without a banner (naive reading of External)",
        "T3: Microsoft Office | External | Email with banner | Email with banner | No",
    ),
    _d(
        "t3-external-def-notifies-internal",
        "T3-r2 / definition External",
        "the External definition secures internal recipients too: Outlook/External gives them a Notification",
        EXTERNAL_DEF + "; T3: Microsoft Office | External | Email with banner",
    ),
    _d(
        "t3-outlook-in-portal",
        "T3-r1,r2 / SM Portal",
        "Outlook messages between internal users are put in the SM Portal and linked from the banner",
        "T3: Microsoft Office | All/External | ... | Message in SM Portal: No",
    ),
    _d(
        "t3-outlook-portal-unlinked",
        "T3-r1,r2 / SM Portal",
        "Outlook messages between internal users are stored in the SM Portal (listed there) though not linked",
        "T3: Microsoft Office | All/External | ... | Message in SM Portal: No",
    ),
    _d(
        "t3-mpp-all-banner",
        "T3-r3 / Mail Box",
        "MPP with All gives internal recipients an Email with banner",
        "T3: Mimecast Personal Portal | All | Notification | Notification | Yes",
    ),
    _d(
        "t3-mpp-view-original",
        "T3-r3 / MPP",
        "the MPP view shows the original message with a banner rather than the notification",
        "T3: Mimecast Personal Portal | All | Notification | Notification",
    ),
    _d(
        "t3-mpp-view-missing",
        "T3-r1,r3 / MPP",
        "messages never appear in the recipient's MPP view",
        "T3: ... | MPP: Email with banner / Notification",
    ),
    _d(
        "t3-mpp-view-no-banner",
        "T3-r1 / MPP",
        "the MPP view shows the email without its banner",
        "T3: Microsoft Office | All | Email with banner | Email with banner",
    ),
    _d(
        "t3-mpp-view-everyone",
        "T3 / MPP",
        "the MPP view lists every user's mail, not only the signed-in user's",
        'T3 column MPP under "Internal Recipient\'s Application"',
    ),
    _d(
        "t3-mpp-external-notification",
        "T3-r4 / Mail Box",
        "MPP with External gives internal recipients a Notification",
        "T3: Mimecast Personal Portal | External | Email with banner",
    ),
    _d(
        "t3-mpp-external-not-in-portal",
        "T3-r4 / SM Portal",
        "MPP with External: Email with banner, but the message is not in the SM Portal",
        "T3: Mimecast Personal Portal | External | Email with banner | Email with banner | Yes",
    ),
    _d(
        "t3-portal-all-reply-banner",
        "T3-r5 / Mail Box",
        "an internal user's portal reply with All reaches the other internal user as an Email with banner",
        "T3: Secure Messaging Portal | Reply using the All definition | Notification",
    ),
    _d(
        "t3-portal-external-reply-notification",
        "T3-r6 / Mail Box",
        "an internal user's portal reply with External reaches the other internal user as a Notification",
        "T3 row 6: Secure Messaging Portal | Reply ... | Email with banner (read: External)",
    ),
    _d(
        "banner-text-only",
        "T3-r1 / definition of Email with banner",
        "the banner is added to the text/plain part but not to the HTML part of multipart/alternative",
        BANNER_DEF,
    ),
    _d(
        "banner-missing-with-attachment",
        "T3-r1,r2 / definition of Email with banner",
        "no banner at all when the message has an attachment",
        BANNER_DEF,
    ),
    _d(
        "banner-at-bottom",
        "T3-r1,r2 / definition of Email with banner",
        "the banner is appended at the bottom of the message, not its top",
        BANNER_DEF,
    ),
    # ---- The whole message (real mail: docs/contract.md, "The whole message") ---------------------------
    _d(
        "whole-banner-in-every-text-part",
        "T3-r1,r2 / definition of Email with banner (real mail)",
        "a banner in every text part: later parts of a multipart/mixed, digest members and enclosed "
        "(forwarded) messages too, which alters the enclosed messages",
        BANNER_DEF,
    ),
    _d(
        "whole-no-banner-without-text-part",
        "T3-r1,r2 / definition of Email with banner (real mail)",
        "a message with no text/plain or text/html part to show (a forwarded message/rfc822, a "
        "multipart/signed, only attachments) arrives unchanged: no banner, like ordinary mail",
        BANNER_DEF,
    ),
    _d(
        "whole-attachment-bannered",
        "T3-r1,r2 / Email with banner: attachments (real mail)",
        "a text attachment (text/plain with a file name) gets the banner too: the attachment is altered",
        BANNER_DEF + "; the email itself arrives, so its attachments arrive as they were sent",
    ),
    _d(
        "whole-valid-report-refused",
        "T1-r1 / T3-r1 / Mail Box (real mail)",
        "a valid delivery report (multipart/report with message/delivery-status) is refused as malformed",
        ALL_DEF + "; " + T1,
    ),
    _d(
        "whole-portal-drops-attachments",
        "T1-r1 / SM Portal (real mail)",
        "the SM Portal copy of the message lists no attachments and leaves them out of its parts",
        NOTIFICATION_DEF + ": the message, not part of it",
    ),
    _d(
        "whole-portal-first-text-only",
        "T1-r1 / SM Portal (real mail)",
        "the SM Portal copy carries only the first text/plain part: later text parts, digest members, "
        "enclosed messages and attachments are missing",
        NOTIFICATION_DEF + ": the message, not part of it",
    ),
    # ---- Attributes ----------------------------------------------------------------------------------
    _d(
        "print-allowed",
        "attribute Print",
        "the SM Portal offers printing and prints",
        "Allow External Recipients to Print: False",
    ),
    _d(
        "print-permission-not-enforced",
        "attribute Print",
        "permissions say print=false but the print request succeeds",
        "Allow External Recipients to Print: False",
    ),
    _d(
        "print-button-in-page",
        "attribute Print",
        "the API says print=false but the SM Portal HTML page has a Print button",
        "Allow External Recipients to Print: False",
    ),
    _d(
        "reply-not-offered",
        "attribute Reply",
        "reply permission false and the reply refused",
        "Allow External Recipients to Reply: True",
    ),
    _d(
        "reply-all-refused",
        "attribute Reply All",
        "reply-all permission false and the reply-all refused",
        "Allow External Recipients to Reply All: True",
    ),
    _d(
        "expiry-90-days",
        "attribute Expire",
        "messages expire 90 days after sending (410 afterwards)",
        "Expire Secure Messages for External Recipients After: Never Expire",
    ),
    _d(
        "expiry-enforced-silently",
        "attribute Expire",
        "expires_at is reported null, but the message is gone (410) after 365 days",
        "Expire Secure Messages for External Recipients After: Never Expire",
    ),
    _d(
        "expiry-shown-in-page",
        "attribute Expire",
        "the SM Portal page says 'expires in 30 days' (the API says Never Expire)",
        "Expire Secure Messages for External Recipients After: Never Expire",
    ),
    _d(
        "read-receipt-on-open",
        "attribute Send Read Receipt",
        "opening the message in the SM Portal sends the sender a read receipt (MDN)",
        READ_RECEIPT,
    ),
    _d(
        "read-receipt-on-reply",
        "attribute Send Read Receipt",
        "replying in the SM Portal sends the sender a read receipt first",
        READ_RECEIPT,
    ),
    _d(
        "read-receipt-headers-kept",
        "attribute Send Read Receipt",
        "Disposition-Notification-To / Return-Receipt-To are left on delivered Emails with banner",
        READ_RECEIPT,
    ),
    _d(
        "read-receipt-headers-on-notification",
        "attribute Send Read Receipt",
        "the notification carries the sender's Disposition-Notification-To",
        READ_RECEIPT,
    ),
    # ---- Definitions -----------------------------------------------------------------------------------
    _d(
        "definition-create-accepted",
        "definitions",
        "POST a definition is accepted and it is listed afterwards",
        "Users of Secure Messaging - Lite cannot create their own definitions",
    ),
    _d(
        "definition-change-accepted",
        "definitions",
        "PATCH/PUT of All or External is accepted and stored",
        "These cannot be changed",
    ),
    _d(
        "definition-delete-accepted",
        "definitions",
        "DELETE of a definition is accepted and it disappears",
        "These cannot be changed",
    ),
    _d(
        "attribute-reply-all-false",
        "definitions / attribute Reply All",
        "the definitions list 'Allow External Recipients to Reply All' = False",
        "Allow External Recipients to Reply All: True",
    ),
    _d(
        "attribute-name-shortened",
        "definitions / attribute Expire",
        "the expiry attribute is listed as 'Expire Messages After'",
        "Expire Secure Messages for External Recipients After: Never Expire",
    ),
    _c(
        "definition-name-case-sensitive",
        "definitions",
        "'external' or 'ALL' in X-SM-Definition is refused as an unknown definition",
        "Mimecast has supplied two definitions ... All ... External — the source names them; matching them "
        "case-insensitively is docs/contract.md's rule",
    ),
    _d(
        "definitions-swapped-mpp",
        "definitions All/External (MPP)",
        "the MPP sends All as External and External as All",
        ALL_DEF + "; " + EXTERNAL_DEF,
    ),
    # ---- Alternatives the source allows ---------------------------------------------------------------
    _a(
        "alt-no-sensitivity-header",
        "definition of Notification",
        "notifications carry no 'Sensitivity: Private' header",
        NOTIFICATION_DEF + " — nothing about a Sensitivity header",
    ),
    _a(
        "alt-subject-wording",
        "definition of Notification",
        "another notification subject: 'Encrypted message waiting for you: {subject}'",
        NOTIFICATION_DEF + " — the wording is not prescribed",
        classification={"notification_subject": r"^Encrypted message waiting for you: "},
    ),
    _a(
        "alt-portal-link-pattern",
        "definition of Notification / SM Portal",
        "portal links read {base}/secure/read/{token} instead of /sm-portal/m/{token}",
        NOTIFICATION_DEF + " — how the portal is reached is not prescribed",
        classification={"portal_link": r"https?://[^\s\"'<>]+/secure/read/nw-[0-9a-f]{32}"},
    ),
    _a(
        "alt-mpp-own-item",
        "T3-r3 / MPP",
        "the MPP shows its own notification item (kind notification, no mail headers) rather than a copy of the email",
        "T3 MPP: Notification — what the MPP shows for it is not prescribed",
    ),
    _a(
        "alt-internal-portal-signin",
        "T3-r3,r5 / SM Portal",
        "internal recipients' notifications carry no link: internal users reach the SM Portal by signing in "
        "(needs a new optional driver capability 'open the SM Portal as this user')",
        NOTIFICATION_DEF + " — no link is required",
    ),
    _a(
        "alt-lowercase-attribute-values",
        "definitions / attributes",
        "attribute values are written false/true instead of False/True",
        "Allow External Recipients to Print False ... (the values' spelling is display, not meaning)",
    ),
    _a(
        "alt-unknown-definition-as-all",
        "definitions",
        "a message naming an unknown definition is handled with All (the strictest) instead of refused",
        "the source names two definitions; it says nothing about messages naming another",
    ),
    _a(
        "alt-banner-wording-table",
        "definition of Email with banner",
        "another banner wording, in an HTML <table role=banner> instead of a <div>",
        BANNER_DEF + " — the wording and markup are not prescribed",
        classification={"banner_text": "SECURE MESSAGE - delivered by Northwind Secure Mail."},
    ),
    _a(
        "alt-notification-html-only",
        "definition of Notification",
        "notifications are HTML-only (no text/plain part)",
        NOTIFICATION_DEF + " — the format is not prescribed",
    ),
    _a(
        "alt-extra-headers",
        "T1-r1, T3 / Mail Box",
        "delivered mail carries extra X-Northwind-* headers",
        "the source does not restrict headers",
    ),
    _a(
        "alt-notification-from-sender-name",
        "definition of Notification",
        'notifications come From: "<sender> via Northwind Secure" <secure@...>',
        NOTIFICATION_DEF,
    ),
    _a(
        "alt-banner-footer-too",
        "definition of Email with banner",
        "a footer line is added at the bottom besides the banner at the top",
        BANNER_DEF,
    ),
    _a(
        "alt-reply-subject-prefix",
        "T2 / SM Portal",
        "portal replies use the subject prefix 'RE: ' and quote the original below the reply",
        "T2: Secure Messaging Portal replies — the reply's wording is not prescribed",
    ),
    _a(
        "alt-mac-internal-notification",
        "D3 / Mimecast for Mac between internal users",
        "Mimecast for Mac between internal users sends a Notification (All) as the MPP does",
        "T3 names Microsoft Office and the MPP, not Mimecast for Mac (source defect D3)",
    ),
    _c(
        "alt-mixed-internal-notified",
        "D4 / mixed recipients",
        "Outlook with All, mixed recipients: internal recipients get a Notification as well",
        "no table covers a message with internal and external recipients (source defect D4)",
    ),
    _a(
        "alt-long-tokens",
        "SM Portal",
        "256-bit portal tokens (64 hex digits)",
        "the source says nothing about links or tokens",
        classification={"portal_link": r"https?://[^\s\"'<>]+/sm-portal/m/nw-[0-9a-f]{64}"},
    ),
]

BY_NAME: dict[str, Behaviour] = {b.name: b for b in CATALOGUE}
assert len(BY_NAME) == len(CATALOGUE), "duplicate behaviour names"


def get(name: str) -> Behaviour:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown behaviour {name!r}; known: {', '.join(BY_NAME)}") from None


def deviations() -> list[Behaviour]:
    return [b for b in CATALOGUE if b.kind == DEVIATION]


def alternatives() -> list[Behaviour]:
    return [b for b in CATALOGUE if b.kind == ALTERNATIVE]


def contract_differences() -> list[Behaviour]:
    return [b for b in CATALOGUE if b.kind == CONTRACT]
