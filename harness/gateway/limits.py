"""Bounds shared by the gateway's front ends: large bodies received at once, HTTP connections.

Owns ``BodySlots`` (the global cap ``max_concurrent_bodies`` on large bodies being received: SMTP DATA
and HTTP bodies over ``LARGE_BODY``; one counter in the gateway's one event loop, taken without
waiting — a body that finds no slot is refused at once with a temporary answer) and
``bounded_http_protocol(cfg)``: uvicorn's h11 protocol with a cap on concurrent connections
(``http_max_connections``: at the cap the connection that has waited longest for a request is closed
to make room; when every connection is busy with a request, the new one gets ``503`` with a JSON
body and is closed) and a
deadline for each request's head (``http_idle_timeout_s``: a connection that sends no complete request
line and header within it, first or after a response, is closed). uvicorn's own
``limit_concurrency`` answers in plain text and its keep-alive timeout starts only after a first
response, hence this subclass (uvicorn accepts a protocol class as ``http``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

LARGE_BODY = 64 * 1024  # a body above this holds one of the max_concurrent_bodies slots


class BodySlots:
    """How many large bodies are being received now, across SMTP and HTTP (one event loop)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.taken = 0
        self.refused = 0

    def take(self) -> bool:
        if self.taken >= self.limit:
            self.refused += 1
            return False
        self.taken += 1
        return True

    def give_back(self) -> None:
        self.taken = max(0, self.taken - 1)


def json_response(status: int, reason: str, code: str, message: str, extra: dict[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 response with a JSON error body that closes the connection."""
    body = json.dumps({"error": code, "message": message}).encode()
    head = [
        f"HTTP/1.1 {status} {reason}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: close",
        *(f"{k}: {v}" for k, v in (extra or {}).items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def bounded_http_protocol(cfg: Any) -> type[H11Protocol]:
    max_connections, head_timeout = cfg.http_max_connections, float(cfg.http_idle_timeout_s)
    busy = json_response(
        503,
        "Service Unavailable",
        "too_many_connections",
        f"the gateway serves at most {max_connections} connections at once; try again later",
        {"retry-after": "1"},
    )

    class BoundedH11(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None
        _waiting_cycle: object = None
        _armed_at = 0.0

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                waiting = [c for c in self.connections if isinstance(c, BoundedH11) and c._head_timer is not None]
                idlest = min(waiting, key=lambda c: c._armed_at, default=None)
                if idlest is None:  # every connection is busy with a request
                    transport.write(busy)
                    transport.close()
                    return
                idlest._disarm()  # idle connections must not keep out someone with a request
                idlest.transport.close()
                self.connections.discard(idlest)
            self._arm()

        def _arm(self) -> None:
            """Close the connection unless a complete request head arrives within the deadline."""
            self._disarm()
            self._waiting_cycle = self.cycle
            self._armed_at = self.loop.time()
            self._head_timer = self.loop.call_later(head_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _too_slow(self) -> None:
            self._head_timer = None
            if self.cycle is self._waiting_cycle and not self.transport.is_closing():
                self.transport.close()  # no request came in time: nothing to answer

        def handle_events(self) -> None:
            super().handle_events()
            if self._head_timer is not None and self.cycle is not self._waiting_cycle:
                self._disarm()  # a request head arrived: the body has its own deadline (http_body_timeout_s)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return BoundedH11
