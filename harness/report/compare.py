"""Two runs side by side: per source-table cell and per scenario, differing first.

``compare_rows(a, b)`` is the data (tests use it); ``write_comparison(a, b,
out_dir)`` writes ``comparison.html``, one self-contained page
(templates/compare.html.j2) with both runs' target and verdict on top.
Cells are compared by their shown status and observed values (the same
worst-status-wins aggregation as the report), scenarios by id, then status
and observed text; a scenario only one run has is "absent" in the other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from harness.conformance import results as R
from harness.files import atomic_write_text, ensure_dir
from harness.spec import source
from harness.report import view as V
from harness.report.render import environment


@dataclass
class CompareRow:
    kind: str  # cell | scenario
    key: str  # "T3-r4 / Mail Box" or the scenario id
    label: str
    table: str
    expected: str  # the source's value and standing (cells), or "" (scenarios)
    a_status: str
    b_status: str
    a_detail: str
    b_detail: str

    @property
    def differs(self) -> bool:
        return (self.a_status, self.a_detail) != (self.b_status, self.b_detail)


def _cell_detail(cell: V.CellView) -> str:
    return ", ".join(sorted(cell.observed)) if cell.observed else ""


def _cell_rows(a: R.RunResults, b: R.RunResults) -> list[CompareRow]:
    cells_a = V.source_cells(a, V.scenario_anchors(a.scenarios))
    cells_b = V.source_cells(b, V.scenario_anchors(b.scenarios))
    rows = []
    for source_row in source.rows():
        for column in source.COLUMNS:
            ca, cb = cells_a[(source_row.ref, column)], cells_b[(source_row.ref, column)]
            expected = ca.expected if ca.expected is not None else "not specified"
            if ca.standing == source.DERIVED:
                expected += " (derived)"
            rows.append(CompareRow("cell", f"{source_row.ref} / {column}", f"{source_row.ref} · {column}",
                                   source_row.table, expected, ca.status, cb.status,
                                   _cell_detail(ca), _cell_detail(cb)))
    return rows


def _scenario_detail(scenario: R.ScenarioResult | None) -> str:
    if scenario is None:
        return ""
    observed = "; ".join(f"{c.ref} {c.column}: {c.observed}" for c in scenario.cells if c.observed is not None)
    return observed or scenario.observed or (scenario.message.splitlines()[0] if scenario.message else "")


def _scenario_rows(a: R.RunResults, b: R.RunResults) -> list[CompareRow]:
    by_a = {s.id or s.name: s for s in a.scenarios}
    by_b = {s.id or s.name: s for s in b.scenarios}
    rows = []
    for key in list(by_a) + [k for k in by_b if k not in by_a]:
        sa, sb = by_a.get(key), by_b.get(key)
        some = sa or sb
        assert some is not None
        rows.append(CompareRow("scenario", key, some.name, some.table, "",
                               sa.status if sa else "absent", sb.status if sb else "absent",
                               _scenario_detail(sa), _scenario_detail(sb)))
    return rows


def _differing_first(rows: list[CompareRow]) -> list[CompareRow]:
    return [r for r in rows if r.differs] + [r for r in rows if not r.differs]


def compare_rows(a: R.RunResults, b: R.RunResults) -> dict[str, list[CompareRow]]:
    """{"cells": [...], "scenarios": [...]}, each list with the differing rows first, then source/run order."""
    return {"cells": _differing_first(_cell_rows(a, b)), "scenarios": _differing_first(_scenario_rows(a, b))}


def render_comparison(a: R.RunResults, b: R.RunResults) -> str:
    rows = compare_rows(a, b)
    runs = []
    for name, results in (("A", a), ("B", b)):
        verdict = results.verdict()
        runs.append({"name": name, "run": results.run, "verdict": verdict, "verdict_class": V.verdict_class(verdict),
                     "counts": [(s, V.STATUS_LABELS[s], n) for s, n in results.counts().items()]})
    sections = []
    for key, title in (("cells", "Source table cells"), ("scenarios", "Scenarios")):
        differing = [r for r in rows[key] if r.differs]
        same = [r for r in rows[key] if not r.differs]
        sections.append({"key": key, "title": title, "differing": differing, "same": same})
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return environment().get_template("compare.html.j2").render(runs=runs, sections=sections, generated=generated)


def write_comparison(a: R.RunResults, b: R.RunResults, out_dir: Path) -> Path:
    """Write ``comparison.html`` into ``out_dir`` (created if needed) and return its path."""
    path = ensure_dir(out_dir) / "comparison.html"
    atomic_write_text(path, render_comparison(a, b))
    return path
