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
import time
from typing import Any

import _pytest.runner as _pytest_runner
import pytest

from harness import policy
from harness import results as R
from harness.conformance.engine import DEFAULT_CONCURRENCY, Engine
from harness.conformance.handover import RECORD_KEY, Collector
from harness.conformance.record import ScenarioRecord
from harness.errors import ConformanceFailure, HarnessError, NotApplicable
from harness.source_model import source

_NA_PREFIX = "not applicable: "
RECORD = pytest.StashKey[ScenarioRecord]()
STEP = pytest.StashKey[list]()  # [index of the running step, its start time]
SELECTED = pytest.StashKey[list]()
COLLECTOR = pytest.StashKey[Collector]()
ENGINE = pytest.StashKey[Engine]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smlite")
    group.addoption("--smlite-profile", help="target profile (TOML or JSON)")
    group.addoption("--smlite-seed", type=int, default=None, help="faker seed (printed when chosen at random)")
    group.addoption("--smlite-results", help="stream the scenarios' results to this JSON-lines file")
    group.addoption("--smlite-progress", action="store_true", help="one line per scenario")
    group.addoption("--smlite-reveal-secrets", action="store_true", help="progress lines keep tokens and passwords")
    group.addoption(
        "--smlite-engine",
        choices=("concurrent", "sequential"),
        default="concurrent",
        help="concurrent (default): every scenario runs at once, so deliveries overlap; sequential: one "
        "scenario after the other, as pytest-bdd runs them (always so in pytest-xdist workers)",
    )
    group.addoption(
        "--smlite-concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"at most this many scenarios at once (default {DEFAULT_CONCURRENCY})",
    )


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from harness.conformance import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session):
    """The scenario engine (harness/conformance/engine.py) starts every scenario before pytest's loop
    asks for the first; each item then waits for its own (``pytest_pyfunc_call``)."""
    engine = _engine(session)
    update = _pytest_runner._update_current_test_var
    if engine is not None:  # pytest's PYTEST_CURRENT_TEST is one variable: scenario threads race on it
        _pytest_runner._update_current_test_var = _tolerant(update)
    try:
        return (yield)
    finally:
        _pytest_runner._update_current_test_var = update
        if engine is not None:
            engine.stop()


def _tolerant(update: Any) -> Any:
    def tolerant(item: pytest.Item, when: str | None) -> None:
        try:
            update(item, when)
        except KeyError:  # another scenario's thread removed it first: nothing left to remove
            pass

    return tolerant


def _engine(session: pytest.Session) -> Engine | None:
    config = session.config
    profile_path = config.getoption("--smlite-profile")
    if (
        not profile_path
        or config.getoption("--smlite-engine") != "concurrent"
        or hasattr(config, "workerinput")  # a pytest-xdist worker: its items arrive one by one
        or config.option.collectonly
        or not session.items
    ):
        return None
    from harness.connection.opening import choose_seed
    from harness.profile.schema import load

    seed = choose_seed(config.getoption("--smlite-seed"))
    engine = Engine(config, load(profile_path), seed, config.getoption("--smlite-concurrency"))
    config.stash[ENGINE] = engine
    engine.start(session.items)
    return engine


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """A scenario the engine ran: its outcome, raised here as if its steps had run now."""
    engine = pyfuncitem.config.stash.get(ENGINE, None)
    run = engine.outcome(pyfuncitem.nodeid) if engine is not None else None
    if run is None:
        return None
    pyfuncitem.stash[RECORD] = run.record
    if run.error is not None:
        raise run.error
    return True


def _tags(item: pytest.Item) -> list[str]:
    return sorted({m.name for m in item.iter_markers()} - {"parametrize", "usefixtures"})


