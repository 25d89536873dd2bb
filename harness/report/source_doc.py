"""The source document inside the report: its own words, each table row, cell and attribute anchored.

Owns the copy of the source shipped as package data
(``source/000_99618b2f85010427.txt``, byte for byte the seed; harness.source_model.source
holds the source as data but not its text) and the map from its lines to the
report's anchors (see ``anchors``). The text was flattened from HTML tables,
so a row's cells run together ("Microsoft OfficeAllEmail with banner…"): the
map below cuts each table line into its cells by their exact words, and
``document()`` checks that the cuts put back together are the line, verbatim,
and that every mapped line is found, in order, so an edited copy fails loudly
instead of anchoring the wrong words. Hand-written: no library knows this
document's layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness import SOURCE_DOCUMENT_ID
from harness.report import anchors as A

SOURCE_FILE = Path(__file__).parent / "source" / f"{SOURCE_DOCUMENT_ID}.txt"

MB, MPP, PORTAL = "Mail Box", "MPP", "Message in SM Portal"


def _row(ref: str, *parts: tuple[str, str | None]) -> tuple[str, str, list[tuple[str, str | None, str | None]]]:
    """A table line: its parts are (words, what they are: 'app', 'def', a column name, or None)."""
    cut: list[tuple[str, str | None, str | None]] = []
    for text, what in parts:
        if what in (MB, MPP, PORTAL):
            cut.append((text, A.source_anchor(ref, what), "#" + A.cell_anchor(ref, what)))
        elif what in ("app", "def"):
            cut.append((text, f"{A.source_anchor(ref)}-{what}", "#" + A.row_anchor(ref)))
        else:
            cut.append((text, None, None))
    return A.source_anchor(ref), "#" + A.row_anchor(ref), cut


def _whole(anchor: str, back: str, text: str) -> tuple[str, str, list[tuple[str, str | None, str | None]]]:
    return anchor, back, [(text, None, None)]


def _attribute(name: str, value: str):
    return (
        A.attribute_anchor(name),
        "#" + A.attribute_anchor(name)[len("src-") :],
        [(name, None, None), (value, None, None)],
    )


NB = "\xa0"
# In document order: (line anchor, where it links back to, its parts).
LINES = (
    _whole(
        "src-def-All",
        "#definition-All",
        f"  • All:{NB}This is a legacy from CCM needed for consistency with "
        "CCM. This means that Secure Messaging should be applied to messages for all recipients.",
    ),
    _whole(
        "src-def-External",
        "#definition-External",
        f"  • External:{NB}This offers the same behavior as Secure "
        "Messaging, where Secure Messaging is only applied to external recipients.",
    ),
    _attribute("Allow External Recipients to Print", "False"),
    _attribute("Allow External Recipients to Reply", "True"),
    _attribute("Allow External Recipients to Reply All", "True"),
    _attribute("Expire Secure Messages for External Recipients After", "Never Expire"),
    _attribute("Send Read Receipt", "No"),
    _whole(
        "src-term-notification",
        "#source-tables",
        '  • "Notification" means an email notification is received '
        "indicating there is a message ready to be read from the Secure Messaging Portal.",
    ),
    _whole(
        "src-term-banner",
        "#source-tables",
        '  • "Email with banner" means a banner message is displayed at '
        "the top the email, indicating it was sent as a Secure Message.",
    ),
    _whole("src-T1", "#table-T1", "Internal User Sending Messages to External Users"),
    _row(
        "T1-r1",
        (f"All applications (e.g. Mimecast{NB} for Outlook / Mimecast for Mac / Mimecast Personal Portal)", "app"),
        ("All or External", "def"),
        ("Notification", MB),
    ),
    _whole("src-T2", "#table-T2", "External Users Replying to a Secure Message"),
    _row("T2-r1", ("Secure Messaging Portal", "app"), ("All", "def"), ("Notification", MB)),
    _row("T2-r2", ("External", "def"), ("Email with banner", MB)),
    _whole("src-T3", "#table-T3", "Secure Messages Sent Between Internal Users"),
    _row(
        "T3-r1",
        ("Microsoft Office", "app"),
        ("All", "def"),
        ("Email with banner", MB),
        ("Email with banner", MPP),
        ("No", PORTAL),
    ),
    _row("T3-r2", ("External", "def"), ("Email with banner", MB), ("Email with banner", MPP), ("No", PORTAL)),
    _row(
        "T3-r3",
        ("Mimecast Personal Portal", "app"),
        ("All", "def"),
        ("Notification", MB),
        ("Notification", MPP),
        (" ", None),
        ("Yes", PORTAL),
    ),
    _row("T3-r4", ("External", "def"), ("Email with banner", MB), ("Email with banner", MPP), ("Yes", PORTAL)),
    _row(
        "T3-r5",
        ("Secure Messaging Portal", "app"),
        ("Reply using the All definition", "def"),
        ("Notification", MB),
        ("Notification", MPP),
        (" ", None),
        ("Yes", PORTAL),
    ),
    _row(
        "T3-r6",
        ("Reply using the All definition", "def"),
        ("Email with banner", MB),
        ("Email with banner", MPP),
        ("Yes", PORTAL),
    ),
)


@dataclass(frozen=True)
class Part:
    text: str
    anchor: str | None = None
    back: str | None = None


@dataclass(frozen=True)
class Line:
    parts: tuple[Part, ...]
    anchor: str | None = None
    back: str | None = None
    kind: str = "text"  # text | row | attribute | heading | blank


class SourceTextChanged(RuntimeError):
    """The shipped copy of the source no longer holds the words the report anchors."""


def _kind(anchor: str) -> str:
    if anchor.startswith("src-attr-"):
        return "attribute"
    if anchor.count("-") >= 2 and anchor[4:6] in ("T1", "T2", "T3"):
        return "row"
    if anchor in ("src-T1", "src-T2", "src-T3"):
        return "heading"
    return "text"


@lru_cache(maxsize=1)
def document() -> tuple[Line, ...]:
    """The source, line by line, with the mapped lines cut into anchored parts."""
    text = SOURCE_FILE.read_text(encoding="utf-8")
    pending = list(LINES)
    out = []
    for raw in text.split("\n"):
        if pending and raw == "".join(p[0] for p in pending[0][2]):
            anchor, back, parts = pending.pop(0)
            out.append(Line(tuple(Part(*p) for p in parts), anchor, back, _kind(anchor)))
        else:
            out.append(Line((Part(raw),), kind="blank" if not raw.strip() else "text"))
    if pending:
        raise SourceTextChanged(f"{SOURCE_FILE}: line not found in order: {''.join(p[0] for p in pending[0][2])!r}")
    return tuple(out)


def anchors() -> set[str]:
    """Every id the embedded document carries."""
    found = set()
    for line in document():
        if line.anchor:
            found.add(line.anchor)
        found.update(p.anchor for p in line.parts if p.anchor)
    return found


def cell_words(ref: str, column: str) -> str:
    """Where a report cell links to in the source: its own words, or its row's when the source is blank there."""
    own = A.source_anchor(ref, column)
    return own if own in anchors() else A.source_anchor(ref)
