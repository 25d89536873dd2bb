"""The gateway clock: real UTC time plus a persisted offset.

Owns ``Clock``. The offset only moves through ``advance`` (the admin endpoint
``POST /admin/api/clock``, allowed only with ``test_clock = true``); it is kept
in the store so it survives a restart, and is bounded (``MAX_OFFSET_DAYS``) so
no request can push the dates past what ``datetime`` holds. Delivery retries
use real time, never this clock.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta

OFFSET_KEY = "clock_offset_seconds"
MAX_OFFSET_DAYS = 365000  # a thousand years: a target used run after run (38 years each at most) lasts,
# and every date stays far below datetime's year 9999


def iso(dt: datetime) -> str:
    """ISO-8601 in UTC with a Z, millisecond precision."""
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Clock:
    def __init__(self, store, controllable: bool) -> None:
        self._store = store
        self.controllable = controllable
        self._lock = threading.Lock()
        try:
            offset = float(store.get_setting(OFFSET_KEY) or 0.0)
        except ValueError:
            offset = 0.0
        self._offset = offset if _usable(offset) else 0.0

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def advance(self, days: float) -> datetime:
        """Move forward by `days`; ValueError (nothing changes) past MAX_OFFSET_DAYS in total."""
        if not self.controllable:
            raise PermissionError("clock control is disabled")
        with self._lock:
            offset = self._offset + days * 86400.0
            if not _usable(offset):
                raise ValueError(f"the clock can move at most {MAX_OFFSET_DAYS} days ahead in total")
            self._store.set_setting(OFFSET_KEY, repr(offset))
            self._offset = offset
        return self.now()


def _usable(offset_s: float) -> bool:
    """An offset that keeps every date the gateway computes (now, + 30 days expiry) representable."""
    return math.isfinite(offset_s) and 0 <= offset_s <= MAX_OFFSET_DAYS * 86400.0