def example_of(item: pytest.Item) -> dict[str, str]:
    """The Examples row of an outline's item (empty for a plain scenario)."""
    callspec = getattr(item, "callspec", None)
    return dict(callspec.params.get("_pytest_bdd_example", {})) if callspec else {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from harness.profile.schema import load

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


def _outcome(report: pytest.TestReport, call: pytest.CallInfo) -> policy.Outcome:
    """How the scenario ended, in the policy's terms (harness/policy.py decides what it means)."""
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        if call.excinfo is not None and isinstance(call.excinfo.value, NotApplicable):
            return policy.Outcome("not_applicable", str(call.excinfo.value))
        if reason.startswith(_NA_PREFIX):
            return policy.Outcome("not_applicable", reason)
        return policy.Outcome("harness_error", reason)
    if report.passed:
        return policy.Outcome("passed")
    error = call.excinfo.value if call.excinfo else None
    if isinstance(error, (ConformanceFailure, AssertionError)) and not isinstance(error, HarnessError):
        return policy.Outcome("conformance_failure", str(error))
    return policy.Outcome("harness_error", f"{type(error).__name__}: {error}" if error else str(report.longrepr))


def _placeholder_cells(example: dict[str, str], status: str) -> list[R.CellResult]:
    """Cells of a scenario that never reached its checks (not applicable, harness error)."""
    cells = []
    for column in source.COLUMNS:
        if column in example and example.get("ref"):
            cell = source.parse_gherkin_cell(example[column])
            cells.append(
                R.CellResult(
                    example["ref"],
                    column,
                    "",
                    cell.value,
                    cell.standing,
                    status=R.NOT_APPLICABLE if status == R.NOT_APPLICABLE else R.CELL_NOT_RUN,
                )
            )
    return cells


def _render(text: str, example: dict[str, str]) -> str:
    return re.sub(r"<([^<>]+)>", lambda m: str(example.get(m.group(1), m.group(0))), text)


def scenario_result(item: pytest.Item, report: pytest.TestReport, status: str, message: str) -> R.ScenarioResult:
    """The item's result, from what its steps recorded and its Examples row."""
    tags = _tags(item)
    example = example_of(item)
    record = item.stash.get(RECORD, None) or ScenarioRecord()
    cells = record.cells or _placeholder_cells(example, status)
    refs = sorted(set(record.refs) | set(example.get("ref", "").split()) | {c.ref for c in cells if c.ref})
    doc_feature, _, doc_name = _render(getattr(getattr(item, "obj", None), "__doc__", "") or "", example).partition(
        ": "
    )
    return R.ScenarioResult(
        id=item.nodeid,
        name=_render(record.name, example) or doc_name or item.nodeid,
        feature=record.feature or doc_feature,
        table=next((t.split(":", 1)[1] for t in tags if t.startswith("table:")), "other"),
        refs=refs,
        tags=tags,
        status=status,
        required="not-specified" not in tags,
        duration_s=round(report.duration, 3),
        steps=record.steps,
        expected="\n".join(record.expected),
        observed="\n".join(record.observed),
        message=message,
        cells=cells,
        evidence=record.evidence,
        interpretation=source.interpretation_of(refs),
        defects=source.defects_of(refs),
        seed=record.seed,
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when in ("setup", "teardown") and report.passed:
        return
    tags = _tags(item)
    ended = _outcome(report, call)
    contract, not_specified = "contract" in tags, "not-specified" in tags
    status = policy.scenario_status(ended, not_specified=not_specified, contract=contract)
    scenario = scenario_result(item, report, status, ended.message)
    scenario.required = policy.required(not_specified=not_specified, contract=contract)
    contract_status = policy.contract_cell_status(ended) if contract else None
    if contract_status is not None and not any(
        policy.is_contract_difference(c.status, c.level) for c in scenario.cells
    ):
        # the source is silent; docs/contract.md chose: reported beside the verdict, never judged
        name = item.name.partition("[")[0].removeprefix("test_").replace("_", " ")
        message = ended.message
        scenario.cells.append(
            R.CellResult(
                " ".join(example_of(item).get("ref", "").split()[:1]) or "contract",
                "contract",
                "",
                "as docs/contract.md chooses",
                "not-specified",
                (message.splitlines()[0] if message else "as docs/contract.md chooses"),
                contract_status,
                level=policy.CONTRACT,
                detail=f"{name}: {message}" if message else name,
            )
        )
    payload = {"when": report.when, "scenario": scenario.to_dict()}
    record = item.stash.get(RECORD, None)
    if record is not None and record.observations:
        payload["observations"] = record.observations_payload()
    report.user_properties.append((RECORD_KEY, json.dumps(payload, default=str)))


def pytest_configure(config: pytest.Config) -> None:
    # Gherkin tags such as @requires:mpp become pytest marks that cannot be registered.
    config.addinivalue_line("filterwarnings", "ignore::pytest.PytestUnknownMarkWarning")
    if not hasattr(config, "workerinput"):  # controller, or a run without xdist
        collector = Collector(config)
        config.stash[COLLECTOR] = collector
        config.pluginmanager.register(collector, "smlite-collector")
