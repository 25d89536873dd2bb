"""Validators the tests call on the report files: results.json (JSON Schema), junit.xml (junit-10.xsd).

Owns: loading docs/results.schema.json and tests/schemas/junit-10.xsd once, and turning every
violation into one AssertionError that lists them all (where in the document, and what is wrong);
and the checks that results.json, junit.xml and cucumber.json tell one story (docs/report.md,
"One outcome, three files") and that cucumber.json's lines are the feature files' own.
jsonschema and xmlschema do the validating; nothing here checks a field by hand.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import xmlschema

from harness import results as R
from harness.report import explored

REPO = Path(__file__).resolve().parent.parent.parent
RESULTS_SCHEMA = REPO / "docs" / "results.schema.json"
JUNIT_XSD = Path(__file__).resolve().parent / "junit-10.xsd"


@lru_cache(maxsize=1)
def results_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def results_errors(data: Any) -> list[str]:
    """Every violation of smlite-results/1 in ``data``, as "path: message" lines ([] when valid)."""
    errors = sorted(results_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors]


def validate_results(data: Any) -> None:
    """Raise AssertionError listing every violation when ``data`` is not a valid results.json document."""
    errors = results_errors(data)
    if errors:
        shown = "\n".join(errors[:40]) + (f"\n… and {len(errors) - 40} more" if len(errors) > 40 else "")
        raise AssertionError(f"results.json violates docs/results.schema.json ({len(errors)}):\n{shown}")


@lru_cache(maxsize=1)
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def validate_junit(path: Path) -> None:
    """Raise AssertionError listing every violation when ``path`` is not valid against junit-10.xsd."""
    errors = [f"{e.path}: {e.reason}" for e in junit_schema().iter_errors(str(path))]
    if errors:
        raise AssertionError(f"{path} violates junit-10.xsd ({len(errors)}):\n" + "\n".join(errors[:40]))


# --- one outcome, three files (docs/report.md) ---


def _cucumber_status(element: dict) -> str:
    """The scenario status Cucumber tools derive from its steps and hooks."""
    seen = {s["result"]["status"] for s in element["steps"] + element.get("after", []) + element.get("before", [])}
    return "failed" if "failed" in seen else "skipped" if seen - {"passed"} else "passed"


def _junit_outcome(case: ET.Element) -> str:
    children = [c for c in case if c.tag in ("failure", "error", "skipped")]
    assert len(children) <= 1, ET.tostring(case)
    if not children:
        return "passed"
    child = children[0]
    return f"skipped:{child.get('type')}" if child.tag == "skipped" else child.tag


JUNIT = {
    R.PASSED: "passed",
    R.FAILED: "failure",
    R.HARNESS_ERROR: "error",
    R.NOT_APPLICABLE: "skipped:not_applicable",
    R.NOT_SPECIFIED: "skipped:not_specified",
}
CUCUMBER = {
    R.PASSED: "passed",
    R.FAILED: "failed",
    R.HARNESS_ERROR: "failed",
    R.NOT_APPLICABLE: "skipped",
    R.NOT_SPECIFIED: "skipped",
}


def check_three_files_agree(results: R.RunResults, junit_path: Path, cucumber: list[dict]) -> None:
    """Every scenario has the same outcome in results, junit.xml and cucumber.json (docs/report.md)."""
    validate_results(results.to_dict())
    validate_junit(junit_path)
    root = ET.parse(junit_path).getroot()
    check_explored_agrees(results, root, cucumber)
    cases = [c for c in root.iter("testcase") if c.get("classname") != "smlite.explored"]
    elements = [e for f in cucumber if f["uri"] != "explored" for e in f["elements"]]
    assert len(cases) == len(elements) == len(results.scenarios)
    by_id = {}
    for case in cases:
        out = case.findtext("system-out") or ""
        ids = [line[4:] for line in out.splitlines() if line.startswith("id: ")]
        assert len(ids) == 1, out
        by_id[ids[0]] = case
    # cucumber.json groups scenarios by feature file, results.json by the source's tables: pair them by
    # name (a name that repeats: its scenarios in the order each file lists them)
    named: dict[str, list[dict]] = {}
    for e in elements:
        named.setdefault(e["name"], []).append(e)
    for scenario in results.scenarios:
        assert named.get(scenario.name), f"{scenario.name!r} is missing from cucumber.json"
        element = named[scenario.name].pop(0)
        assert _junit_outcome(by_id[scenario.id]) == JUNIT[scenario.status], scenario.name
        assert _cucumber_status(element) == CUCUMBER[scenario.status], (scenario.status, element)
    counts = results.counts()
    explored_failed = len(results.explored_failing())
    explored_errors = sum(1 for e in results.explorations if e.error)
    assert int(root.get("failures")) == counts[R.FAILED] + explored_failed
    assert int(root.get("errors")) == counts[R.HARNESS_ERROR] + explored_errors
    skipped = sum(int(s.get("skipped")) for s in root.iter("testsuite") if s.get("name") != "explored")
    assert skipped == counts[R.NOT_APPLICABLE] + counts[R.NOT_SPECIFIED]


def check_explored_agrees(results: R.RunResults, root: ET.Element, cucumber: list[dict]) -> None:
    """Each promise an exploration checked has one outcome in results.json, junit.xml and cucumber.json."""
    suites = [s for s in root.iter("testsuite") if s.get("name") == "explored"]
    features = [f for f in cucumber if f["uri"] == "explored"]
    if not results.explorations:
        assert not suites and not features
        return
    broken = {c.promise: c for e in results.explorations for c in e.counterexamples}
    checked = {p for e in results.explorations for p in e.promises_checked} | set(broken)
    cases = {c.get("name"): c for c in suites[0].iter("testcase") if c.get("name") != "exploration"}
    elements = {e["name"]: e for e in features[0]["elements"]}
    assert set(cases) == set(elements) == checked
    for promise in checked:
        junit = _junit_outcome(cases[promise])
        cucumber_status = elements[promise]["steps"][0]["result"]["status"]
        if promise not in broken:
            assert (junit, cucumber_status) == ("passed", "passed"), promise
        elif broken[promise].counts_against_source():
            assert (junit, cucumber_status) == ("failure", "failed"), promise
        else:
            assert (junit, cucumber_status) == ("skipped:contract_difference", "skipped"), promise


def check_cucumber_lines(features: list[dict]) -> None:
    """Every uri is a real file, and every line holds what the element says is there (the explored
    feature aside: its conversations were generated, they have no file)."""
    for feature in features:
        if feature["uri"] == explored.SUITE:
            continue
        lines = (REPO / feature["uri"]).read_text(encoding="utf-8").splitlines()
        assert lines[feature["line"] - 1].strip() == f"Feature: {feature['name']}"
        for element in feature["elements"]:
            text = lines[element["line"] - 1].strip()
            if element["keyword"] == "Scenario":
                assert text.startswith("Scenario:") and element["name"] in text, (element["name"], text)
            else:  # an outline: the line is its Examples row
                assert element["keyword"] == "Scenario Outline" and text.startswith("|"), (element["name"], text)
            for step in element["steps"]:
                if step["keyword"] == "* ":
                    continue
                assert lines[step["line"] - 1].strip().startswith(step["keyword"].strip() + " "), step
            for tag in element["tags"]:
                assert tag["name"] in lines[tag["line"] - 1], tag


def check_run_directory(run_dir: Path) -> dict:
    """A real run's directory: results.json valid, junit.xml valid, all three files agree scenario by
    scenario, and cucumber.json locates every scenario in its feature file. Returns the results data."""
    data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    validate_results(data)
    validate_junit(run_dir / "junit.xml")
    cucumber = json.loads((run_dir / "cucumber.json").read_text(encoding="utf-8"))
    check_three_files_agree(R.RunResults.from_dict(data), run_dir / "junit.xml", cucumber)
    check_cucumber_lines(cucumber)
    unlocated = [e["name"] for f in cucumber if f["uri"] != explored.SUITE for e in f["elements"] if "line" not in e]
    assert not unlocated, f"cucumber.json: scenarios no feature file holds: {unlocated}"
    return data
