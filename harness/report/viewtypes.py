"""The report's view types: statuses, their order and labels, and the objects the pages show.

Plain data and small pure helpers (worst status, verdict class, durations);
``view`` fills these from RunResults + harness.spec.source, the templates print them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.conformance import results as R
from harness.spec import source
from harness.report.evidence import EvidenceView

STATUS_LABELS = {
    R.PASSED: "Passed", R.FAILED: "Failed", R.NOT_APPLICABLE: "Not applicable",
    R.NOT_SPECIFIED: "Not specified", R.HARNESS_ERROR: "Harness error",
    R.CELL_OBSERVED: "Observed", R.CELL_NOT_RUN: "Not run", "absent": "Absent",
}
# Cell statuses, worst first: a source cell shows the worst of its scenarios' cells.
CELL_SEVERITY = (R.FAILED, R.HARNESS_ERROR, R.CELL_NOT_RUN, R.NOT_APPLICABLE, R.CELL_OBSERVED, R.PASSED)
GROUPS = tuple((key, source.TABLE_TITLES[key]) for key in source.TABLE_ORDER)
VERDICT_CLASSES = (("Not conformant", "fail"), ("Incomplete", "error"), ("Conformant (partial", "partial"),
                   ("Conformant", "pass"))


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:80] or "x"


def verdict_class(verdict: str) -> str:
    return next((cls for prefix, cls in VERDICT_CLASSES if verdict.startswith(prefix)), "error")


def cell_status(scenario: R.ScenarioResult, cell: R.CellResult) -> str:
    """A scenario's cell as shown: a cell its scenario never reached takes the scenario's reason."""
    if cell.status == R.CELL_NOT_RUN and scenario.status in (R.HARNESS_ERROR, R.NOT_APPLICABLE):
        return scenario.status
    return cell.status


def worst(statuses: list[str]) -> str:
    ranked = [s for s in CELL_SEVERITY if s in statuses]
    return ranked[0] if ranked else R.CELL_NOT_RUN


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
    source_title: str = source.SOURCE_TITLE
    source_id: str = source.SOURCE_ID


def main_link(cell: CellView) -> Link | None:
    """Where clicking a cell leads: its worst scenario (the first of them, in run order)."""
    if not cell.links:
        return None
    return min(cell.links, key=lambda l: CELL_SEVERITY.index(l.status) if l.status in CELL_SEVERITY else 9)


def duration(seconds: float | None) -> str:
    if not seconds:
        return "0 s"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s"
