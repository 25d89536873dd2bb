"""`smlite dashboard`: one static page across runs and targets, built from any number of results.json.

Owns finding runs (``find_results``: files, or folders searched for
results.json, the ``latest`` pointer and copies of one run counted once),
choosing each target's run for the matrix, and the page
(templates/dashboard.html.j2):

* a matrix of the source cells (rows) × targets (columns), from each
  target's latest run — its latest full run when it has one, a ``-k`` run only
  when it has nothing else — each cell coloured like the report's and linking
  to the run's report at the scenario holding its evidence; under it, per
  scenario group (T1 … definitions, attributes, other), its counts;
* per target, its history: an SVG chart of the scenario counts and verdict of
  every run, oldest first, and a table of the runs, each linking to its report.

A target is its profile's ``name`` (its versions are its history). Links to a
run's report are relative paths to the index.html next to its results.json;
a run without one gets its report written under ``OUT/runs/<run-id>/``. The
page has no script, no font and no URL: it opens from disk and works offline.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import policy
from harness import results as R
from harness.errors import UsageError
from harness.files import atomic_write_text, ensure_dir
from harness.report import svg
from harness.report import view as V
from harness.results.loading import BadResults, load_results
from harness.source_model import source


@dataclass
class Run:
    path: Path  # its results.json
    results: R.RunResults
    report: Path | None = None  # its index.html
    href: str = ""  # the report, relative to the dashboard page
    cells: dict[tuple[str, str], V.CellView] = field(default_factory=dict)

    @property
    def run(self) -> R.RunInfo:
        return self.results.run

    @property
    def target(self) -> str:
        return str(self.run.target.get("name") or "unnamed target")

    @property
    def version(self) -> str:
        return str(self.run.target.get("version") or "")

    @property
    def verdict(self) -> str:
        return self.results.verdict()

    @property
    def verdict_class(self) -> str:
        return V.verdict_class(self.verdict)

    @property
    def started(self) -> str:
        return self.run.started_at or ""

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(R.STATUSES, 0)
        for scenario in self.results.scenarios:
            shown = V.scenario_status(scenario)
            counts[shown] = counts.get(shown, 0) + 1
        missing = V.missing_names(self.results)
        if missing:
            counts["missing"] = len(missing)
        return counts


@dataclass
class Target:
    name: str
    runs: list[Run]  # oldest first
    shown: Run  # the run the matrix shows
    chart: Any = None
    anchor: str = ""


def find_results(paths: list[Path]) -> list[Path]:
    """results.json files named, or found under folders (symlinked folders such as ``latest`` not followed)."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not (Path(root) / d).is_symlink())
                if "results.json" in files:
                    found.append(Path(root) / "results.json")
        else:
            raise UsageError("No such file or folder", str(path))
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def load_runs(paths: list[Path], *, warn=lambda text: print(text, file=sys.stderr)) -> list[Run]:
    """Every usable run, once per run id; a file that cannot be used (harness/results/loading.py: unreadable,
    too large, too deep, NaN, against the schema) is named on stderr in one line and skipped."""
    runs: dict[str, Run] = {}
    for path in find_results(paths):
        try:
            results = load_results(path)
        except BadResults as exc:
            warn(f"smlite dashboard: skipped {path}: {exc.reason}")
            continue
        index = path.parent / "index.html"
        run = Run(path, results, index if index.is_file() else None)
        runs.setdefault(results.run.id, run)
    return sorted(runs.values(), key=lambda r: (r.started, r.run.id))


def _targets(runs: list[Run]) -> list[Target]:
    by_name: dict[str, list[Run]] = {}
    for run in runs:
        by_name.setdefault(run.target, []).append(run)
    targets = []
    for n, (name, members) in enumerate(sorted(by_name.items(), key=lambda kv: kv[0].lower()), 1):
        full = [r for r in members if not r.run.selection]
        targets.append(Target(name, members, (full or members)[-1], anchor=f"target-{n}"))
    return targets


