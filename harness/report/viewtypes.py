"""The report's view types: statuses, their order and labels, and the objects the pages show.

Plain data and small pure helpers (worst status, verdict class, durations);
``view`` fills these from RunResults + harness.source_model.source, the templates print them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness import policy
from harness import results as R
from harness.report import anchors as A
from harness.report import source_doc
from harness.report.evidence import EvidenceView
from harness.source_model import source

# What a status shows and how bad it is are the policy's (harness/policy.py): a failed cell at level
# "contract" differs from the vendor contract, not from the source's words, and shows as a contract difference.
STATUS_LABELS = policy.LABELS
CONTRACT = policy.CONTRACT_DIFFERENCE
CELL_SEVERITY = policy.SEVERITY
GROUPS = tuple((key, source.TABLE_TITLES[key]) for key in source.TABLE_ORDER)
VERDICT_CLASSES = (
    (policy.NOT_CONFORMANT, "fail"),
    (policy.INCOMPLETE, "error"),
    (f"{policy.CONFORMANT} (partial", "partial"),
    (policy.CONFORMANT, "pass"),
)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:80] or "x"


def verdict_class(verdict: str) -> str:
    return next((cls for prefix, cls in VERDICT_CLASSES if verdict.startswith(prefix)), "error")


def cell_status(scenario: R.ScenarioResult, cell: R.CellResult) -> str:
    """A scenario's cell as shown (harness/policy.py)."""
    return policy.shown_cell_status(cell.status, cell.level, scenario.status)


def scenario_status(scenario: R.ScenarioResult) -> str:
    """A scenario as counted in the overview."""
    return scenario.status


def worst(statuses: list[str]) -> str:
    return policy.worst(statuses)


@dataclass
class Link:
    anchor: str
    label: str
    title: str
    status: str


@dataclass
class CellView:
    ref: str
    column: str
    expected: str | None
    standing: str
    note: str
    status: str
    observed: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return A.cell_anchor(self.ref, self.column)

    @property
    def words(self) -> str:
        """The anchor of this cell's words in the embedded source document."""
        return source_doc.cell_words(self.ref, self.column)


@dataclass
class RowView:
    ref: str
    short: str
    application_text: str
    app_rowspan: int  # 0: covered by the row above
    definition_text: str
    interpretation: str
    cells: list[CellView]
    defects: tuple[str, ...]
    links: list[Link]
    cases_note: str = ""


@dataclass
class TableView:
    key: str
    title: str
    application_heading: str
    recipient_heading: str
    grouped: bool  # the application heading spans Application + Routing Definition (table 3)
    rows: list[RowView]
    counts: dict[str, int]


@dataclass
class SimpleRow:
    name: str
    text: str
    status: str
    links: list[Link]
    anchor: str = ""  # this row in the report
    words: str = ""  # its words in the embedded source document


@dataclass
class DefectView:
    key: str
    title: str
    text: str
    touches: list[Link]


@dataclass
class ScenarioView:
    s: R.ScenarioResult
    anchor: str
    cells: list[tuple[R.CellResult, str, list[str]]]  # (cell, shown status, evidence anchors)
    evidence: list[EvidenceView]
    defects: list[str]
    row_refs: list[tuple[str, str]]  # (ref, row anchor or "")


@dataclass
class GroupView:
    key: str
    title: str
    scenarios: list[ScenarioView]
    counts: dict[str, int]


@dataclass
class ReportView:
    run: R.RunInfo
    verdict: str
    verdict_class: str
    counts: list[tuple[str, str, int]]  # (status, label, n)
    total: int
    tables: list[TableView]
    definitions: list[SimpleRow]
    definitions_links: list[Link]  # definitions scenarios no single definition row claims
    attributes: list[SimpleRow]
    attributes_links: list[Link]  # attributes scenarios no single attribute row claims
    defects: list[DefectView]
    groups: list[GroupView]
    overview: object = None  # svg.Markup of the per-table overview
    failures: list[ScenarioView] = field(default_factory=list)  # failed, contract differences, harness errors
    missing: list[str] = field(default_factory=list)  # scenarios that never reported (optional results field)
    notices: list[str] = field(default_factory=list)  # what weakens the evidence: certificate checks off
    explorations: list[R.Exploration] = field(default_factory=list)  # optional: the "Explored" section
    explored: list = field(default_factory=list)  # harness/report/explored.py's outcomes
    source_lines: tuple = ()  # source_doc.document()
    gallery: object = None  # gallery.Gallery: pictures of what the recipients saw (None: none)
    source_title: str = source.SOURCE_TITLE
    source_id: str = source.SOURCE_ID


def main_link(cell: CellView) -> Link | None:
    """Where clicking a cell leads: its worst scenario (the first of them, in run order)."""
    if not cell.links:
        return None
    return min(cell.links, key=lambda item: CELL_SEVERITY.index(item.status) if item.status in CELL_SEVERITY else 9)


def duration(seconds: float | None) -> str:
    if not seconds:
        return "0 s"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s"
