"""A request body cap at the ASGI level, before routing, authentication or any read of the body.

Owns ``BodyLimit`` (ASGI middleware). A request that announces a
Content-Length above the limit is answered 413 at once, without reading a
byte of its body. Otherwise the body is counted as it streams (chunked
uploads too): the moment the count passes the limit, 413 is sent, the
application sees the client as gone (``http.disconnect``) and whatever it
would still send is dropped. The 413 carries ``Connection: close`` so the
server stops taking the rest of the upload; memory stays flat because no
layer ever holds more than the limit. Starlette has no such middleware
(uvicorn's limits are on headers and concurrency only), hence this module.
"""

from __future__ import annotations

import json


class BodyLimit:
    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self, what: str) -> tuple[dict, dict]:
        body = json.dumps({"error": "too_large",
                           "message": f"request body {what}; at most {self.max_bytes} bytes"}).encode()
        start = {"type": "http.response.start", "status": 413,
                 "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                             (b"connection", b"close")]}
        return start, {"type": "http.response.body", "body": body, "more_body": False}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    announced = -1
                if announced > self.max_bytes:
                    start, body = self._too_large(f"of {announced} bytes announced")
                    await send(start)
                    await send(body)
                    return
        state = {"received": 0, "refused": False, "started": False, "answered": False}

        async def limited_receive():
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_bytes:
                    state["refused"] = True
                    if not state["started"]:
                        start, body = self._too_large(f"passed the limit after {state['received']} bytes")
                        state["started"] = state["answered"] = True
                        await send(start)
                        await send(body)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if state["answered"]:
                return  # the 413 is the answer; the application's reply to a "disconnect" goes nowhere
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if state["refused"]:
                return  # the application choked on the cut-off body; the client already has its 413
            raise
