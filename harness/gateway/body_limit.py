"""Request bodies, bounded at the ASGI level before routing or any read of the body.

Owns ``BodyLimit`` (ASGI middleware). Each request gets a byte limit from ``limit_for(scope)`` (the
large one only on the routes that carry a message: harness/gateway/http_guard.py). A request that
announces a Content-Length above it is answered 413 at once, without reading a byte of its body. A
large body (announced above ``limits.LARGE_BODY``, or chunked) is then authenticated first
(``authenticate(scope)``: a refusal is answered at once, the body never read). Otherwise the body is counted as it streams (chunked
uploads too): the moment the count passes the limit, 413 is sent, the application sees the client as
gone (``http.disconnect``) and whatever it would still send is dropped. A large body must take one
of the gateway's ``max_concurrent_bodies`` slots (``limits.BodySlots``), else ``503 busy`` at once; and the whole body
must arrive within ``body_timeout_s``, else ``408``. Every such answer carries ``Connection: close``
so the server stops taking the rest of the upload; memory stays flat because no layer ever holds
more than the limit, and no more than the slots allow at once. Starlette has no such middleware
(uvicorn's limits are on headers and concurrency only), hence this module.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

from .limits import LARGE_BODY, BodySlots


def _answer(status: int, code: str, message: str, extra: list[tuple[bytes, bytes]] | None = None):
    body = json.dumps({"error": code, "message": message}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            *(extra or []),
        ],
    }
    return start, {"type": "http.response.body", "body": body, "more_body": False}


class BodyLimit:
    def __init__(
        self,
        app,
        limit_for: Callable[[dict], int],
        slots: BodySlots | None = None,
        body_timeout_s: float = 60.0,
        authenticate: Callable[[dict], Awaitable[tuple[int, str, str] | None]] | None = None,
    ) -> None:
        self.app = app
        self.limit_for = limit_for
        self.slots = slots
        self.body_timeout_s = body_timeout_s
        self.authenticate = authenticate

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        announced: int | None = None
        chunked = False
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    announced = -1
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if announced is not None and announced > limit:
            for message in _answer(
                413, "too_large", f"request body of {announced} bytes announced; at most {limit} bytes"
            ):
                await send(message)
            return
        large = chunked or (announced or 0) > LARGE_BODY
        refusal = await self.authenticate(scope) if large and self.authenticate is not None else None
        if refusal is not None:  # who may send a large body is known before a byte of it is read
            for message in _answer(*refusal):
                await send(message)
            return
        if large and self.slots is not None and not self.slots.take():
            busy = f"the gateway is receiving {self.slots.limit} large bodies already; try again later"
            for message in _answer(503, "busy", busy, [(b"retry-after", b"1")]):
                await send(message)
            return
        try:
            await self._limited(scope, receive, send, limit)
        finally:
            if large and self.slots is not None:
                self.slots.give_back()

    async def _limited(self, scope, receive, send, limit: int) -> None:
        state = {"received": 0, "refused": False, "started": False, "answered": False}
        deadline = time.monotonic() + self.body_timeout_s

        async def refuse(answer) -> dict:
            state["refused"] = True
            if not state["started"]:
                state["started"] = state["answered"] = True
                for message in answer:
                    await send(message)
            return {"type": "http.disconnect"}

        async def limited_receive():
            if state["refused"]:
                return {"type": "http.disconnect"}
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                slow = f"the request body did not arrive within {self.body_timeout_s:g} s"
                return await refuse(_answer(408, "request_timeout", slow))
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    passed = f"request body passed the limit after {state['received']} bytes; at most {limit} bytes"
                    return await refuse(_answer(413, "too_large", passed))
            return message

        async def guarded_send(message):
            if state["answered"]:
                return  # the refusal is the answer; the application's reply to a "disconnect" goes nowhere
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if state["refused"]:
                return  # the application choked on the cut-off body; the client already has its answer
            raise