GROUP_SEVERITY = (R.FAILED, V.CONTRACT, R.HARNESS_ERROR, policy.MISSING, R.NOT_APPLICABLE, R.NOT_SPECIFIED, R.PASSED)


def _worst_scenario(counts: dict[str, int]) -> str:
    return next((status for status in GROUP_SEVERITY if counts.get(status)), R.CELL_NOT_RUN)


def group_counts(results: R.RunResults, group: str) -> dict[str, int]:
    """Scenarios of one group (T1 … other) by shown status, zeros left out."""
    counts: dict[str, int] = {}
    for scenario in results.scenarios:
        if scenario.table == group:
            shown = V.scenario_status(scenario)
            counts[shown] = counts.get(shown, 0) + 1
    return counts


def _cell_target(cell: V.CellView) -> str:
    link = V.main_link(cell)
    return link.anchor if link else cell.anchor


def build(paths: list[Path], out_dir: Path) -> Path:
    """Write ``out_dir/index.html`` (and reports for runs that lack one); return the page's path."""
    from harness.report.render import environment, render_html

    out_dir = Path(out_dir)
    found = find_results(paths)
    runs = load_runs(found)
    if not runs:
        if found:
            raise UsageError("No usable results.json", f"all {len(found)} found were skipped (named above)")
        raise UsageError("No results.json found", " ".join(str(p) for p in paths) or "(no folder given)")
    ensure_dir(out_dir)
    for run in runs:
        if run.report is None:
            run.report = ensure_dir(out_dir / "runs" / V.slug(run.run.id)) / "index.html"
            atomic_write_text(run.report, render_html(run.results))
        run.href = Path(os.path.relpath(run.report.resolve(), out_dir.resolve())).as_posix()
    targets = _targets(runs)
    for target in targets:
        target.shown.cells = V.source_cells(target.shown.results, V.scenario_anchors(target.shown.results.scenarios))
        bars = [
            svg.Bar(
                r.started[5:10] or r.run.id[:8],
                r.href,
                r.counts(),
                f"{r.started} · {r.version} · {r.verdict}",
                r.verdict_class,
            )
            for r in target.runs
        ]
        target.chart = svg.history(bars, chart_id=target.anchor)
    matrix = []
    for table in source.TABLES.values():
        rows = []
        for source_row in table.rows:
            for column in source.COLUMNS:
                rows.append(
                    {
                        "ref": source_row.ref,
                        "column": column,
                        "expected": source_row.cells[column].gherkin(),
                        "cells": [
                            (
                                t.shown.cells[(source_row.ref, column)],
                                _cell_target(t.shown.cells[(source_row.ref, column)]),
                            )
                            for t in targets
                        ],
                    }
                )
        matrix.append({"key": table.key, "title": table.title, "rows": rows})
    groups = []
    for key, title in V.GROUPS:
        per_target = [group_counts(t.shown.results, key) for t in targets]
        if any(per_target):
            groups.append({"key": key, "title": title, "cells": [(c, _worst_scenario(c)) for c in per_target]})
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    page = (
        environment()
        .get_template("dashboard.html.j2")
        .render(
            targets=targets,
            matrix=matrix,
            groups=groups,
            runs=runs,
            generated=generated,
            source_title=source.SOURCE_TITLE,
            source_id=source.SOURCE_ID,
        )
    )
    return atomic_write_text(out_dir / "index.html", page)


def add_arguments(parser: Any) -> None:
    parser.add_argument(
        "dirs",
        nargs="*",
        type=Path,
        metavar="DIR",
        help="folders searched for results.json (or results.json files); default: reports/",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("reports/dashboard"),
        metavar="OUT",
        help="where the site goes (OUT/index.html; default reports/dashboard)",
    )


def main(args: Any) -> int:
    paths = list(args.dirs) or [Path("reports")]
    index = build(paths, args.output)
    print(index)
    return 0
