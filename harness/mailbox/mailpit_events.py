"""Mailpit's event stream: ``/api/events``, a websocket announcing each new message as it arrives.

Owns ``EventStream``: a wake-up signal for waits (``wait``) and ``next`` for whoever reads the events
(the load's delivery watch). None when it cannot be opened: waits then poll.
"""

from __future__ import annotations

import json
from typing import Any

import websocket


class EventStream:
    """Mailpit's /api/events websocket: a wake-up signal for waits, and ``next()`` for who reads events."""

    def __init__(self, ws: websocket.WebSocket):
        self._ws = ws
        self.broken = False

    @classmethod
    def open(cls, api_url: str) -> EventStream | None:
        try:
            return cls(websocket.create_connection("ws" + api_url.removeprefix("http") + "/api/events", timeout=2))
        except (OSError, websocket.WebSocketException):
            return None

    def next(self, timeout_s: float) -> dict[str, Any] | None:
        """The next event (``{"Type": ..., "Data": ...}``) within `timeout_s`, or None; see ``broken``."""
        try:
            self._ws.settimeout(max(timeout_s, 0.001))
            return json.loads(self._ws.recv())
        except websocket.WebSocketTimeoutException:
            return None
        except (OSError, websocket.WebSocketException, ValueError):
            self.broken = True
            self.close()
            return None

    def wait(self, timeout_s: float) -> bool:
        """True if an event arrived within `timeout_s`."""
        try:
            self._ws.settimeout(max(timeout_s, 0.001))
            self._ws.recv()
            return True
        except websocket.WebSocketTimeoutException:
            return False
        except (OSError, websocket.WebSocketException):
            self.broken = True
            self.close()
            return False

    def close(self) -> None:
        try:
            self._ws.close()
        except (OSError, websocket.WebSocketException):
            pass
