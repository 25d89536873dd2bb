"""The source document as data: definitions, attributes, tables, defects.

Everything the suite, the simulator and the report know about the vendor page
(`shared/seed/000_99618b2f85010427.txt`, restored by `SPEC-READING.md`) lives
here, cell by cell, with each cell's standing:

* ``stated``        the source says it;
* ``derived``       it follows from the source's own words;
* ``not-specified`` the source is silent: observed and reported, never required.

``expected_cells`` is the suite's oracle. The reference gateway has its own
policy (harness/gateway/policy.py) and never imports this module: the two are
compared by tests, so a mistake in one is not silently copied into the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from harness.source_model.vocabulary import (
    APPLICATIONS,
    ATTRIBUTES,
    BANNER,
    COLUMNS,
    DEFINITIONS,
    DERIVED,
    NO,
    NOT_SPECIFIED,
    NOTIFICATION,
    SOURCE_ID,
    SOURCE_TITLE,
    STATED,
    YES,
    Application,
    Cell,
    application,
    definition,
    parse_gherkin_cell,
)

__all__ = [
    "APPLICATIONS",
    "ATTRIBUTES",
    "BANNER",
    "COLUMNS",
    "DEFECTS",
    "DEFINITIONS",
    "DERIVED",
    "NO",
    "NOTIFICATION",
    "NOT_SPECIFIED",
    "SOURCE_ID",
    "SOURCE_TITLE",
    "STATED",
    "TABLES",
    "TABLE_ORDER",
    "TABLE_TITLES",
    "YES",
    "Application",
    "Case",
    "Cell",
    "Defect",
    "SourceRow",
    "SourceTable",
    "application",
    "cases",
    "defects_of",
    "definition",
    "expected_cells",
    "interpretation_of",
    "parse_gherkin_cell",
    "row",
    "rows",
    "silent_ref",
    "table_sort_key",
]


@dataclass(frozen=True)
class Case:
    """One concrete, runnable case of a source row."""

    ref: str
    application: str  # slug
    definition: str
    sender_internal: bool
    recipient_internal: bool
    cells: dict[str, Cell]
    interpretation: str = ""

    @property
    def case_id(self) -> str:
        return f"{self.ref} {APPLICATIONS[self.application].name} / {self.definition}"


@dataclass(frozen=True)
class SourceRow:
    ref: str
    table: str
    application_text: str  # verbatim
    definition_text: str  # verbatim
    cells: dict[str, Cell]
    cases: tuple[Case, ...]
    interpretation: str = ""
    defects: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceTable:
    key: str
    title: str
    application_heading: str
    recipient_heading: str
    rows: tuple[SourceRow, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Defect:
    key: str
    title: str
    text: str
    touches: tuple[str, ...]  # row refs or "definitions"


DEFECTS: tuple[Defect, ...] = (
    Defect(
        "D1",
        "Table 3 rows 5 and 6 contradict each other",
        "Both read 'Secure Messaging Portal' / 'Reply using the All definition' with different "
        "outcomes. Row 6's outcome is every other table's External outcome, so the suite reads it "
        "as 'Reply using the External definition' — an interpretation, with the verbatim text kept.",
        ("T3-r5", "T3-r6"),
    ),
    Defect(
        "D2",
        "Blank cells",
        "Table 1's MPP and SM Portal cells and table 2's MPP and SM Portal cells are blank. Where "
        "the source's own definition of 'Notification' implies the message is in the SM Portal, "
        "the cell is derived; the rest is not specified.",
        ("T1-r1", "T2-r1", "T2-r2"),
    ),
    Defect(
        "D3",
        "Applications not covered",
        "Table 3 names 'Microsoft Office' but not Mimecast for Mac; table 1 lists 'Mimecast for "
        "Outlook'. Whether 'Microsoft Office' is Mimecast for Outlook is not said (the suite "
        "assumes it is); Mimecast for Mac between internal users is not specified.",
        ("T1-r1", "T3-r1", "T3-r2", "X-mac"),
    ),
    Defect(
        "D4",
        "Mixed recipients",
        "No table says what happens when one message has internal and external recipients. "
        "Per-recipient application of the tables is the natural reading, not a stated one.",
        ("X-mixed",),
    ),
)


def _cells(mail_box: Cell, mpp: Cell, portal: Cell) -> dict[str, Cell]:
    return dict(zip(COLUMNS, (mail_box, mpp, portal)))


def _s(value: str) -> Cell:
    return Cell(value, STATED)


_NOTIFICATION_IMPLIES_PORTAL = "'Notification' means a message is ready in the SM Portal"
_NO_MPP_FOR_EXTERNAL = "blank in the source; external users have no MPP"


def _table1() -> SourceTable:
    cells = _cells(
        _s(NOTIFICATION),
        Cell(None, NOT_SPECIFIED, _NO_MPP_FOR_EXTERNAL),
        Cell(YES, DERIVED, _NOTIFICATION_IMPLIES_PORTAL),
    )
    cases = tuple(
        Case("T1-r1", app, d, True, False, cells) for app in ("outlook", "mac", "mpp") for d in ("All", "External")
    )
    row = SourceRow(
        "T1-r1",
        "T1",
        "All applications (e.g. Mimecast for Outlook / Mimecast for Mac / Mimecast Personal Portal)",
        "All or External",
        cells,
        cases,
        defects=("D2", "D3"),
    )
    return SourceTable(
        "T1",
        "Internal User Sending Messages to External Users",
        "Internal Users Application",
        "External Recipients Application",
        (row,),
    )


def _table2() -> SourceTable:
    all_cells = _cells(
        _s(NOTIFICATION),
        Cell(None, NOT_SPECIFIED, "blank in the source"),
        Cell(YES, DERIVED, _NOTIFICATION_IMPLIES_PORTAL),
    )
    ext_cells = _cells(
        _s(BANNER), Cell(None, NOT_SPECIFIED, "blank in the source"), Cell(None, NOT_SPECIFIED, "blank in the source")
    )
    rows = tuple(
        SourceRow(
            ref,
            "T2",
            "Secure Messaging Portal",
            d,
            cells,
            (Case(ref, "portal", d, False, True, cells),),
            defects=("D2",),
        )
        for ref, d, cells in (("T2-r1", "All", all_cells), ("T2-r2", "External", ext_cells))
    )
    return SourceTable(
        "T2",
        "External Users Replying to a Secure Message",
        "External Users Application",
        "Internal Recipients Application",
        rows,
    )


def _table3() -> SourceTable:
    spec = (
        ("T3-r1", "Microsoft Office", "outlook", "All", "All", BANNER, BANNER, NO, ""),
        ("T3-r2", "Microsoft Office", "outlook", "External", "External", BANNER, BANNER, NO, ""),
        ("T3-r3", "Mimecast Personal Portal", "mpp", "All", "All", NOTIFICATION, NOTIFICATION, YES, ""),
        ("T3-r4", "Mimecast Personal Portal", "mpp", "External", "External", BANNER, BANNER, YES, ""),
        (
            "T3-r5",
            "Secure Messaging Portal",
            "portal",
            "Reply using the All definition",
            "All",
            NOTIFICATION,
            NOTIFICATION,
            YES,
            "",
        ),
        (
            "T3-r6",
            "Secure Messaging Portal",
            "portal",
            "Reply using the All definition",
            "External",
            BANNER,
            BANNER,
            YES,
            "Interpretation: read as 'Reply using the External definition' (source defect D1).",
        ),
    )
    rows = []
    for ref, app_text, app, def_text, d, box, mpp, portal, interp in spec:
        cells = _cells(_s(box), _s(mpp), _s(portal))
        defects = ("D1",) if ref in ("T3-r5", "T3-r6") else ("D3",) if app == "outlook" else ()
        rows.append(
            SourceRow(
                ref, "T3", app_text, def_text, cells, (Case(ref, app, d, True, True, cells, interp),), interp, defects
            )
        )
    return SourceTable(
        "T3",
        "Secure Messages Sent Between Internal Users",
        "Internal Users Sending Secure Messages",
        "Internal Recipient's Application",
        tuple(rows),
    )


TABLES: dict[str, SourceTable] = {t.key: t for t in (_table1(), _table2(), _table3())}


def rows() -> Iterator[SourceRow]:
    for table in TABLES.values():
        yield from table.rows


def row(ref: str) -> SourceRow:
    for candidate in rows():
        if candidate.ref == ref:
            return candidate
    raise KeyError(ref)


# The order of the run's groups everywhere (terminal summary, report, junit): the page's own order.
TABLE_ORDER = ("definitions", "T1", "T2", "T3", "attributes", "other")
TABLE_TITLES = {
    "definitions": "The two definitions",
    **{k: f"Table {k[1]} — {t.title}" for k, t in TABLES.items()},
    "attributes": "The definitions' attributes",
    "other": "Where the source is silent, and other checks",
}


def table_sort_key(table: str) -> int:
    return TABLE_ORDER.index(table) if table in TABLE_ORDER else len(TABLE_ORDER)


def defects_of(refs: Iterable[str]) -> list[str]:
    """The source defects that touch any of ``refs`` (row refs, or "definitions")."""
    refs = set(refs)
    found = {d.key for d in DEFECTS if refs & set(d.touches)}
    found |= {key for r in rows() if r.ref in refs for key in r.defects}
    return sorted(found)


def interpretation_of(refs: Iterable[str]) -> str:
    """How the suite reads the source rows ``refs`` where the page is ambiguous ("" when it is not)."""
    return " ".join(dict.fromkeys(r.interpretation for r in rows() if r.ref in set(refs) and r.interpretation))


def silent_ref(app: str, sender_internal: bool, recipient_internal: bool) -> str:
    """The ref of a case no source row covers: ``X-mac`` (defect D3), else ``X-<app>-<from>-to-<to>``.

    ``X-mixed`` (defect D4) is a property of a whole message, so the feature tags it (``@ref:X-mixed``)."""
    if app == "mac" and sender_internal and recipient_internal:
        return "X-mac"
    side = {True: "internal", False: "external"}
    return f"X-{app}-{side[sender_internal]}-to-{side[recipient_internal]}"


def cases() -> Iterator[Case]:
    for source_row in rows():
        yield from source_row.cases


def expected_cells(
    app: str, definition_name: str, sender_internal: bool, recipient_internal: bool
) -> tuple[str | None, dict[str, Cell]]:
    """The oracle: (source ref or None, expected cells) for one recipient.

    Where no row covers the case, every cell is not specified and the ref is None.
    """
    for case in cases():
        if (case.application, case.definition, case.sender_internal, case.recipient_internal) == (
            app,
            definition_name,
            sender_internal,
            recipient_internal,
        ):
            return case.ref, case.cells
    silent = Cell(None, NOT_SPECIFIED, "no source row covers this case")
    return None, _cells(silent, silent, silent)
