"""The hand-over file the suite's process streams to ``smlite run`` (harness/conformance/runner.py reads it).

Owns ``Collector`` (registered by harness/conformance/plugin.py on the controller: one ``ScenarioResult`` per
scenario, from the report's ``user_properties`` under ``RECORD_KEY``, so that pytest-xdist workers hand it
over too), written as JSON lines: the selected scenario ids once collection is known, then one line per
scenario as it reports, then how the session ended — a run killed halfway still leaves what it saw. It
also prints the progress lines, masked like the report.
"""

from __future__ import annotations

import json
import re
import sys
from typing import IO, Any

import pytest

from harness import policy
from harness import results as R

RECORD_KEY = "smlite"


class Collector:
    """Controller side: one ScenarioResult per scenario, streamed to the hand-over file as it reports."""

    MARKS = policy.MARKS

    def __init__(self, config: pytest.Config):
        self.config = config
        self.scenarios: dict[str, R.ScenarioResult] = {}
        self.total: int | None = None
        path = config.getoption("--smlite-results")
        self.out: IO[str] | None = open(path, "w", encoding="utf-8") if path else None
        self.progress = bool(config.getoption("--smlite-progress"))
        self.masker = None  # progress lines are terminal output: masked like the report
        if self.progress and path and not config.getoption("--smlite-reveal-secrets"):
            from harness.profile.schema import load
            from harness.results.masking import Masker

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
        payloads = [json.loads(str(value)) for key, value in report.user_properties if key == RECORD_KEY]
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
        scenario.worker = str(
            (getattr(getattr(report, "node", None), "gateway", None) and report.node.gateway.id) or ""
        )
        self.scenarios[report.nodeid] = scenario
        entry: dict[str, Any] = {"scenario": scenario.to_dict()}
        if "observations" in payload:  # what the judge was given (harness/results/observations.py)
            entry["observations"] = payload["observations"]
        self._write(entry)
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
