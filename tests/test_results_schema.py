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

from harness import results as R
from harness.report.cucumber import build_cucumber
from harness.report.junit import write_junit
from tests.schemas import (
    REPO,
    RESULTS_SCHEMA,
    check_cucumber_lines,
    check_three_files_agree,
    results_errors,
    validate_junit,
    validate_results,
)

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
    assert (REPO / "docs" / "results-schema.md").read_text(encoding="utf-8") == wanted, (
        "docs/results-schema.md is out of date: run scripts/results-schema-doc"
    )


def test_the_schemas_example_validates():
    examples = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))["examples"]
    assert examples
    for example in examples:
        validate_results(example)


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
    "observed cell with a required standing": lambda d: _set(_first_cell(d, status="observed") + "/standing", "stated")(
        d
    ),
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
    with pytest.raises(AssertionError, match=r"violates docs/results\.schema\.json"):
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
    with pytest.raises(AssertionError, match=r"violates junit-10\.xsd"):
        validate_junit(tmp_path / "old.xml")


def test_cucumber_points_at_the_feature_files_own_lines():
    results = R.RunResults.from_dict(sample())
    features = build_cucumber(results)
    assert features and all(f["uri"].startswith("features/") and f["uri"].endswith(".feature") for f in features)
    check_cucumber_lines(features)
