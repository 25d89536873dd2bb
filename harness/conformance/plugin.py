"""The pytest hooks of the conformance suite, in one place.

* options: ``--smlite-profile``, ``--smlite-seed``, ``--smlite-results``;
* a scenario whose ``@requires:<capability>`` tags the target lacks is skipped
  as *not applicable* before it runs;
* after each scenario its status (passed, failed, not_applicable,
  not_specified, harness_error) and its record travel in the report's
  ``user_properties`` (so pytest-xdist workers hand them to the controller);
* the controller gathers them into ``RunResults`` and writes results JSON;
* progress: one line per scenario with a running count.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

from harness.conformance import results as R
from harness.errors import ConformanceFailure, HarnessError, NotApplicable
from harness.conformance.record import ScenarioRecord

RECORD_KEY = "smlite"
_NA_PREFIX = "not applicable: "


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smlite")
    group.addoption("--smlite-profile", help="target profile (TOML or JSON)")
    group.addoption("--smlite-seed", type=int, default=None, help="faker seed (printed when chosen at random)")
    group.addoption("--smlite-results", help="write the scenarios' results to this JSON file")
    group.addoption("--smlite-progress", action="store_true", help="one line per scenario")


def _tags(item: pytest.Item) -> list[str]:
    return sorted({m.name for m in item.iter_markers()} - {"parametrize", "usefixtures"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from harness.target.profile import load
    path = config.getoption("--smlite-profile")
    capabilities = set(load(path).capabilities) if path else None
    for item in items:
        needed = sorted(t.split(":", 1)[1] for t in _tags(item) if t.startswith("requires:"))
        missing = [c for c in needed if capabilities is not None and c not in capabilities]
        if missing:
            item.add_marker(pytest.mark.skip(reason=_NA_PREFIX + "the target lacks " + ", ".join(missing)))
    config._smlite_total = len(items)  # type: ignore[attr-defined]


@pytest.fixture
def smlite_record(request: pytest.FixtureRequest) -> ScenarioRecord:
    record = ScenarioRecord()
    request.node._smlite_record = record
    return record


def pytest_bdd_before_scenario(request, feature, scenario) -> None:
    record: ScenarioRecord = request.getfixturevalue("smlite_record")
    record.name, record.feature = scenario.name, feature.name
    record.steps = [R.StepResult(step.keyword, step.name, "not run") for step in scenario.steps]
    request.node._smlite_step_index = 0


def _finish_step(request, status: str) -> None:
    record: ScenarioRecord = request.getfixturevalue("smlite_record")
    index = request.node._smlite_step_index
    if index < len(record.steps):
        record.steps[index].status = status
        record.steps[index].duration_s = round(time.perf_counter() - request.node._smlite_step_started, 3)
    request.node._smlite_step_index = index + 1


def pytest_bdd_before_step(request, feature, scenario, step, step_func) -> None:
    request.node._smlite_step_started = time.perf_counter()


def pytest_bdd_after_step(request, feature, scenario, step, step_func, step_func_args) -> None:
    _finish_step(request, "passed")


def pytest_bdd_step_error(request, feature, scenario, step, step_func, step_func_args, exception) -> None:
    _finish_step(request, "failed")


def _status(report: pytest.TestReport, call: pytest.CallInfo, not_specified: bool) -> tuple[str, str]:
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        if call.excinfo is not None and isinstance(call.excinfo.value, NotApplicable):
            return R.NOT_APPLICABLE, str(call.excinfo.value)
        return (R.NOT_APPLICABLE, reason) if reason.startswith(_NA_PREFIX) else (R.HARNESS_ERROR, reason)
    if report.passed:
        return (R.NOT_SPECIFIED if not_specified else R.PASSED), ""
    error = call.excinfo.value if call.excinfo else None
    if isinstance(error, (ConformanceFailure, AssertionError)) and not isinstance(error, HarnessError):
        return R.FAILED, str(error)
    return R.HARNESS_ERROR, f"{type(error).__name__}: {error}" if error else str(report.longrepr)


def _example(item: pytest.Item) -> dict[str, str]:
    callspec = getattr(item, "callspec", None)
    return dict(callspec.params.get("_pytest_bdd_example", {})) if callspec else {}


def _placeholder_cells(example: dict[str, str], status: str) -> list[R.CellResult]:
    """Cells of a scenario that never reached its checks (not applicable, harness error)."""
    from harness.spec.source import COLUMNS, parse_gherkin_cell
    cells = []
    for column in COLUMNS:
        if column in example and example.get("ref"):
            cell = parse_gherkin_cell(example[column])
            cells.append(R.CellResult(example["ref"], column, "", cell.value, cell.standing,
                                      status=R.NOT_APPLICABLE if status == R.NOT_APPLICABLE else R.CELL_NOT_RUN))
    return cells


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when in ("setup", "teardown") and report.passed:
        return
    tags = _tags(item)
    status, message = _status(report, call, "not-specified" in tags)
    example = _example(item)
    record = getattr(item, "_smlite_record", None) or ScenarioRecord()
    if not record.cells:
        record.cells = _placeholder_cells(example, status)
    if example.get("ref"):
        record.refs = sorted(set(record.refs) | {example["ref"]})
    doc = re.sub(r"<([^<>]+)>", lambda m: str(example.get(m.group(1), m.group(0))),
                 getattr(item.obj, "__doc__", "") or "")
    payload = {"status": status, "message": message, "tags": tags,
               "duration_s": round(report.duration, 3), "when": report.when,
               "record": record.to_dict(), "doc": doc}
    report.user_properties.append((RECORD_KEY, json.dumps(payload, default=str)))


class Collector:
    """Controller side: gathers one ScenarioResult per scenario."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.scenarios: dict[str, R.ScenarioResult] = {}
        self.started = time.time()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == RECORD_KEY:
                self._add(report, json.loads(value))

    def _add(self, report: pytest.TestReport, payload: dict) -> None:
        previous = self.scenarios.get(report.nodeid)
        if previous is not None and previous.status != R.PASSED and payload["when"] == "teardown":
            return  # the call's verdict stands; a teardown hiccup after a failure adds nothing
        record = payload["record"]
        tags = payload["tags"]
        table = next((t.split(":", 1)[1] for t in tags if t.startswith("table:")), "other")
        refs = sorted(set(record.get("refs", [])) | {c["ref"] for c in record.get("cells", []) if c.get("ref")})
        doc_feature, _, doc_name = payload["doc"].partition(": ")
        scenario = R.ScenarioResult.from_dict({
            "id": report.nodeid, "name": record.get("name") or doc_name or report.nodeid,
            "feature": record.get("feature") or doc_feature,
            "table": table, "refs": refs, "tags": tags, "status": payload["status"],
            "required": "not-specified" not in tags, "duration_s": payload["duration_s"],
            "steps": record.get("steps", []), "cells": record.get("cells", []),
            "evidence": record.get("evidence", []), "message": payload["message"],
            "expected": "\n".join(record.get("expected", [])), "observed": "\n".join(record.get("observed", [])),
            "seed": record.get("seed"), "worker": getattr(report, "node", None) and str(report.node.gateway.id) or "",
        })
        self.scenarios[report.nodeid] = scenario
        if self.config.getoption("--smlite-progress") and previous is None:
            total = getattr(self.config, "_smlite_total", 0) or "?"
            mark = {"passed": "ok", "failed": "FAILED", "not_applicable": "n/a", "not_specified": "observed",
                    "harness_error": "HARNESS ERROR"}[scenario.status]
            line = f"[{len(self.scenarios):>3}/{total}] {mark:<13} {scenario.name}"
            if scenario.status in (R.FAILED, R.HARNESS_ERROR):
                line += "\n      " + re.sub(r"\s*\n\s*", "\n      ", scenario.message.strip())[:1500]
            print(line, file=sys.stderr, flush=True)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:  # the terminal reporter may be off (smlite run): say it here
            print(f"smlite: cannot collect {report.nodeid or 'the suite'}:\n{report.longreprtext}",
                  file=sys.stderr, flush=True)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        self.config._smlite_total = len(ids)  # type: ignore[attr-defined]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        path = self.config.getoption("--smlite-results")
        if path:
            data = [s.__dict__ | {"steps": [x.__dict__ for x in s.steps], "cells": [c.__dict__ for c in s.cells],
                                  "evidence": [e.__dict__ for e in s.evidence]} for s in self.scenarios.values()]
            Path(path).write_text(json.dumps({"scenarios": data, "started": self.started,
                                              "finished": time.time()}, default=str), encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    # Gherkin tags such as @requires:mpp become pytest marks that cannot be registered.
    config.addinivalue_line("filterwarnings", "ignore::pytest.PytestUnknownMarkWarning")
    if not hasattr(config, "workerinput"):  # controller, or a run without xdist
        config.pluginmanager.register(Collector(config), "smlite-collector")
