"""Two runs side by side: per source-table cell and per scenario, differing first.

``compare_rows(a, b)`` is the data (tests use it); ``write_comparison(a, b,
out_dir)`` writes ``comparison.html``, one self-contained page
(templates/compare.html.j2) with both runs' target and verdict on top.
Cells are compared by their shown status and observed values (the same
worst-status-wins aggregation as the report), scenarios by id, then status
and observed text; a scenario only one run has is "absent" in the other.

Given where each run's report is (``a_report`` / ``b_report``, an index.html),
every row links into both: a cell to the scenario holding its evidence (the
worst one, as the report's cell does) or to the cell itself, a scenario to its
stable anchor (harness.report.anchors). Links are relative to the comparison
page, so the pair of folders can move together.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from harness import results as R
from harness.files import atomic_write_text, ensure_dir
from harness.report import view as V
from harness.report.render import environment
from harness.source_model import source


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
    a_anchor: str = ""  # where this row's evidence is in run A's report (an id), "" when nowhere
    b_anchor: str = ""

    @property
    def differs(self) -> bool:
        return (self.a_status, self.a_detail) != (self.b_status, self.b_detail)


def _cell_detail(cell: V.CellView) -> str:
    return ", ".join(sorted(cell.observed)) if cell.observed else ""


def _cell_target(cell: V.CellView) -> str:
    link = V.main_link(cell)
    return link.anchor if link else cell.anchor


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
            rows.append(
                CompareRow(
                    "cell",
                    f"{source_row.ref} / {column}",
                    f"{source_row.ref} · {column}",
                    source_row.table,
                    expected,
                    ca.status,
                    cb.status,
                    _cell_detail(ca),
                    _cell_detail(cb),
                    _cell_target(ca),
                    _cell_target(cb),
                )
            )
    return rows


def _scenario_detail(scenario: R.ScenarioResult | None) -> str:
    if scenario is None:
        return ""
    observed = "; ".join(f"{c.ref} {c.column}: {c.observed}" for c in scenario.cells if c.observed is not None)
    return observed or scenario.observed or (scenario.message.splitlines()[0] if scenario.message else "")


def _scenario_rows(a: R.RunResults, b: R.RunResults) -> list[CompareRow]:
    by_a = {s.id or s.name: s for s in a.scenarios}
    by_b = {s.id or s.name: s for s in b.scenarios}
    anchors_a = dict(zip((s.id or s.name for s in a.scenarios), V.scenario_anchors(a.scenarios)))
    anchors_b = dict(zip((s.id or s.name for s in b.scenarios), V.scenario_anchors(b.scenarios)))
    rows = []
    for key in list(by_a) + [k for k in by_b if k not in by_a]:
        sa, sb = by_a.get(key), by_b.get(key)
        some = sa or sb
        assert some is not None
        rows.append(
            CompareRow(
                "scenario",
                key,
                some.name,
                some.table,
                "",
                sa.status if sa else "absent",
                sb.status if sb else "absent",
                _scenario_detail(sa),
                _scenario_detail(sb),
                anchors_a.get(key, ""),
                anchors_b.get(key, ""),
            )
        )
    return rows


def _differing_first(rows: list[CompareRow]) -> list[CompareRow]:
    return [r for r in rows if r.differs] + [r for r in rows if not r.differs]


def compare_rows(a: R.RunResults, b: R.RunResults) -> dict[str, list[CompareRow]]:
    """{"cells": [...], "scenarios": [...]}, each list with the differing rows first, then source/run order."""
    return {"cells": _differing_first(_cell_rows(a, b)), "scenarios": _differing_first(_scenario_rows(a, b))}


def cells_differ(a: R.RunResults, b: R.RunResults) -> int:
    """How many source-table cells differ between two runs (what `smlite report --compare` exits 1 on)."""
    return sum(1 for row in _cell_rows(a, b) if row.differs)


def render_comparison(a: R.RunResults, b: R.RunResults, *, a_href: str = "", b_href: str = "") -> str:
    """The page; ``a_href`` / ``b_href``: each run's report as a URL relative to the page ("" = no links)."""
    rows = compare_rows(a, b)
    runs = []
    for name, results, href in (("A", a, a_href), ("B", b, b_href)):
        verdict = results.verdict()
        runs.append(
            {
                "name": name,
                "run": results.run,
                "verdict": verdict,
                "verdict_class": V.verdict_class(verdict),
                "href": href,
                "counts": [(s, V.STATUS_LABELS[s], n) for s, n in results.counts().items()],
            }
        )
    sections = []
    for key, title in (("cells", "Source table cells"), ("scenarios", "Scenarios")):
        differing = [r for r in rows[key] if r.differs]
        same = [r for r in rows[key] if not r.differs]
        sections.append({"key": key, "title": title, "differing": differing, "same": same})
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        environment()
        .get_template("compare.html.j2")
        .render(runs=runs, sections=sections, generated=generated, a_href=a_href, b_href=b_href)
    )


def _href(report: Path | None, out_dir: Path) -> str:
    if report is None:
        return ""
    return Path(os.path.relpath(Path(report).resolve(), out_dir.resolve())).as_posix()


def write_comparison(
    a: R.RunResults, b: R.RunResults, out_dir: Path, *, a_report: Path | None = None, b_report: Path | None = None
) -> Path:
    """Write ``comparison.html`` into ``out_dir`` (created if needed) and return its path.

    ``a_report`` / ``b_report``: each run's index.html, for the links into its evidence."""
    out_dir = Path(out_dir)
    path = ensure_dir(out_dir) / "comparison.html"
    atomic_write_text(path, render_comparison(a, b, a_href=_href(a_report, out_dir), b_href=_href(b_report, out_dir)))
    return path
