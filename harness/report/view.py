"""The report's view model: RunResults + harness.source_model.source -> what the pages show.

Owns the mapping from results to the source document: the three source tables
redrawn cell by cell (for each row and column, the scenarios whose cells land
there, worst status wins), the definitions and attributes tables, the source
defects and where they touch, and one view per scenario. No markup, no I/O:
``render`` and ``compare`` turn these objects into HTML.
"""

from __future__ import annotations

import re

from harness import results as R
from harness.profile.trust import unchecked_tls
from harness.report import anchors as A
from harness.report import explored, source_doc, svg
from harness.report.evidence import evidence_view
from harness.report.viewtypes import (  # noqa: F401  (re-exported: view.X is the report's vocabulary)
    CELL_SEVERITY,
    CONTRACT,
    GROUPS,
    STATUS_LABELS,
    CellView,
    DefectView,
    GroupView,
    Link,
    ReportView,
    RowView,
    ScenarioView,
    SimpleRow,
    TableView,
    cell_status,
    duration,
    main_link,
    scenario_status,
    slug,
    verdict_class,
    worst,
)
from harness.source_model import source


def scenario_anchors(scenarios: list[R.ScenarioResult]) -> list[str]:
    """Stable anchors from the source reference and the case (harness.report.anchors)."""
    return A.scenario_anchors(scenarios)


def _link(scenario: R.ScenarioResult, anchor: str, label: str = "", status: str = "") -> Link:
    status = status or scenario_status(scenario)
    return Link(anchor, label or scenario.name, f"{scenario.name} — {STATUS_LABELS.get(status, status)}", status)


def _mentions_defect(scenario: R.ScenarioResult, key: str) -> bool:
    return key in scenario.defects or bool(re.search(rf"\bdefect\s+{key}\b", scenario.name, re.I))


def source_cells(results: R.RunResults, anchors: list[str]) -> dict[tuple[str, str], CellView]:
    """Every source cell (ref, column) with the scenarios whose cells land there."""
    views: dict[tuple[str, str], CellView] = {}
    for source_row in source.rows():
        for column, cell in source_row.cells.items():
            views[(source_row.ref, column)] = CellView(
                source_row.ref, column, cell.value, cell.standing, cell.note, R.CELL_NOT_RUN
            )
    statuses: dict[tuple[str, str], list[str]] = {key: [] for key in views}
    for scenario, anchor in zip(results.scenarios, anchors):
        for result in scenario.cells:
            key = (result.ref, result.column)
            if key not in views:
                continue
            status = cell_status(scenario, result)
            statuses[key].append(status)
            view = views[key]
            if not any(link.anchor == anchor for link in view.links):
                view.links.append(_link(scenario, anchor, status=status))
            elif CELL_SEVERITY.index(status) < CELL_SEVERITY.index(view.links[-1].status):
                view.links[-1].status = status
            if result.observed not in (None, "") and result.observed not in view.observed:
                view.observed.append(result.observed)
    for key, view in views.items():
        view.status = worst(statuses[key])
        for i, link in enumerate(view.links, 1):
            link.label = str(i)
    return views


def _tables(results: R.RunResults, anchors: list[str]) -> list[TableView]:
    cells = source_cells(results, anchors)
    per_table = results.per_table()
    tables = []
    for table in source.TABLES.values():
        rows = []
        for i, source_row in enumerate(table.rows):
            above = table.rows[i - 1].application_text if i else None
            span = 0
            if source_row.application_text != above:
                span = 1
                while (
                    i + span < len(table.rows) and table.rows[i + span].application_text == source_row.application_text
                ):
                    span += 1
            links = [
                _link(s, a)
                for s, a in zip(results.scenarios, anchors)
                if source_row.ref in s.refs or any(c.ref == source_row.ref for c in s.cells)
            ]
            note = ""
            if len(source_row.cases) > 1:
                apps = len({c.application for c in source_row.cases})
                defs = len({c.definition for c in source_row.cases})
                note = f"This row stands for {len(source_row.cases)} cases: {apps} applications × {defs} definitions."
            numbers = {link.anchor: str(n) for n, link in enumerate(links, 1)}
            for column in source.COLUMNS:  # a cell's chips carry the row's case numbers
                for link in cells[(source_row.ref, column)].links:
                    link.label = numbers.get(link.anchor, link.label)
            rows.append(
                RowView(
                    source_row.ref,
                    source_row.ref.split("-")[-1],
                    source_row.application_text,
                    span,
                    source_row.definition_text,
                    source_row.interpretation,
                    [cells[(source_row.ref, column)] for column in source.COLUMNS],
                    source_row.defects,
                    links,
                    note,
                )
            )
        tables.append(
            TableView(
                table.key,
                table.title,
                table.application_heading,
                table.recipient_heading,
                table.key == "T3",
                rows,
                per_table.get(table.key, dict.fromkeys(R.STATUSES, 0)),
            )
        )
    return tables


_ATTRIBUTE_WORDS = (
    ("Reply All", r"reply(\s+to)?\s+all"),
    ("Reply", r"\breply"),
    ("Print", r"\bprint"),
    ("Expire", r"\bexpir"),
    ("Read Receipt", r"read\s+receipt"),
)


def _attribute_of(name: str) -> str | None:
    for key, pattern in _ATTRIBUTE_WORDS:
        if re.search(pattern, name, re.I):
            return next(
                a
                for a, _ in source.ATTRIBUTES
                if key.lower() in a.lower() and (key != "Reply" or not a.endswith("All"))
            )
    return None


