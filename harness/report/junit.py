"""junit.xml: the run as JUnit XML, for CI systems.

One ``<testsuite>`` per table (T1, T2, T3, definitions, attributes, other),
one ``<testcase>`` per scenario. failed -> ``<failure message>``,
harness_error -> ``<error>``, not_applicable -> ``<skipped message="not
applicable: ...">``, not_specified -> ``<skipped message="not specified
(informational): ...">``. Built with xml.etree; text is stripped of the
characters XML 1.0 cannot hold, so the file always parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.conformance import results as R
from harness.files import atomic_write_bytes
from harness.report.view import GROUPS

_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: object) -> str:
    return _INVALID_XML.sub("\ufffd", str(text if text is not None else ""))


def _detail(scenario: R.ScenarioResult) -> str:
    lines = []
    if scenario.refs:
        lines.append("source: " + ", ".join(scenario.refs))
    if scenario.expected:
        lines.append("expected: " + scenario.expected)
    if scenario.observed:
        lines.append("observed: " + scenario.observed)
    for cell in scenario.cells:
        if cell.status == R.FAILED:
            lines.append(f"cell {cell.ref} / {cell.column} ({cell.recipient}): expected {cell.expected!s}, "
                         f"observed {cell.observed!s}" + (f" — {cell.detail}" if cell.detail else ""))
    if scenario.message:
        lines.append(scenario.message)
    return "\n".join(lines)


def _first_line(text: str, fallback: str) -> str:
    line = next((part.strip() for part in (text or "").splitlines() if part.strip()), "")
    return line[:500] or fallback


def _testcase(suite: ET.Element, scenario: R.ScenarioResult) -> None:
    case = ET.SubElement(suite, "testcase", name=clean(scenario.name), classname=clean(f"smlite.{scenario.table}"),
                         time=f"{scenario.duration_s:.3f}")
    if scenario.id:
        case.set("file", clean(scenario.id.split("::")[0]))
    status, message = scenario.status, scenario.message
    if status == R.FAILED:
        node = ET.SubElement(case, "failure", message=clean(_first_line(message or scenario.observed, "failed")),
                             type="ConformanceFailure")
        node.text = clean(_detail(scenario))
    elif status == R.HARNESS_ERROR:
        node = ET.SubElement(case, "error", message=clean(_first_line(message, "harness error")), type="HarnessError")
        node.text = clean(_detail(scenario))
    elif status == R.NOT_APPLICABLE:
        reason = _first_line(message, "the target lacks a capability").removeprefix("not applicable: ")
        ET.SubElement(case, "skipped", message=clean("not applicable: " + reason))
    elif status == R.NOT_SPECIFIED:
        observed = "; ".join(f"{c.ref or '-'} {c.column}: {c.observed}" for c in scenario.cells if c.observed)
        ET.SubElement(case, "skipped", message=clean("not specified (informational): "
                                                     + (observed or _first_line(scenario.observed, "observed"))))
    if scenario.evidence:
        out = ET.SubElement(case, "system-out")
        out.text = clean("\n".join(f"[{e.kind}] {e.title}" for e in scenario.evidence))


def build_junit(results: R.RunResults) -> ET.ElementTree:
    run = results.run
    root = ET.Element("testsuites", name=clean(f"smlite {run.target.get('name', '')}".strip()),
                      tests=str(len(results.scenarios)), time=f"{run.duration_s:.3f}")
    counts = results.counts()
    root.set("failures", str(counts[R.FAILED]))
    root.set("errors", str(counts[R.HARNESS_ERROR]))
    root.set("skipped", str(counts[R.NOT_APPLICABLE] + counts[R.NOT_SPECIFIED]))
    order = [key for key, _ in GROUPS]
    tables = sorted({s.table for s in results.scenarios}, key=lambda t: (order.index(t) if t in order else 99, t))
    titles = dict(GROUPS)
    for table in tables:
        members = [s for s in results.scenarios if s.table == table]
        n = {status: sum(s.status == status for s in members) for status in R.STATUSES}
        suite = ET.SubElement(root, "testsuite", name=clean(f"{table}: {titles.get(table, table)}"),
                              tests=str(len(members)), failures=str(n[R.FAILED]), errors=str(n[R.HARNESS_ERROR]),
                              skipped=str(n[R.NOT_APPLICABLE] + n[R.NOT_SPECIFIED]),
                              time=f"{sum(s.duration_s for s in members):.3f}", timestamp=clean(run.started_at),
                              hostname=clean(run.host or "localhost"))
        props = ET.SubElement(suite, "properties")
        for name, value in (("run_id", run.id), ("target", run.target.get("name", "")),
                            ("target_version", run.target.get("version", "")),
                            ("harness_version", run.harness_version), ("seed", run.seed),
                            ("source_document", run.source_document.get("id", "")),
                            ("verdict", results.verdict())):
            ET.SubElement(props, "property", name=name, value=clean(value))
        for scenario in members:
            _testcase(suite, scenario)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(results: R.RunResults, path: Path) -> Path:
    return atomic_write_bytes(path, ET.tostring(build_junit(results).getroot(), encoding="utf-8",
                                                 xml_declaration=True))
