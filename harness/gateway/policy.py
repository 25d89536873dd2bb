"""Per-recipient policy: what each recipient of a message gets.

Owns the pure function ``outcome`` (application, definition, sender internal?,
recipient internal?) -> Outcome(mailbox, mpp, in_sm_portal), plus the small
classifiers it needs (internal address, definition and application names).
docs/reference-choices.md explains every cell: which the source states and
which are the reference's own choice. Broken variants that change the policy
are applied here, through the keyword-only ``variant`` argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import idna

from .definitions import canonical_name

NOTIFICATION = "notification"
BANNER = "email_with_banner"
PLAIN = "plain"
NONE = "none"
KINDS = (NOTIFICATION, BANNER, PLAIN, NONE)

APPLICATIONS = ("outlook", "mac", "mpp", "portal")
SMTP_APPLICATION_NAMES = {
    "outlook": "outlook",
    "mimecast for outlook": "outlook",
    "microsoft office": "outlook",
    "mac": "mac",
    "mimecast for mac": "mac",
}

# RFC 5321 §4.1.2 Mailbox: a Dot-string or a Quoted-string local part (qtextSMTP, quoted-pairSMTP)
_MAILBOX_RE = re.compile(
    r"^(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r'|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*")'
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


@dataclass(frozen=True)
class Outcome:
    mailbox: str
    mpp: str
    in_sm_portal: bool


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class BadAddress(ValueError):
    """An address the gateway will not carry; the message says why, fit for an SMTP reply or a 4xx body."""


def is_valid_mailbox(address: str) -> bool:
    return len(address) <= 254 and bool(_MAILBOX_RE.fullmatch(address))


def ascii_domain(domain: str) -> str:
    """A domain by IDNA (UTS #46 mapping, non-transitional) to its ASCII form, lowercased; ValueError if it
    has none. An all-ASCII domain is only lowercased (IDNA would also refuse, e.g., an underscore)."""
    if domain.isascii():
        return domain.translate(_ASCII_LOWER)
    try:
        return idna.encode(domain, uts46=True, transitional=False).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"the domain {domain!r} is not a valid internationalized domain name ({exc})") from None


def address_key(address: str) -> str:
    """The ONE identity of an address, used for every comparison (SM Portal inbox, MPP view, policy,
    reply-all): domain by IDNA to ASCII, lowercased; local part ASCII case-insensitive and nothing else
    folded (a KELVIN SIGN stays a KELVIN SIGN, so it can never equal a K). Never raises: a domain that
    IDNA refuses keeps its characters with only A-Z folded, so it still equals no other address."""
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if not at:
        return address.translate(_ASCII_LOWER)
    try:
        domain = ascii_domain(domain)
    except ValueError:
        domain = domain.translate(_ASCII_LOWER)
    return f"{local.translate(_ASCII_LOWER)}@{domain}"


def carried_address(address: str, where: str = "") -> str:
    """The address as the gateway carries it (domain in IDNA ASCII form, local part as written), or
    BadAddress. The gateway speaks no SMTPUTF8: a non-ASCII local part is refused where it enters."""
    prefix = f"{where}: " if where else ""
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if at and not local.isascii():
        raise BadAddress(
            f"{prefix}{address!r} has a non-ASCII local part; this gateway does not carry SMTPUTF8 "
            "addresses (use an ASCII address)"
        )
    if at:
        try:
            address = f"{local}@{ascii_domain(domain)}" if not domain.isascii() else address
        except ValueError as exc:
            raise BadAddress(f"{prefix}{exc}") from None
    if not is_valid_mailbox(address):
        raise BadAddress(f"{prefix}{address!r} is not a valid mailbox")
    return address


def domain_of(address: str) -> str:
    return address_key(address).rpartition("@")[2]


def is_internal(address: str, internal_domains: list[str]) -> bool:
    """Internal iff the domain exactly (case-insensitively) equals an internal domain."""
    return domain_of(address) in {ascii_domain(d) for d in internal_domains}


def normalize_definition(value: str | None, *, variant: str = "") -> str | None:
    """Canonical definition name, or None if unknown.

    Broken variant 'unknown-definition-accepted': anything unknown is All.
    """
    name = canonical_name(value)
    if name is None and variant == "unknown-definition-accepted" and value is not None:
        return "All"
    return name


def normalize_smtp_application(value: str | None) -> str | None:
    """outlook/mac for SMTP submission (absent -> outlook); None if not allowed."""
    if value is None:
        return "outlook"
    return SMTP_APPLICATION_NAMES.get(" ".join(value.split()).lower())


def outcome(
    application: str,
    definition: str | None,
    sender_internal: bool,
    recipient_internal: bool,
    *,
    variant: str = "",
) -> Outcome:
    """What one recipient gets. ``definition`` None means a non-secure message."""
    if application not in APPLICATIONS:
        raise ValueError(f"unknown application {application!r}")
    if variant == "internal-as-external":
        recipient_internal = False
    if definition is None:
        # not secure: relayed as it is; internal users also see it in their MPP
        return Outcome(PLAIN, PLAIN if recipient_internal else NONE, False)
    if definition not in ("All", "External"):
        raise ValueError(f"unknown definition {definition!r}")

    if not recipient_internal:
        # T1 (and replies from the SM Portal to other external users): always a
        # notification; external users have no MPP; the notification's own
        # meaning puts the message in the SM Portal.
        if variant == "mpp-external-banner" and application == "mpp" and definition == "External":
            return Outcome(BANNER, NONE, _in_portal(True, application, variant))
        return Outcome(NOTIFICATION, NONE, _in_portal(True, application, variant))

    if application in ("outlook", "mac"):
        # T3 rows 1-2 ("Microsoft Office"); mac: the reference's choice, same as Outlook
        if variant == "office-internal-notification":
            return Outcome(NOTIFICATION, NOTIFICATION, True)
        return Outcome(BANNER, BANNER, False)

    # mpp (T3 rows 3-4) and portal (T3 rows 5-6, T2)
    effective = definition
    if variant == "table2-swapped" and application == "portal" and not sender_internal:
        effective = "External" if definition == "All" else "All"
    if effective == "All":
        return Outcome(NOTIFICATION, NOTIFICATION, _in_portal(True, application, variant))
    return Outcome(BANNER, BANNER, _in_portal(True, application, variant))


def _in_portal(value: bool, application: str, variant: str) -> bool:
    if variant == "mpp-not-in-portal" and application == "mpp":
        return False
    return value
