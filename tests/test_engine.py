"""The scenario engine (harness/conformance/engine.py): scenarios at once, the same verdicts as one by one.

* every step of every scenario of features/ matches exactly one step definition (the engine finds
  definitions the way pytest-bdd's fixtures would only if that holds);
* the same selection run by the engine and by pytest-bdd itself (``--smlite-engine sequential``)
  reports the same status for every scenario;
* against a reference gateway that delivers late, with jitter that reorders its deliveries, the run
  is still Conformant (how much time that costs is measured in bench/, not here);
* a target that delivers nothing at all leaves the run Incomplete, saying which recipient waited for
  what — never Conformant, never a failure of the target;
* the board of waits says in one line what is awaited and for how long.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from harness import results as R
from harness.conformance.runner import RunOptions, run
from harness.conformance.stepdefs import StepIndex
from harness.observation.waiting import Clock, WaitBoard

REPO = Path(__file__).resolve().parent.parent
SELECTION = "T3-r1 or T3-r3 or read or refused or T2-r1"


def every_rendered_scenario():
    from pytest_bdd.feature import get_features

    for feature in get_features([str(REPO / "features")]):
        for template in feature.scenarios.values():
            rows = [dict(zip(e.example_params, row)) for e in template.examples for row in e.examples]
            for context in rows or [{}]:
                yield template.render(context)


def test_every_step_of_the_suite_has_exactly_one_definition():
    import steps.conftest  # noqa: F401  (the step modules register their definitions)

    index = StepIndex()
    scenarios = list(every_rendered_scenario())
    assert len(scenarios) > 70
    for scenario in scenarios:
        for step in scenario.steps:
            assert index.match(step).function is not None, f"{scenario.name}: {step.name}"


def test_the_board_says_what_is_awaited_and_for_how_long():
    now = [100.0]
    clock = Clock()
    clock.monotonic = lambda: now[0]  # type: ignore[method-assign]
    board = WaitBoard(clock)
    early = board.enter("a delivery to erik@example.net", 15)
    board.enter("an MPP item for ida@corp.example", 15)
    assert board.summary() is None  # nothing has waited 3 s yet
    now[0] += 4.2
    line = board.summary()
    assert line is not None and line.startswith("smlite: waiting for 2 deliveries:")
    assert "a delivery to erik@example.net (4 s of 15)" in line
    board.leave(early)
    assert "erik" not in (board.summary() or "")


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_engine_and_pytest_bdd_report_the_same_statuses(tmp_path):
    statuses = {}
    for engine in ("concurrent", "sequential"):
        code, results, _ = run(
            RunOptions(
                reports_dir=tmp_path / engine, seed=99, quiet=True, report=False, select=SELECTION, engine=engine
            )
        )
        assert results is not None and code == 0, engine
        statuses[engine] = {s.id: s.status for s in results.scenarios}
    assert len(statuses["concurrent"]) > 8 and statuses["concurrent"] == statuses["sequential"]


def profile_of(sandbox, tmp_path: Path, info: dict | None = None, **changes) -> Path:
    from harness.files import toml_text
    from harness.profile.schema import from_sandbox

    profile = from_sandbox(sandbox.info() | (info or {}))
    data = {k: v for k, v in profile.to_dict().items() if k != "source_path"} | changes
    path = tmp_path / "target.toml"
    path.write_text(toml_text(data))
    return path


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_late_jittering_target_that_reorders_its_deliveries_is_still_conformant(tmp_path):
    from harness.sandbox.lifecycle import Sandbox

    with Sandbox(settings={"delivery_delay_s": 0.3, "delivery_jitter_s": 0.6, "delivery_seed": 7}) as sandbox:
        code, results, _ = run(
            RunOptions(
                target=str(profile_of(sandbox, tmp_path)),
                reports_dir=tmp_path,
                seed=5,
                quiet=True,
                report=False,
                select=SELECTION,
            )
        )
    assert results is not None
    assert code == 0 and results.verdict().startswith("Conformant"), [
        (s.name, s.message[:300]) for s in results.scenarios if s.status != R.PASSED
    ]


@pytest.mark.sandbox
@pytest.mark.slow
def test_a_target_that_delivers_nothing_leaves_the_run_incomplete_and_says_who_waited(tmp_path):
    from harness.sandbox.lifecycle import Sandbox
    from harness.sandbox.mailpit import MailpitProcess
    from harness.sandbox.procs import free_port

    with (
        MailpitProcess(tmp_path / "mailpit") as mailpit,
        Sandbox(relay=("127.0.0.1", free_port())) as sandbox,
    ):  # the gateway relays into nothing
        info = {"mailpit_api": mailpit.api_url, "mailpit_smtp": (mailpit.smtp_host, mailpit.smtp_port)}
        path = profile_of(sandbox, tmp_path, info, delivery_timeout_s=3.0)
        code, results, _ = run(
            RunOptions(
                target=str(path),
                reports_dir=tmp_path,
                seed=5,
                quiet=True,
                report=False,
                select="T3-r1 and Outlook and All",
            )
        )
    assert results is not None and code == 2 and results.verdict() == "Incomplete"
    (scenario,) = [s for s in results.scenarios if s.status == R.HARNESS_ERROR][:1]
    assert "delivery_timeout_s" in scenario.message and "not even the ordinary barrier message" in scenario.message
    assert "@corp.example" in scenario.message  # which recipient waited
    assert not [s for s in results.scenarios if s.status == R.FAILED]


def test_a_scenario_is_skipped_by_the_engine_when_pytest_would_skip_it():
    from harness.conformance.engine import Engine

    config = SimpleNamespace(getoption=lambda name: None)
    engine = Engine(config, profile=SimpleNamespace(), seed=1)  # type: ignore[arg-type]
    assert engine.runs == {}
