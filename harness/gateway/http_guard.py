"""Which HTTP requests may carry a large body, and who they must be first.

Owns the routes that carry a message (an MPP send, an SM Portal reply by API or form) and, for
``BodyLimit`` (harness/gateway/body_limit.py): ``body_limit_for(cfg)`` — those routes may send up to
``max_request_bytes``, every other route ``SMALL_BODY`` (sign-in forms, the Administration Console's
small JSON) — and ``authenticator(gateway)``: before a large body is read, an MPP send needs a valid
MPP session (else ``401 unauthorized``) and a reply a live SM Portal token (else ``404 not_found`` or
``410 expired``), checked in a worker thread as every database read of the HTTP front end is.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from .errors import GatewayError
from .limits import LARGE_BODY

SMALL_BODY = LARGE_BODY  # what any other route may send
_MPP_SEND = re.compile(r"^/mpp/api/messages/?$")
_REPLY = re.compile(r"^/sm-portal/(?:api/messages|m)/(?P<token>[^/]+)/reply(?:-all)?/?$")


def _carries_a_message(scope: dict) -> bool:
    path = scope.get("path", "")
    return scope.get("method") == "POST" and bool(_MPP_SEND.match(path) or _REPLY.match(path))


def body_limit_for(cfg: Any) -> Callable[[dict], int]:
    def limit(scope: dict) -> int:
        return cfg.max_request_bytes if _carries_a_message(scope) else min(SMALL_BODY, cfg.max_request_bytes)

    return limit


def authenticator(gateway: Any) -> Callable[[dict], Awaitable[tuple[int, str, str] | None]]:
    """The refusal (status, code, message) of a request that may not send a large body, or None."""

    async def authenticate(scope: dict) -> tuple[int, str, str] | None:
        path = scope.get("path", "")
        if scope.get("method") != "POST":
            return None
        try:
            if _MPP_SEND.match(path):
                token = None
                for name, value in scope.get("headers", []):
                    if name == b"authorization":
                        scheme, _, cred = value.decode("latin-1").partition(" ")
                        token = cred.strip() if scheme.lower() == "bearer" else None
                await run_in_threadpool(gateway.mpp_user, token)
            elif m := _REPLY.match(path):
                await run_in_threadpool(gateway.portal_row, m.group("token"))
        except GatewayError as exc:
            return exc.status, exc.code, exc.message
        return None

    return authenticate
