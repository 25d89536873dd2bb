"""junit.xml: the run as JUnit XML, for CI systems.

Valid against junit-10.xsd (the schema pytest tests its own junit.xml with;
tests/schemas/junit-10.xsd): one ``<testsuite>`` per table (definitions, T1,
T2, T3, attributes, other), one ``<testcase>`` per scenario. Outcomes agree with
results.json (docs/report.md, "One outcome, three files"): failed ->
``<failure type="ConformanceFailure">``, harness_error -> ``<error
type="HarnessError">``, not_applicable -> ``<skipped type="not_applicable">``,
not_specified -> ``<skipped type="not_specified" message="not specified by the
source: observed only, never judged ...">`` (it ran, but the source states
nothing to pass or fail). The feature file and line of each scenario open its
``<system-out>`` (the xsd has no ``file`` on a testcase). Built with
xml.etree; text is stripped of the characters XML 1.0 cannot hold, so the file
always parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from harness import policy
from harness import results as R
from harness.files import atomic_write_bytes
from harness.report import explored
from harness.report.cucumber import NOT_SPECIFIED_MESSAGE
from harness.report.locations import FEATURES_DIR, locate
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
            lines.append(
                f"cell {cell.ref} / {cell.column} ({cell.recipient}): expected {cell.expected!s}, "
                f"observed {cell.observed!s}" + (f" — {cell.detail}" if cell.detail else "")
            )
    if scenario.message:
        lines.append(scenario.message)
    return "\n".join(lines)


def _first_line(text: str, fallback: str) -> str:
    line = next((part.strip() for part in (text or "").splitlines() if part.strip()), "")
    return line[:500] or fallback


def _testcase(suite: ET.Element, scenario: R.ScenarioResult, features_dir: Path) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        name=clean(scenario.name),
        classname=clean(f"smlite.{scenario.table}"),
        time=f"{scenario.duration_s:.3f}",
    )
    status, message = scenario.status, scenario.message
    if status == R.FAILED:
        node = ET.SubElement(
            case,
            "failure",
            message=clean(_first_line(message or scenario.observed, "failed")),
            type="ConformanceFailure",
        )
        node.text = clean(_detail(scenario))
    elif status == R.HARNESS_ERROR:
        node = ET.SubElement(case, "error", message=clean(_first_line(message, "harness error")), type="HarnessError")
        node.text = clean(_detail(scenario))
    elif status == R.NOT_APPLICABLE:
        reason = _first_line(message, "the target lacks a capability").removeprefix("not applicable: ")
        ET.SubElement(case, "skipped", type="not_applicable", message=clean("not applicable: " + reason))
    elif status == R.NOT_SPECIFIED:
        observed = "; ".join(f"{c.ref} {c.column}: {c.observed}" for c in scenario.cells if c.observed)
        node = ET.SubElement(
            case,
            "skipped",
            type="not_specified",
            message=clean(f"{NOT_SPECIFIED_MESSAGE}: " + (observed or _first_line(scenario.observed, "observed"))),
        )
        node.text = clean(_detail(scenario))
    where = locate(scenario.id, scenario.feature, scenario.name, features_dir)
    lines = ([f"feature: {where.feature.uri}:{where.line}"] if where else []) + [f"id: {scenario.id}"]
    lines += [f"[{e.kind}] {e.title}" for e in scenario.evidence]
    out = ET.SubElement(case, "system-out")
    out.text = clean("\n".join(lines))


def build_junit(results: R.RunResults, features_dir: Path = FEATURES_DIR) -> ET.ElementTree:
    run = results.run
    root = ET.Element(
        "testsuites",
        name=clean(f"smlite {run.target.get('name', '')}".strip()),
        tests=str(len(results.scenarios)),
        time=f"{run.duration_s:.3f}",
    )
    counts = results.counts()
    root.set("failures", str(counts[R.FAILED]))
    root.set("errors", str(counts[R.HARNESS_ERROR]))
    order = [key for key, _ in GROUPS]
    tables = sorted({s.table for s in results.scenarios}, key=lambda t: (order.index(t) if t in order else 99, t))
    titles = dict(GROUPS)
    for table in tables:
        members = [s for s in results.scenarios if s.table == table]
        n = {status: sum(s.status == status for s in members) for status in R.STATUSES}
        suite = ET.SubElement(
            root,
            "testsuite",
            name=clean(f"{table}: {titles.get(table, table)}"),
            tests=str(len(members)),
            failures=str(n[R.FAILED]),
            errors=str(n[R.HARNESS_ERROR]),
            skipped=str(n[R.NOT_APPLICABLE] + n[R.NOT_SPECIFIED]),
            time=f"{sum(s.duration_s for s in members):.3f}",
            timestamp=clean(run.started_at),
            hostname=clean(run.host or "localhost"),
        )
        props = ET.SubElement(suite, "properties")
        for name, value in (
            ("run_id", run.id),
            ("target", run.target.get("name", "")),
            ("target_version", run.target.get("version", "")),
            ("harness_version", run.harness_version),
            ("seed", run.seed),
            ("source_document", run.source_document.get("id", "")),
            ("verdict", results.verdict()),
        ):
            ET.SubElement(props, "property", name=name, value=clean(value))
        for scenario in members:
            _testcase(suite, scenario, features_dir)
    if results.explorations:
        _explored_suite(root, results)
    ET.indent(root)
    return ET.ElementTree(root)


def _explored_suite(root: ET.Element, results: R.RunResults) -> None:
    """The testsuite ``explored``: one testcase per promise exploration checked (harness/report/explored.py)."""
    outcomes = explored.outcomes(results)
    n = explored.counts(results)
    run = results.run
    suite = ET.SubElement(
        root,
        "testsuite",
        name=explored.SUITE,
        tests=str(len(outcomes)),
        failures=str(n[policy.FAILED]),
        errors=str(sum(1 for e in results.explorations if e.error)),
        skipped=str(n[policy.CONTRACT_DIFFERENCE]),
        time=f"{sum(e.elapsed_s for e in results.explorations):.3f}",
        timestamp=clean(run.started_at),
        hostname=clean(run.host or "localhost"),
    )
    props = ET.SubElement(suite, "properties")
    for e in results.explorations:
        for name, value in (
            ("seed", e.seed),
            ("budget_s", e.budget_s),
            ("exchanges", e.exchanges),
            ("digest", e.digest),
        ):
            ET.SubElement(props, "property", name=name, value=clean(value))
        if e.error:
            node = ET.SubElement(
                ET.SubElement(suite, "testcase", name="exploration", classname="smlite.explored"), "error"
            )
            node.set("message", clean(_first_line(e.error, "stopped")))
            node.set("type", "HarnessError")
    for outcome in outcomes:
        case = ET.SubElement(suite, "testcase", name=clean(outcome.promise), classname="smlite.explored", time="0.000")
        if outcome.status == policy.FAILED:
            node = ET.SubElement(case, "failure", message=clean(outcome.message[:500]), type="ConformanceFailure")
            node.text = clean(outcome.detail)
        elif outcome.status == policy.CONTRACT_DIFFERENCE:
            message = f"{policy.LABELS[policy.CONTRACT_DIFFERENCE]}: {outcome.message}"
            node = ET.SubElement(case, "skipped", type="contract_difference", message=clean(message[:500]))
            node.text = clean(outcome.detail)
        out = ET.SubElement(case, "system-out")
        out.text = clean(f"explored promise: {outcome.promise}\nchecks: {outcome.checks}")
    root.set("tests", str(int(root.get("tests", "0")) + len(suite.findall("testcase"))))
    root.set("failures", str(int(root.get("failures", "0")) + n[policy.FAILED]))
    root.set("errors", str(int(root.get("errors", "0")) + int(suite.get("errors", "0"))))


def write_junit(results: R.RunResults, path: Path) -> Path:
    root = build_junit(results).getroot()
    assert root is not None
    return atomic_write_bytes(path, ET.tostring(root, encoding="utf-8", xml_declaration=True))
