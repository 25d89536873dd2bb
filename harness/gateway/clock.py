"""The gateway clock: real UTC time plus a persisted offset.

Owns ``Clock``. The offset only moves through ``advance`` (the admin endpoint
``POST /admin/api/clock``, allowed only with ``test_clock = true``); it is kept
in the store so it survives a restart. Delivery retries use real time, never
this clock.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

OFFSET_KEY = "clock_offset_seconds"


def iso(dt: datetime) -> str:
    """ISO-8601 in UTC with a Z, millisecond precision."""
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Clock:
    def __init__(self, store, controllable: bool) -> None:
        self._store = store
        self.controllable = controllable
        self._lock = threading.Lock()
        self._offset = float(store.get_setting(OFFSET_KEY) or 0.0)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self._offset)

    def advance(self, days: float) -> datetime:
        if not self.controllable:
            raise PermissionError("clock control is disabled")
        with self._lock:
            self._offset += days * 86400.0
            self._store.set_setting(OFFSET_KEY, repr(self._offset))
        return self.now()
