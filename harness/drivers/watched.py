"""A driver whose last *action* is known: when the target was last asked to do something that could make
it send mail.

Owns ``WatchedDriver``, a thin wrapper around any ``Driver`` (a vendor's too: it needs nothing of the
driver's own). Every call but the reads the source gives no reason to send mail for — reading an MPP
view, the SM Portal's index, the Administration Console's list, the target's name — marks
``acted_at``: sending, opening or printing in the SM Portal, replying, changing a definition, moving
the clock. A barrier sent through ``unwatched`` is not an action. An absence proof may then reuse a
barrier sent *after* the last action (harness/observation/scope.py): whatever the target would send
because of an action happened before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

from harness.drivers.base import Driver

READS = frozenset({"mpp_view", "portal_index", "portal_links_as", "list_definitions", "describe", "close", "record"})


class WatchedDriver:
    """``driver`` with ``acted_at`` (monotonic): attributes and methods are the driver's own."""

    def __init__(self, driver: Driver, clock: Callable[[], float] = time.monotonic):
        object.__setattr__(self, "unwatched", driver)
        object.__setattr__(self, "_clock", clock)
        object.__setattr__(self, "acted_at", clock())

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.unwatched, name)
        if name in READS or name.startswith("_") or not callable(value):
            return value

        def acting(*args: Any, **kwargs: Any) -> Any:
            object.__setattr__(self, "acted_at", self._clock())
            try:
                return value(*args, **kwargs)
            finally:
                object.__setattr__(self, "acted_at", self._clock())

        return acting

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.unwatched, name, value)  # e.g. the recorder: the driver's own


def watched(driver: Driver, clock: Callable[[], float] = time.monotonic) -> Driver:
    """``driver`` wrapped in a ``WatchedDriver``, typed as the driver it stands for."""
    return cast(Driver, WatchedDriver(driver, clock))
