"""Owns: every promise the source makes that one message or one conversation can break, with its level.

A promise is what exploration (harness/exploration/) checks after each step of a generated conversation,
and what a counterexample names. Each carries its ``level`` — the levels of harness/policy.py: ``source``
(the page states it), ``derived`` (it follows from the page's words), ``contract`` (docs/contract.md chose
where the page is silent) — the source's own ``words`` it rests on, and what ``breaks`` it. The table
cells are read from harness/source_model/source.py (one promise per required cell of each row, so the
two can never disagree); the meanings, attributes, definitions and the contract's choices are written here.
docs/exploration.md's promise table is generated from this module (``markdown_table``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from harness import policy
from harness.source_model import source

CELL, MEANING, ATTRIBUTE, DEFINITION, INTERNAL, REFUSAL = (
    "table cell",
    "meaning",
    "attribute",
    "definition",
    "who is internal",
    "refusal",
)
KINDS: Final = (CELL, MEANING, ATTRIBUTE, DEFINITION, INTERNAL, REFUSAL)


@dataclass(frozen=True)
class Promise:
    key: str
    kind: str
    level: str  # harness/policy.py: source | derived | contract
    words: str  # the source's words (or docs/contract.md's) it rests on
    breaks: str  # what a target does that breaks it


def cell_key(ref: str, column: str) -> str:
    """The key of the promise of one table cell, e.g. ``T3-r1 Mail Box``."""
    return f"{ref} {column}"


def _cell_promises() -> Iterator[Promise]:
    for row in source.rows():
        for column, cell in row.cells.items():
            if not cell.required or cell.value is None:
                continue
            recipient = source.TABLES[row.table].recipient_heading
            words = f"{row.application_text} · {row.definition_text} · {recipient} · {column}: {cell.value}"
            if cell.standing == source.DERIVED:
                words += f" (blank in the source; {cell.note})"
            yield Promise(
                cell_key(row.ref, column),
                CELL,
                policy.level_of(cell.standing),
                words,
                f"a recipient of this case gets anything but {cell.value!r} in {column}",
            )


_NOTIFICATION_WORDS = (
    '"Notification" means an email notification is received indicating there is a message ready to be read '
    "from the Secure Messaging Portal."
)
_BANNER_WORDS = (
    '"Email with banner" means a banner message is displayed at the top the email, indicating it was sent as a '
    "Secure Message."
)

_WRITTEN: Final = (
    Promise(
        "notification-leads-to-the-portal",
        MEANING,
        policy.DERIVED,
        _NOTIFICATION_WORDS,
        "a notification without a link that opens the very message in the SM Portal",
    ),
    Promise(
        "notification-is-not-the-message",
        MEANING,
        policy.DERIVED,
        _NOTIFICATION_WORDS + " (the message is read in the portal, not in the mailbox)",
        "a notification that carries the original's text, parts or attachments",
    ),
    Promise(
        "banner-at-the-top",
        MEANING,
        policy.SOURCE,
        _BANNER_WORDS,
        "an email with banner whose banner is missing, or not at the top of every readable body",
    ),
    Promise(
        "banner-keeps-the-message",
        MEANING,
        policy.DERIVED,
        _BANNER_WORDS + " (it is the email itself: every part and attachment kept)",
        "an email with banner that lacks or alters a part, an attachment or the end of the text",
    ),
    Promise(
        "portal-holds-the-whole-message",
        MEANING,
        policy.DERIVED,
        '"Message in SM Portal": Yes — the message itself is in the Secure Messaging Portal',
        "the SM Portal's message lacks a part, an attachment, the HTML or the subject of the original",
    ),
    Promise(
        "print-refused",
        ATTRIBUTE,
        policy.SOURCE,
        "Allow External Recipients to Print: False",
        "the SM Portal offers an external recipient printing, or prints",
    ),
    Promise(
        "reply-offered",
        ATTRIBUTE,
        policy.SOURCE,
        "Allow External Recipients to Reply: True",
        "the SM Portal does not offer an external recipient to reply, or refuses the reply",
    ),
    Promise(
        "reply-all-offered",
        ATTRIBUTE,
        policy.SOURCE,
        "Allow External Recipients to Reply All: True",
        "the SM Portal does not offer reply all, refuses it, or the reply misses someone on the message",
    ),
    Promise(
        "never-expires",
        ATTRIBUTE,
        policy.SOURCE,
        "Expire Secure Messages for External Recipients After: Never Expire",
        "a message an external recipient could read becomes unreadable, or shows an expiry, as the clock moves",
    ),
    Promise(
        "no-read-receipt",
        ATTRIBUTE,
        policy.SOURCE,
        "Send Read Receipt: No",
        "opening a message in the SM Portal sends the sender a read receipt",
    ),
    Promise(
        "exactly-two-definitions",
        DEFINITION,
        policy.SOURCE,
        "Mimecast has supplied two definitions, that can be listed in the Administration Console. "
        "They are called: All … External",
        "the Administration Console lists another set of definitions",
    ),
    Promise(
        "definitions-carry-the-attributes",
        DEFINITION,
        policy.SOURCE,
        "The definitions have the following attributes: Print False, Reply True, Reply All True, "
        "Expire Never Expire, Send Read Receipt No",
        "a listed definition lacks an attribute or shows another value",
    ),
    Promise(
        "definitions-cannot-be-changed",
        DEFINITION,
        policy.SOURCE,
        "Users of Secure Messaging - Lite cannot create their own definitions … These cannot be changed.",
        "the Administration Console creates, changes or deletes a definition",
    ),
    Promise(
        "internal-domain-in-any-case",
        INTERNAL,
        policy.DERIVED,
        "docs/contract.md: a recipient is internal when its domain (case-insensitive) is one of the internal "
        "domains — domains are case-insensitive (RFC 5321 §2.4)",
        "a recipient at an internal domain written in mixed case is handled as external",
    ),
    Promise(
        "look-alike-is-external",
        INTERNAL,
        policy.DERIVED,
        "a domain is its whole name (RFC 5321 §2.3.5): letters glued in front of an internal domain make "
        "another domain, external",
        "a recipient at a look-alike of an internal domain is handled as internal",
    ),
    Promise(
        "sub-domain-is-external",
        INTERNAL,
        policy.CONTRACT,
        "docs/contract.md: internal domains match exactly, so a sub-domain of one is external",
        "a recipient at a sub-domain of an internal domain is handled as internal",
    ),
    Promise(
        "every-address-form-accepted",
        INTERNAL,
        policy.CONTRACT,
        'docs/contract.md: only "an address that is not a valid mailbox" is refused (553 5.1.3); a quoted-string '
        'local part ("anne van"@example.net, RFC 5321 §4.1.2, RFC 5322 §3.4.1) is a valid mailbox',
        "a message from or to an address with a quoted local part is refused at submission",
    ),
    Promise(
        "mixed-recipients-each-by-their-table",
        INTERNAL,
        policy.CONTRACT,
        "docs/contract.md (source defect D4): a message to internal and external recipients is handled per "
        "recipient, each by the table for them",
        "an internal recipient of a mixed message gets other than table 3 says",
    ),
    Promise(
        "definition-named-in-any-case",
        REFUSAL,
        policy.CONTRACT,
        'docs/contract.md: a definition name is matched case-insensitively ("all", "EXTERNAL")',
        "a message naming a definition in another case is refused or handled as the other definition",
    ),
    Promise(
        "recognition-signals",
        MEANING,
        policy.CONTRACT,
        "docs/contract.md: the signals a delivered item is recognised by (Sensitivity: Private, the banner text)",
        "a notification or email with banner lacking the contract's recognition signals",
    ),
    Promise(
        "unknown-definition-refused",
        REFUSAL,
        policy.CONTRACT,
        "docs/contract.md: a message naming a definition other than All or External is refused with a clear error",
        "a message naming an unknown definition is accepted",
    ),
    Promise(
        "malformed-mail-refused",
        REFUSAL,
        policy.CONTRACT,
        "docs/contract.md: malformed MIME (no header block, a multipart without a usable boundary) is refused "
        "with 554 5.6.0 Malformed message",
        "a malformed message is accepted, or refused without a clear reason",
    ),
)

PROMISES: Final[dict[str, Promise]] = {p.key: p for p in (*_cell_promises(), *_WRITTEN)}


def promise(key: str) -> Promise:
    return PROMISES[key]


def by_level() -> dict[str, int]:
    """How many promises at each level (source, derived, contract)."""
    counts = dict.fromkeys((policy.SOURCE, policy.DERIVED, policy.CONTRACT), 0)
    for item in PROMISES.values():
        counts[item.level] += 1
    return counts


def markdown_table() -> str:
    """The promise table of docs/exploration.md (a test checks that the page carries this very text)."""
    lines = ["| key | kind | level | the words it rests on | broken when |", "|---|---|---|---|---|"]
    for item in PROMISES.values():
        cells = (item.key, item.kind, item.level, item.words, item.breaks)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
