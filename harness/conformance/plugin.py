"""The pytest hooks of the conformance suite, in one place.

Owns:
* options: ``--smlite-profile``, ``--smlite-seed``, ``--smlite-results``, ``--smlite-progress``;
* a scenario whose ``@requires:<capability>`` tags the target lacks is skipped
  as *not applicable* before it runs;
* after each scenario its ``ScenarioResult`` travels, as its ``to_dict()``, in the
  report's ``user_properties`` (so pytest-xdist workers hand it to the controller);
* the controller streams the hand-over file (JSON lines): the selected scenario ids
  once collection is known, then one line per scenario as it reports, then how the
  session ended. A run killed halfway still leaves what it saw, so the runner can
  name every scenario that never reported;
* progress: one line per scenario, counted against the selection.

State lives in ``config.stash`` and ``item.stash``. pytest-bdd has no public way to
read an Examples row from an item; ``example_of()`` is the one place that reads it.
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import IO, Any

import pytest

from harness.conformance import results as R
from harness.conformance.record import ScenarioRecord
from harness.errors import ConformanceFailure, HarnessError, NotApplicable
from harness.spec import source

RECORD_KEY = "smlite"
_NA_PREFIX = "not applicable: "
RECORD = pytest.StashKey[ScenarioRecord]()
STEP = pytest.StashKey[list]()  # [index of the running step, its start time]
SELECTED = pytest.StashKey[list]()
COLLECTOR = pytest.StashKey["Collector"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smlite")
    group.addoption("--smlite-profile", help="target profile (TOML or JSON)")
    group.addoption("--smlite-seed", type=int, default=None, help="faker seed (printed when chosen at random)")
    group.addoption("--smlite-results", help="stream the scenarios' results to this JSON-lines file")
    group.addoption("--smlite-progress", action="store_true", help="one line per scenario")
    group.addoption("--smlite-reveal-secrets", action="store_true", help="progress lines keep tokens and passwords")


def _tags(item: pytest.Item) -> list[str]:
    return sorted({m.name for m in item.iter_markers()} - {"parametrize", "usefixtures"})


def example_of(item: pytest.Item) -> dict[str, str]:
    """The Examples row of an outline's item (empty for a plain scenario)."""
    callspec = getattr(item, "callspec", None)
    return dict(callspec.params.get("_pytest_bdd_example", {})) if callspec else {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from harness.target.profile import load
    path = config.getoption("--smlite-profile")
    capabilities = set(load(path).capabilities) if path else None
    for item in items:
        needed = sorted(t.split(":", 1)[1] for t in _tags(item) if t.startswith("requires:"))
        missing = [c for c in needed if capabilities is not None and c not in capabilities]
        if missing:
            item.add_marker(pytest.mark.skip(reason=_NA_PREFIX + "the target lacks " + ", ".join(missing)))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """The selection, after -k and any other deselection (without xdist; see the collector's xdist hook)."""
    collector = session.config.stash.get(COLLECTOR, None)
    if collector is not None and not session.config.pluginmanager.hasplugin("dsession"):
        collector.selected([item.nodeid for item in session.items])


@pytest.fixture
def smlite_record(request: pytest.FixtureRequest) -> ScenarioRecord:
    record = ScenarioRecord()
    request.node.stash[RECORD] = record
    return record


def pytest_bdd_before_scenario(request, feature, scenario) -> None:
    record: ScenarioRecord = request.getfixturevalue("smlite_record")
    record.name, record.feature = scenario.name, feature.name
    record.steps = [R.StepResult(step.keyword, step.name, "not run") for step in scenario.steps]
    request.node.stash[STEP] = [0, time.perf_counter()]


def _finish_step(request, status: str) -> None:
    record = request.node.stash.get(RECORD, None)
    index, started = request.node.stash.get(STEP, [0, time.perf_counter()])
    if record is not None and index < len(record.steps):
        record.steps[index].status = status
        record.steps[index].duration_s = round(time.perf_counter() - started, 3)
    request.node.stash[STEP] = [index + 1, time.perf_counter()]


def pytest_bdd_before_step(request, feature, scenario, step, step_func) -> None:
    request.node.stash[STEP] = [request.node.stash.get(STEP, [0, 0])[0], time.perf_counter()]


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


def _placeholder_cells(example: dict[str, str], status: str) -> list[R.CellResult]:
    """Cells of a scenario that never reached its checks (not applicable, harness error)."""
    cells = []
    for column in source.COLUMNS:
        if column in example and example.get("ref"):
            cell = source.parse_gherkin_cell(example[column])
            cells.append(R.CellResult(example["ref"], column, "", cell.value, cell.standing,
                                      status=R.NOT_APPLICABLE if status == R.NOT_APPLICABLE else R.CELL_NOT_RUN))
    return cells


def _render(text: str, example: dict[str, str]) -> str:
    return re.sub(r"<([^<>]+)>", lambda m: str(example.get(m.group(1), m.group(0))), text)


def scenario_result(item: pytest.Item, report: pytest.TestReport, status: str, message: str) -> R.ScenarioResult:
    """The item's result, from what its steps recorded and its Examples row."""
    tags = _tags(item)
    example = example_of(item)
    record = item.stash.get(RECORD, None) or ScenarioRecord()
    cells = record.cells or _placeholder_cells(example, status)
    refs = sorted(set(record.refs) | set(example.get("ref", "").split())
                  | {c.ref for c in cells if c.ref})
    doc_feature, _, doc_name = _render(getattr(item.obj, "__doc__", "") or "", example).partition(": ")
    return R.ScenarioResult(
        id=item.nodeid, name=_render(record.name, example) or doc_name or item.nodeid,
        feature=record.feature or doc_feature,
        table=next((t.split(":", 1)[1] for t in tags if t.startswith("table:")), "other"),
        refs=refs, tags=tags, status=status, required="not-specified" not in tags,
        duration_s=round(report.duration, 3), steps=record.steps, expected="\n".join(record.expected),
        observed="\n".join(record.observed), message=message, cells=cells, evidence=record.evidence,
        interpretation=source.interpretation_of(refs), defects=source.defects_of(refs), seed=record.seed)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when in ("setup", "teardown") and report.passed:
        return
    tags = _tags(item)
    status, message = _status(report, call, "not-specified" in tags)
    contract_cell = None
    if "contract" in tags and status in (R.PASSED, R.FAILED, R.NOT_SPECIFIED):
        # the source is silent; docs/contract.md chose: reported beside the verdict, never judged
        name = item.name.partition("[")[0].removeprefix("test_").replace("_", " ")
        contract_cell = R.CellResult(" ".join(example_of(item).get("ref", "").split()[:1]) or "contract",
                                     "contract", "", "as docs/contract.md chooses", "not-specified",
                                     (message.splitlines()[0] if message else "as docs/contract.md chooses"),
                                     status, level="contract", detail=f"{name}: {message}" if message else name)
        status = R.NOT_SPECIFIED
    scenario = scenario_result(item, report, status, message)
    if contract_cell is not None:
        if not any(c.level == "contract" and c.status == R.FAILED for c in scenario.cells):
            scenario.cells.append(contract_cell)  # else its checks already name each difference
        scenario.required = False
    payload = {"when": report.when, "scenario": scenario.to_dict()}
    report.user_properties.append((RECORD_KEY, json.dumps(payload, default=str)))


class Collector:
    """Controller side: one ScenarioResult per scenario, streamed to the hand-over file as it reports."""

    MARKS = {R.PASSED: "ok", R.FAILED: "FAILED", R.NOT_APPLICABLE: "n/a", R.NOT_SPECIFIED: "observed",
             R.HARNESS_ERROR: "HARNESS ERROR"}

    def __init__(self, config: pytest.Config):
        self.config = config
        self.scenarios: dict[str, R.ScenarioResult] = {}
        self.total: int | None = None
        path = config.getoption("--smlite-results")
        self.out: IO[str] | None = open(path, "w", encoding="utf-8") if path else None
        self.progress = bool(config.getoption("--smlite-progress"))
        self.masker = None  # progress lines are terminal output: masked like the report
        if self.progress and path and not config.getoption("--smlite-reveal-secrets"):
            from harness.conformance.secrets import Masker
            from harness.target.profile import load

            profile_path = config.getoption("--smlite-profile")
            self.masker = Masker.from_profile(load(profile_path)) if profile_path else None

    def _write(self, line: dict[str, Any]) -> None:
        if self.out is not None:
            self.out.write(json.dumps(line, default=str) + "\n")
            self.out.flush()

    def _say(self, text: str) -> None:
        """Progress on stderr; a closed pipe ends the progress output, never the run."""
        if not self.progress:
            return
        try:
            print(self.masker.text(text) if self.masker else text, file=sys.stderr, flush=True)
        except (BrokenPipeError, OSError):
            self.progress = False

    def selected(self, ids: list[str]) -> None:
        if self.total is None:
            self.total = len(ids)
            self._write({"selected": ids})

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        self.selected(list(ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payloads = [json.loads(value) for key, value in report.user_properties if key == RECORD_KEY]
        if payloads:
            self._add(report, payloads[-1])
        elif report.failed and report.nodeid not in self.scenarios:
            # a report the plugin never wrote: pytest-xdist's "worker crashed while running" and the like
            lines = [line.strip() for line in (report.longreprtext or "").splitlines() if line.strip()]
            reason = next((line for line in lines if "crashed" in line), lines[-1] if lines else "no result")[:300]
            self._write({"lost": report.nodeid, "reason": reason})

    def _add(self, report: pytest.TestReport, payload: dict) -> None:
        previous = self.scenarios.get(report.nodeid)
        if previous is not None and previous.status != R.PASSED and payload["when"] == "teardown":
            return  # the call's verdict stands; a teardown hiccup after a failure adds nothing
        scenario = R.ScenarioResult.from_dict(payload["scenario"])
        scenario.worker = str(getattr(getattr(report, "node", None), "gateway", None) and report.node.gateway.id or "")
        self.scenarios[report.nodeid] = scenario
        self._write({"scenario": scenario.to_dict()})
        if previous is None:
            line = f"[{len(self.scenarios):>3}/{self.total or '?'}] {self.MARKS[scenario.status]:<13} {scenario.name}"
            if scenario.status in (R.FAILED, R.HARNESS_ERROR):
                line += "\n      " + re.sub(r"\s*\n\s*", "\n      ", scenario.message.strip())[:1500]
            self._say(line)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:  # the terminal reporter may be off (smlite run): say it here
            self._say(f"smlite: cannot collect {report.nodeid or 'the suite'}:\n{report.longreprtext}")

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self._write({"finished": int(exitstatus), "interrupted": bool(session.shouldstop or session.shouldfail)})
        if self.out is not None:
            self.out.close()
            self.out = None


def pytest_configure(config: pytest.Config) -> None:
    # Gherkin tags such as @requires:mpp become pytest marks that cannot be registered.
    config.addinivalue_line("filterwarnings", "ignore::pytest.PytestUnknownMarkWarning")
    if not hasattr(config, "workerinput"):  # controller, or a run without xdist
        collector = Collector(config)
        config.stash[COLLECTOR] = collector
        config.pluginmanager.register(collector, "smlite-collector")
