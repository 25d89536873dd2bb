"""A pytest plugin the bench adds to the suite's process (``-p bench.timing``).

When ``SMLITE_BENCH_TIMING`` names a file, the controlling pytest process
(never an xdist worker) writes there, as epoch seconds: ``configured``
(plugins loaded, options parsed), ``first_test`` (the first scenario starts:
with ``-n 2`` this includes starting the workers and their collection) and
``finished`` (the session ends). bench/suite.py turns them into phases.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

_marks: dict[str, float] = {}


def _controller(config) -> bool:
    return bool(os.environ.get("SMLITE_BENCH_TIMING")) and not hasattr(config, "workerinput")


def pytest_configure(config) -> None:
    if _controller(config):
        _marks["configured"] = time.time()


def pytest_runtest_logstart(nodeid, location) -> None:
    _marks.setdefault("first_test", time.time())


def pytest_sessionfinish(session) -> None:
    if _controller(session.config):
        _marks["finished"] = time.time()
        Path(os.environ["SMLITE_BENCH_TIMING"]).write_text(json.dumps(_marks), encoding="utf-8")
