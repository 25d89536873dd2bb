"""Owns: keeping the independent matrix out of a plain `make test`.

The slow tests here run the whole suite once per behaviour (about 76 runs for the
matrix and 76 probes) and, by design, fail for every deviation the suite misses
and every alternative it wrongly fails: that is the lead's work list, not a
regression. So they are *deselected* (counted as such by pytest, never reported
as passed) unless the run asks for them with a marker expression naming
`independent`, e.g. `pytest tests/independent -m independent`.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "independent" in (config.getoption("markexpr") or ""):
        return
    keep, drop = [], []
    for item in items:
        in_here = "tests/independent/" in str(item.path).replace("\\", "/")
        (drop if in_here and item.get_closest_marker("slow") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
