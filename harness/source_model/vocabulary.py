"""The source's vocabulary: its words, definitions, attributes and applications, and what a cell is.

Owns the names the page uses (Notification, Email with banner, Yes/No, the three columns), the two
definitions and their five attributes, the applications (by slug, name and alias), the standing of a
cell (stated, derived, not-specified) and ``Cell`` with its Gherkin form. The tables themselves are
harness/source_model/source.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness import SOURCE_DOCUMENT_ID

SOURCE_TITLE = "Secure Messaging - Lite Definitions"
SOURCE_ID = SOURCE_DOCUMENT_ID

STATED, DERIVED, NOT_SPECIFIED = "stated", "derived", "not-specified"

NOTIFICATION, BANNER = "Notification", "Email with banner"
YES, NO = "Yes", "No"
COLUMNS = ("Mail Box", "MPP", "Message in SM Portal")

ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("Allow External Recipients to Print", "False"),
    ("Allow External Recipients to Reply", "True"),
    ("Allow External Recipients to Reply All", "True"),
    ("Expire Secure Messages for External Recipients After", "Never Expire"),
    ("Send Read Receipt", "No"),
)

DEFINITIONS: dict[str, str] = {
    "All": "Secure Messaging is applied to messages for all recipients (legacy from CCM).",
    "External": "Secure Messaging is applied only to external recipients.",
}


@dataclass(frozen=True)
class Application:
    slug: str
    name: str
    aliases: tuple[str, ...] = ()
    channel: str = "smtp"  # smtp | mpp | portal


APPLICATIONS: dict[str, Application] = {
    app.slug: app
    for app in (
        Application("outlook", "Mimecast for Outlook", ("microsoft office", "office", "outlook")),
        Application("mac", "Mimecast for Mac", ("mac",)),
        Application("mpp", "Mimecast Personal Portal", ("mpp", "personal portal"), "mpp"),
        Application("portal", "Secure Messaging Portal", ("sm portal", "portal"), "portal"),
    )
}


def application(name_or_slug: str) -> Application:
    """The application a user named, by slug, source name or alias."""
    key = name_or_slug.strip().lower()
    for app in APPLICATIONS.values():
        if key == app.slug or key == app.name.lower() or key in app.aliases:
            return app
    known = ", ".join(f"{a.slug} ({a.name})" for a in APPLICATIONS.values())
    raise KeyError(f"unknown application {name_or_slug!r}; known: {known}")


def definition(name: str) -> str:
    for known in DEFINITIONS:
        if name.strip().lower() == known.lower():
            return known
    raise KeyError(f"unknown definition {name!r}; Secure Messaging Lite has exactly: All, External")


@dataclass(frozen=True)
class Cell:
    """One expected cell: its value (None when the source is silent) and standing."""

    value: str | None
    standing: str
    note: str = ""

    @property
    def required(self) -> bool:
        return self.standing in (STATED, DERIVED) and self.value is not None

    def gherkin(self) -> str:
        """How a feature file writes this cell."""
        if self.value is None:
            return "not specified"
        return self.value if self.standing == STATED else f"{self.value} (derived)"


def parse_gherkin_cell(text: str) -> Cell:
    """Inverse of ``Cell.gherkin``: 'Notification', 'Yes (derived)', 'not specified'."""
    text = text.strip()
    if text.lower() == "not specified":
        return Cell(None, NOT_SPECIFIED)
    if text.endswith("(derived)"):
        return Cell(text[: -len("(derived)")].strip(), DERIVED)
    return Cell(text, STATED)
