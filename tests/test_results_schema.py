"""results.json, junit.xml and cucumber.json against their schemas, and against each other.

docs/results.schema.json is the normative form of results.json: a real run's file (trimmed, in
tests/schemas/results-sample.json, made by a real `smlite run`) validates, broken documents of the
kinds the issue found (empty refs, `definitions:All`, unknown columns, verdicts not in the doc) are
rejected, and docs/results-schema.md is the schema's own rendering. junit.xml validates against
pytest's junit-10.xsd; every results status maps to one junit and one Cucumber outcome, the same
for all three. The end-to-end checks on a fresh run are in tests/test_conformance_run.py.
"""

from __future__ import annotations

import copy
import importlib.machinery
import importlib.util
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.conformance import results as R
from harness.report.cucumber import build_cucumber
from harness.report.junit import write_junit
from tests.schemas import REPO, RESULTS_SCHEMA, results_errors, validate_junit, validate_results

SAMPLE = Path(__file__).resolve().parent / "schemas" / "results-sample.json"


def _generator():
    loader = importlib.machinery.SourceFileLoader("results_schema_doc", str(REPO / "scripts" / "results-schema-doc"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def test_the_markdown_is_generated_from_the_schema():
    generator = _generator()
    wanted = generator.render(json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8")))
    assert (REPO / "docs" / "results-schema.md").read_text(encoding="utf-8") == wanted, \
        "docs/results-schema.md is out of date: run scripts/results-schema-doc"


def test_a_real_runs_results_validate():
    data = sample()
    validate_results(data)
    assert R.RunResults.from_dict(data).to_dict()["summary"] == data["summary"]


def test_the_forward_compatible_fields_validate():
    data = sample()
    data["missing"] = [{"id": "steps/test_conformance.py::test_x[a]", "name": "x", "reason": "worker gw1 crashed"}]
    data["summary"]["contract_differences"] = 2
    data["scenarios"][0]["uri"], data["scenarios"][0]["line"] = "features/definitions.feature", 7
    for cell in data["scenarios"][-1]["cells"]:
        cell["level"] = "" if cell["status"] == "observed" else "source"
    validate_results(data)


def _set(path: str, value):
    def change(data: dict) -> None:
        *parents, last = path.split("/")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is KeyError:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return change


def _first_cell(data: dict, **where) -> str:
    for i, scenario in enumerate(data["scenarios"]):
        for j, cell in enumerate(scenario["cells"]):
            if all(cell.get(k) == v for k, v in where.items()):
                return f"scenarios/{i}/cells/{j}"
    raise LookupError(where)


BROKEN = {
    "empty cell ref": lambda d: _set(_first_cell(d, column="Mail Box") + "/ref", "")(d),
    "definitions:All ref": lambda d: _set(_first_cell(d, ref="D-All") + "/ref", "definitions:All")(d),
    "unknown column": lambda d: _set(_first_cell(d, column="MPP") + "/column", "Mailbox")(d),
    "attribute column on a table row": lambda d: _set(_first_cell(d, column="MPP") + "/column", "Send Read Receipt")(d),
    "table column on a definition": lambda d: _set(_first_cell(d, ref="D-All") + "/column", "Mail Box")(d),
    "cell status skipped": lambda d: _set(_first_cell(d, column="MPP") + "/status", "skipped")(d),
    "observed cell with a required standing": lambda d: _set(_first_cell(d, status="observed") + "/standing",
                                                             "stated")(d),
    "scenario status skipped": _set("scenarios/0/status", "skipped"),
    "scenario id in the doc's old form": _set("scenarios/0/id", "features/definitions.feature::test_x"),
    "unknown table": _set("scenarios/0/table", "T4"),
    "tag with @": _set("scenarios/0/tags/0", "@table:T1"),
    "verdict not in the doc": _set("summary/verdict", "Conformant-ish"),
    "verdict and exit code disagree": _set("summary/exit_code", 1),
    "a count missing": _set("summary/counts/harness_error", KeyError),
    "unknown top-level field": _set("extra", 1),
    "wrong schema id": _set("schema", "smlite-results/2"),
    "unknown evidence kind": _set("scenarios/0/evidence/0/kind", "screenshot"),
    "missing without reason": lambda d: d.update(missing=[{"id": "a.py::test_x", "name": "x"}]),
}


@pytest.mark.parametrize("breakage", list(BROKEN))
def test_a_broken_document_is_rejected(breakage):
    data = copy.deepcopy(sample())
    assert results_errors(data) == []
    BROKEN[breakage](data)
    with pytest.raises(AssertionError, match="violates docs/results.schema.json"):
        validate_results(data)


# --- one outcome, three files ---------------------------------------------------------------------

def _one_of_each_status() -> R.RunResults:
    """The sample's scenarios, one per results status, each made consistent with its status."""
    results = R.RunResults.from_dict(sample())
    base = next(s for s in results.scenarios if s.table == "T3")
    silent = next(s for s in results.scenarios if s.status == R.NOT_SPECIFIED)
    made = []
    for status in (R.PASSED, R.FAILED, R.HARNESS_ERROR, R.NOT_APPLICABLE):
        scenario = copy.deepcopy(base)
        scenario.status = status
        scenario.id = f"{base.id.removesuffix(']')}-as-{status}]"  # one id per copy, as pytest would have
        if status == R.FAILED:
            scenario.steps[-1].status = "failed"
            scenario.cells[0].status, scenario.cells[0].observed = R.FAILED, "Notification"
            scenario.message = f"Mail Box of {scenario.cells[0].recipient}: expected {scenario.cells[0].expected}"
        elif status == R.HARNESS_ERROR:
            scenario.steps = scenario.steps[:1]
            scenario.message = "HarnessError: Mailpit unreachable"
            for cell in scenario.cells:
                cell.status, cell.observed = R.CELL_NOT_RUN, None
        elif status == R.NOT_APPLICABLE:
            scenario.steps = []
            scenario.message = "not applicable: the target lacks mpp"
            for cell in scenario.cells:
                cell.status, cell.observed = R.NOT_APPLICABLE, None
        made.append(scenario)
    made.append(copy.deepcopy(silent))
    results.scenarios = made
    return results


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


JUNIT = {R.PASSED: "passed", R.FAILED: "failure", R.HARNESS_ERROR: "error",
         R.NOT_APPLICABLE: "skipped:not_applicable", R.NOT_SPECIFIED: "skipped:not_specified"}
CUCUMBER = {R.PASSED: "passed", R.FAILED: "failed", R.HARNESS_ERROR: "failed",
            R.NOT_APPLICABLE: "skipped", R.NOT_SPECIFIED: "skipped"}


def check_three_files_agree(results: R.RunResults, junit_path: Path, cucumber: list[dict]) -> None:
    """Every scenario has the same outcome in results, junit.xml and cucumber.json (docs/report.md)."""
    validate_results(results.to_dict())
    validate_junit(junit_path)
    root = ET.parse(junit_path).getroot()
    cases = list(root.iter("testcase"))
    elements = [e for f in cucumber for e in f["elements"]]
    assert len(cases) == len(elements) == len(results.scenarios)
    by_id = {}
    for case in cases:
        out = case.findtext("system-out") or ""
        ids = [line[4:] for line in out.splitlines() if line.startswith("id: ")]
        assert len(ids) == 1, out
        by_id[ids[0]] = case
    for scenario, element in zip(results.scenarios, elements):
        assert element["name"] == scenario.name
        assert _junit_outcome(by_id[scenario.id]) == JUNIT[scenario.status], scenario.name
        assert _cucumber_status(element) == CUCUMBER[scenario.status], (scenario.status, element)
    counts = results.counts()
    assert int(root.get("failures")) == counts[R.FAILED] and int(root.get("errors")) == counts[R.HARNESS_ERROR]
    assert sum(int(s.get("skipped")) for s in root.iter("testsuite")) == \
        counts[R.NOT_APPLICABLE] + counts[R.NOT_SPECIFIED]


def test_every_status_means_the_same_in_all_three_files(tmp_path):
    results = _one_of_each_status()
    assert sorted(results.counts().values()) == [1, 1, 1, 1, 1]
    check_three_files_agree(results, write_junit(results, tmp_path / "junit.xml"), build_cucumber(results))


def test_a_not_specified_scenario_whose_step_failed_stays_skipped_everywhere(tmp_path):
    """A check of a contract choice the target does not make: not_specified, never a failure."""
    results = _one_of_each_status()
    silent = results.scenarios[-1]
    silent.steps[-1].status = "failed"
    silent.message = "the message was accepted"
    check_three_files_agree(results, write_junit(results, tmp_path / "junit.xml"), build_cucumber(results))
    element = build_cucumber(results)[-1]["elements"][-1]
    assert element["steps"][-1]["result"]["status"] == "skipped"
    assert "not specified by the source" in element["steps"][-1]["result"]["error_message"]


def test_junit_is_valid_against_pytests_xsd_and_the_xsd_rejects_what_we_used_to_write(tmp_path):
    results = _one_of_each_status()
    path = write_junit(results, tmp_path / "junit.xml")
    validate_junit(path)
    root = ET.parse(path).getroot()
    root.set("skipped", "2")  # what junit.py wrote before: not in junit-10.xsd
    next(root.iter("testcase")).set("file", "steps/test_conformance.py")
    ET.ElementTree(root).write(tmp_path / "old.xml", encoding="utf-8", xml_declaration=True)
    with pytest.raises(AssertionError, match="violates junit-10.xsd"):
        validate_junit(tmp_path / "old.xml")


def test_cucumber_points_at_the_feature_files_own_lines():
    results = R.RunResults.from_dict(sample())
    features = build_cucumber(results)
    assert features and all(f["uri"].startswith("features/") and f["uri"].endswith(".feature") for f in features)
    check_cucumber_lines(features)


def check_cucumber_lines(features: list[dict]) -> None:
    """Every uri is a real file, and every line holds what the element says is there."""
    for feature in features:
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
