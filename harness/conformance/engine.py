"""Running the suite's scenarios at the same time, so that deliveries of different scenarios overlap.

Owns ``Engine``. A slow target (a hosted gateway that delivers in seconds, sometimes a minute) would cost
one delivery latency per wait if scenarios ran one after another; here they do not:

* every selected scenario runs in a light thread of its own, started in collection order; its steps run
  in order, and they are exactly the step functions pytest-bdd would run (harness/conformance/stepdefs.py
  finds them);
* how many run at once follows the target: ``MIN_AT_ONCE`` while nothing is known, then
  ``MIN_AT_ONCE × (1 + p50 latency / WORK_S)``, the p50 of the target's least crowded stretch (a latency
  that grows only because so much is in flight asks for less, not more) — a target that answers in milliseconds is CPU-bound and
  gains nothing from more (it would only slow itself and inflate the latencies that prove absence),
  a target that delivers in seconds gets as many scenarios in flight as its latency asks for — capped by
  ``--smlite-concurrency`` and by the mailbox (IMAP servers limit connections);
* pytest still owns the run: each item, in collection order, waits for its scenario's outcome and
  reports it (``pytest_pyfunc_call`` in harness/conformance/plugin.py), so the hand-over file, the
  progress lines, ``-x``, the results and their order are those of a sequential run;
* what the threads share is made to be shared: one connection (the mailbox with one event reader, the
  latency measured so far, the clock, the board of what is awaited); each scenario has its own driver (a
  vendor's driver need not be thread-safe), observer, world and record;
* ``-x`` or an interrupt cancels what has not finished: the clock's cancel signal ends every wait.

A line on stderr every few seconds says what is awaited and for how long (the ``WaitBoard``), instead
of one line per waiting scenario.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from harness.conformance.record import ScenarioRecord
from harness.conformance.stepdefs import StepIndex, scenario_of
from harness.connection.connect import Connection, connect
from harness.drivers.base import Driver
from harness.drivers.watched import watched
from harness.errors import HarnessError
from harness.observation.waiting import PROGRESS_EVERY_S, Cancelled, WaitBoard
from harness.profile.schema import TargetProfile
from harness.results import StepResult

DEFAULT_CONCURRENCY = 64  # the most scenarios at once
MIN_AT_ONCE = 4  # while the latency is unknown, and for a target that delivers at once
WORK_S = 0.25  # about the harness's own work in one scenario between two waits


@dataclass
class ScenarioRun:
    """One scenario's execution in the engine: its steps, what it recorded, how it ended."""

    nodeid: str
    item: Any
    scenario: Any
    record: ScenarioRecord = field(default_factory=ScenarioRecord)
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class Engine:
    def __init__(self, config: Any, profile: TargetProfile, seed: int, concurrency: int = DEFAULT_CONCURRENCY):
        self.config, self.profile, self.seed = config, profile, seed
        self.concurrency = max(1, concurrency)
        self.runs: dict[str, ScenarioRun] = {}
        self.index = StepIndex()
        self._stack = contextlib.ExitStack()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._connection: Connection | None = None
        self._broken: HarnessError | None = None
        self._ticker: threading.Thread | None = None
        self._dispatcher: threading.Thread | None = None
        self._stopping = threading.Event()
        self.progress = sys.stderr if config.getoption("--smlite-progress") else None

    # -- the session ------------------------------------------------------------------------------
    def start(self, items: list[Any]) -> None:
        """Open the connection once and start every scenario of ``items`` that is not skipped."""
        for item in items:
            scenario = scenario_of(item)
            if scenario is not None and not any(True for _ in item.iter_markers("skip")):
                self.runs[item.nodeid] = ScenarioRun(item.nodeid, item, scenario)
        if not self.runs:
            return
        try:
            self._connection = self._stack.enter_context(
                connect(self.profile, check_mail_sandbox=True, progress=self.progress)
            )
        except HarnessError as exc:  # the target or the mail sandbox: every scenario says so
            self._broken = exc
            for run in self.runs.values():
                run.error = exc
                run.done.set()
            return
        self._connection.board = WaitBoard(self._connection.clock)
        mailbox_limit = getattr(self._connection.mailbox, "max_parallel", None)
        self.concurrency = min(self.concurrency, mailbox_limit or self.concurrency)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="scenario")
        self._dispatcher = threading.Thread(target=self._dispatch, name="smlite-dispatch", daemon=True)
        self._dispatcher.start()
        if self.progress is not None:
            self._ticker = threading.Thread(target=self._tick, name="smlite-board", daemon=True)
            self._ticker.start()

    def outcome(self, nodeid: str) -> ScenarioRun | None:
        """The finished run of ``nodeid`` (waits for it), or None when the engine does not run it."""
        run = self.runs.get(nodeid)
        if run is not None:
            while not run.done.wait(0.5):
                pass  # a wait with a short period, so that Ctrl-C reaches pytest's main thread
        return run

    def stop(self) -> None:
        """Cancel what has not finished, wait for the threads to end their steps, close the connection."""
        self._stopping.set()
        if self._connection is not None:
            self._connection.clock.cancelled.set()
        if self._dispatcher is not None:
            self._dispatcher.join()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._stack.close()

    def at_once(self) -> int:
        """How many scenarios should be in flight now (see the module docstring)."""
        assert self._connection is not None
        p50 = self._connection.latency.floor_p50("mail")
        if p50 is None:
            return min(self.concurrency, MIN_AT_ONCE)
        return max(1, min(self.concurrency, math.ceil(MIN_AT_ONCE * (1 + p50 / WORK_S))))

    def _dispatch(self) -> None:
        """Start the runs in collection order, keeping ``at_once()`` in flight."""
        assert self._pool is not None
        pending = list(self.runs.values())
        in_flight: set[concurrent.futures.Future[None]] = set()
        while pending and not self._stopping.is_set():
            while pending and len(in_flight) < self.at_once():
                in_flight.add(self._pool.submit(self._run, pending.pop(0)))
            if pending:
                _done, in_flight = concurrent.futures.wait(
                    in_flight, timeout=0.5, return_when=concurrent.futures.FIRST_COMPLETED
                )
        for run in pending:  # stopped before they started
            run.error = HarnessError("The run was stopped before this scenario started")
            run.done.set()

    # -- one scenario -------------------------------------------------------------------------------
    def _run(self, run: ScenarioRun) -> None:
        connection = self._connection
        assert connection is not None
        record = run.record
        record.name, record.feature = run.scenario.name, run.scenario.feature.name
        record.steps = [StepResult(step.keyword, step.name, "not run") for step in run.scenario.steps]
        driver: Driver | None = None
        try:
            connection.clock.check()
            driver = watched(connection.new_driver(), connection.clock.monotonic)
            world = self.config.hook.pytest_smlite_world(
                item=run.item,
                profile=self.profile,
                driver=driver,
                observer=connection.observer(driver),
                record=record,
                seed=self.seed,
            )
            for index, step in enumerate(run.scenario.steps):
                connection.clock.check()
                started = time.perf_counter()
                try:
                    matched = self.index.match(step)
                    arguments = dict(matched.arguments)
                    provided = {
                        "world": world,
                        "datatable": step.datatable.raw() if step.datatable else None,
                        "docstring": step.docstring,
                    }
                    for name in _parameters(matched.function):
                        if name in provided and name not in arguments:
                            arguments[name] = provided[name]
                    matched.function(**arguments)
                except BaseException:
                    record.steps[index].status = "failed"
                    raise
                finally:
                    record.steps[index].duration_s = round(time.perf_counter() - started, 3)
                if record.steps[index].status != "failed":
                    record.steps[index].status = "passed"
        except Cancelled:
            run.error = HarnessError("The run was stopped before this scenario finished")
        except BaseException as exc:  # a step's own outcome (failure, skip, harness error): pytest reports it
            run.error = exc
        finally:
            if driver is not None:
                driver.recorder = None
                with contextlib.suppress(Exception):
                    driver.close()
            run.done.set()

    def _tick(self) -> None:
        assert self._connection is not None and self._connection.board is not None
        while not self._stopping.wait(PROGRESS_EVERY_S):
            line = self._connection.board.summary()
            if line and self.progress is not None:
                with contextlib.suppress(OSError):
                    print(line, file=self.progress, flush=True)


def _parameters(function: Any) -> list[str]:
    import inspect

    return list(inspect.signature(function).parameters)