def _simple_rows(
    results: R.RunResults, anchors: list[str]
) -> tuple[list[SimpleRow], list[Link], list[SimpleRow], list[Link]]:
    pairs = list(zip(results.scenarios, anchors))
    definitions = []
    for name, text in source.DEFINITIONS.items():
        links = [
            _link(s, a)
            for s, a in pairs
            if s.table == "definitions"
            and (re.search(rf"\b{re.escape(name)}\b", s.name) or any(r.endswith(name) for r in s.refs))
        ]
        definitions.append(
            SimpleRow(
                name,
                text,
                worst([item.status for item in links]) if links else R.CELL_NOT_RUN,
                links,
                f"definition-{name}",
                f"src-def-{name}",
            )
        )
    matched = {link.anchor for row in definitions for link in row.links}
    definition_links = [_link(s, a) for s, a in pairs if s.table == "definitions" and a not in matched]
    attributes = []
    for name, value in source.ATTRIBUTES:
        links = [
            _link(s, a)
            for s, a in pairs
            if (s.table == "attributes" and _attribute_of(s.name) == name)
            or (s.table == "definitions" and "attributes" in s.name.lower())
        ]
        attributes.append(
            SimpleRow(
                name,
                value,
                worst([item.status for item in links]) if links else R.CELL_NOT_RUN,
                links,
                A.attribute_anchor(name)[len("src-") :],
                A.attribute_anchor(name),
            )
        )
    matched = {link.anchor for row in attributes for link in row.links}
    attribute_links = [_link(s, a) for s, a in pairs if s.table == "attributes" and a not in matched]
    for row in definitions + attributes:
        for i, link in enumerate(row.links, 1):
            link.label = str(i)
    return definitions, definition_links, attributes, attribute_links


def _defects(results: R.RunResults, anchors: list[str]) -> list[DefectView]:
    rows = {r.ref for r in source.rows()}
    views = []
    for defect in source.DEFECTS:
        touches = [Link(f"row-{ref}", ref, f"source row {ref}", "") for ref in defect.touches if ref in rows]
        if "definitions" in defect.touches:
            touches.append(Link("definitions", "definitions", "the definitions", ""))
        for scenario, anchor in zip(results.scenarios, anchors):
            if (set(defect.touches) - rows) & set(scenario.refs) or _mentions_defect(scenario, defect.key):
                touches.append(_link(scenario, anchor))
        views.append(DefectView(defect.key, defect.title, defect.text, touches))
    return views


def scenario_view(scenario: R.ScenarioResult, anchor: str) -> ScenarioView:
    evidence_anchor = {e.id: f"{anchor}-ev-{slug(e.id)}" for e in scenario.evidence}
    cells = [
        (c, cell_status(scenario, c), [evidence_anchor[e] for e in c.evidence if e in evidence_anchor])
        for c in scenario.cells
    ]
    evidence = [evidence_view(e, evidence_anchor[e.id]) for e in scenario.evidence]
    refs = list(dict.fromkeys(scenario.refs + [c.ref for c in scenario.cells]))
    known = {r.ref: r for r in source.rows()}
    defects = list(scenario.defects)
    for ref in refs:
        defects += [d for d in (known[ref].defects if ref in known else ()) if d not in defects]
    defects += [
        d.key
        for d in source.DEFECTS
        if d.key not in defects and (_mentions_defect(scenario, d.key) or set(d.touches) & set(refs))
    ]
    return ScenarioView(
        scenario,
        anchor,
        cells,
        evidence,
        sorted(defects),
        [(ref, f"row-{ref}" if ref in known else "") for ref in refs],
    )


def build(results: R.RunResults) -> ReportView:
    anchors = scenario_anchors(results.scenarios)
    views = [scenario_view(s, a) for s, a in zip(results.scenarios, anchors)]
    known = [key for key, _ in GROUPS]
    titles = dict(GROUPS) | {s.table: s.table for s in results.scenarios if s.table not in known}
    groups = []
    for key, title in titles.items():
        members = [v for v in views if v.s.table == key]
        if members:
            counts = dict.fromkeys(R.STATUSES, 0)
            for v in members:
                shown = scenario_status(v.s)
                counts[shown] = counts.get(shown, 0) + 1
            groups.append(GroupView(key, title, members, counts))
    counts = results.counts()
    definitions, definition_links, attributes, attribute_links = _simple_rows(results, anchors)
    verdict = results.verdict()
    missing = missing_names(results)
    bars = [svg.Bar(g.key, f"#group-{g.key}", g.counts) for g in groups]
    if missing:
        bars.append(svg.Bar("missing", "#missing", {"missing": len(missing)}))
    failures = [v for v in views if scenario_status(v.s) in (R.FAILED, CONTRACT, R.HARNESS_ERROR)]
    return ReportView(
        run=results.run,
        verdict=verdict,
        verdict_class=verdict_class(verdict),
        counts=[(s, STATUS_LABELS[s], counts.get(s, 0)) for s in R.STATUSES],
        total=len(results.scenarios),
        tables=_tables(results, anchors),
        definitions=definitions,
        definitions_links=definition_links,
        attributes=attributes,
        attributes_links=attribute_links,
        defects=_defects(results, anchors),
        groups=groups,
        overview=svg.overview(bars),
        failures=failures,
        missing=missing,
        notices=unchecked_tls(results.run.target.get("profile_settings")),
        source_lines=source_doc.document(),
        explorations=results.explorations,
        explored=explored.outcomes(results),
    )


def missing_names(results: R.RunResults) -> list[str]:
    """The scenarios that never reported, each with why where known; [] for a complete run."""
    return [f"{m.name or m.id} — {m.reason}" if m.reason else (m.name or m.id) for m in results.missing]
