"""The hooks the conformance plugin asks of the suite's conftest (steps/conftest.py implements them).

Owns ``pytest_smlite_world``: the scenario engine (harness/conformance/engine.py) runs the suite's steps outside
pytest's fixtures and asks the suite, through this hook, for the world one scenario's steps share — so
the harness never imports the steps, and the steps build their world in one place for both paths.
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec(firstresult=True)
def pytest_smlite_world(item: Any, profile: Any, driver: Any, observer: Any, record: Any, seed: int) -> Any:
    """The world of the scenario ``item``: its people, what it sent, what it recorded (steps.world.World)."""
