"""Waiting for a child process to answer: polling with a deadline, an SMTP greeting, an HTTP status.

Owns ``wait_until`` (poll a predicate until it answers or the deadline passes, then a HarnessError
saying what was expected and what was seen), ``smtp_greeting`` and ``http_status``. Used while a
sandbox part starts: what is awaited is a server coming up, never mail.
"""

from __future__ import annotations

import contextlib
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from harness.errors import HarnessError

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    deadline: float,
    describe: str,
    *,
    observe: Callable[[], Any] | None = None,
    retry_on: tuple[type[BaseException], ...] = (OSError,),
    first_interval: float = 0.01,
    max_interval: float = 0.1,
) -> T:
    """Poll `predicate` until it returns something truthy, and return that.

    `deadline` is in seconds from now; `describe` names what is expected
    ("Mailpit answering /readyz on ..."). Exceptions in `retry_on` count as
    "not yet" (connection refused while a server starts); any other exception
    propagates at once (a child that died raises its own HarnessError). On
    timeout: HarnessError whose ``observed`` is ``observe()`` if given, else
    the predicate's last result or exception.
    """
    give_up_at = time.monotonic() + deadline
    interval = first_interval
    while True:
        try:
            result = predicate()
            if result:
                return result
            seen: Any = repr(result)
        except retry_on as exc:
            seen = f"{type(exc).__name__}: {exc}"
        remaining = give_up_at - time.monotonic()
        if remaining <= 0:
            if observe is not None:
                seen = observe()
            raise HarnessError(f"Timed out after {deadline:g}s", f"expected {describe}", observed=seen)
        time.sleep(min(interval, remaining))  # poll until the deadline
        interval = min(interval * 1.6, max_interval)


def smtp_greeting(host: str, port: int, timeout_s: float = 2.0, ssl_context: Any = None) -> str:
    """The server's first line (e.g. '220 ... ESMTP'); raises OSError if none.
    With ``ssl_context`` the connection is wrapped in TLS first (implicit TLS)."""
    with contextlib.ExitStack() as stack:
        sock = stack.enter_context(socket.create_connection((host, port), timeout=timeout_s))
        if ssl_context is not None:
            sock = stack.enter_context(ssl_context.wrap_socket(sock, server_hostname=host))
        data = b""
        while b"\n" not in data:
            chunk = sock.recv(1024)
            if not chunk:
                break
            data += chunk
        try:
            sock.sendall(b"QUIT\r\n")
        except OSError:
            pass
    return data.decode("latin-1").strip()


def http_status(
    url: str, timeout_s: float = 2.0, headers: Mapping[str, str] | None = None, ssl_context: Any = None
) -> int:
    """HTTP status of a GET (4xx/5xx returned, not raised); OSError if no answer.
    ``ssl_context`` verifies an https URL (e.g. against the sandbox's own CA)."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout_s, context=ssl_context) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
