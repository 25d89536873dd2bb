"""Deliberately broken variants of the reference gateway.

Each variant is one small, targeted deviation from docs/contract.md, used to
prove that the conformance suite notices it. The deviation itself lives where
the real logic lives (policy, composer, HTTP routes); this module only names
the variants and resolves which one is active.

The active variant comes from the config key ``variant``; the environment
variable ``SMLITE_GATEWAY_VARIANT``, when set, overrides it ("" = correct).
"""

from __future__ import annotations

import os

ENV_VAR = "SMLITE_GATEWAY_VARIANT"

VARIANTS: dict[str, str] = {
    "mpp-external-banner": "MPP + External to an external recipient gives an email with banner instead of a notification",
    "mpp-not-in-portal": "messages sent from MPP are not put in the SM Portal; their notification links are dead (404)",
    "print-allowed": "permissions.print is true and POST .../print answers 200",
    "no-reply-all": "permissions.reply_all is false and reply-all answers 403",
    "read-receipt": "opening a message in the SM Portal sends a read receipt to the original sender",
    "expire-30-days": "SM Portal messages expire 30 days after they were sent (410)",
    "definition-editable": "PATCH /admin/api/definitions/{name} changes attribute values (200)",
    "internal-as-external": "every recipient is treated as external",
    "table2-swapped": "SM Portal replies by external senders: All gives the External outcome and vice versa",
    "notification-with-body": "notifications include the original text body",
    "third-definition": "a third definition 'Internal' is listed",
    "office-internal-notification": "outlook/mac to internal recipients gives a notification instead of a banner",
    "portal-drops-attachments": "the SM Portal's message lists no attachments (parts, attachments and downloads)",
    "portal-first-text-part-only": "the SM Portal's message lists only its first text/plain part",
    "banner-in-enclosed-messages": "the email with banner also has a banner inside every enclosed message",
    "banner-inside-report-parts": "the banner is also written into a report's machine-readable parts (DSN status)",
    "no-banner-without-text-part": "a message without a text/plain or text/html part gets no banner at all",
    "attachment-altered": "one byte of the first attachment is changed in the email with banner",
    "fourth-recipient-forgotten": "a message to four or more people is accepted, but the fourth and later get nothing",
    "print-allowed-after-a-year": "printing is allowed once the message is more than a year old",
    "reply-refused-after-90-days": "reply and reply all are refused (403) once the message is more than 90 days old",
    "bcc-internal-plain": "an internal recipient named in no header (Bcc) gets the original, with no banner",
}

# Choices the source allows but docs/contract.md makes otherwise: the suite must accept them
# (Conformant), reporting each as a contract difference.
ALTERNATIVES: dict[str, str] = {
    "no-private-marker": "notifications lack the Sensitivity: Private header",
    "unknown-definition-accepted": "an unknown definition is accepted and treated as All",
}


class UnknownVariant(ValueError):
    """Raised for a variant name that is not in VARIANTS."""


def resolve(configured: str, environ: dict[str, str] | None = None) -> str:
    """Return the active variant name ("" = correct), env overriding config."""
    env = os.environ if environ is None else environ
    name = env.get(ENV_VAR, configured)
    name = (name or "").strip()
    if name and name not in VARIANTS and name not in ALTERNATIVES:
        listing = "\n".join(f"  {k}: {v}" for k, v in {**VARIANTS, **ALTERNATIVES}.items())
        raise UnknownVariant(f"unknown variant {name!r}; known variants:\n{listing}")
    return name
