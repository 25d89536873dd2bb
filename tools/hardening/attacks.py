"""The soak's attacks on a gateway, each a coroutine that counts what happened to it.

Owns:

* ``fan_out``: one large secure message (about 9.5 MB with its attachment) to many internal
  recipients, submitted over SMTP with the sandbox's account (smtplib, in a worker thread);
* ``body_storm``: many concurrent unauthenticated HTTP requests, each announcing and streaming a
  large JSON body to ``POST /mpp/api/messages``: the answer, and how many bytes the gateway took
  before it answered or hung up;
* ``idle_smtp``: thousands of SMTP connections opened (a bounded number at a time) and left idle
  after the greeting until told to stop: how many were greeted, refused, closed by the gateway,
  still held at the end;
* ``slow_bodies``: HTTP requests whose body arrives one byte a second (slowloris), held the same way;
* ``auth_guessing``: SMTP AUTH PLAIN with wrong passwords on a few connections for a while,
  reconnecting when the gateway hangs up: attempts per second, and whether any was accepted.

Written on asyncio streams rather than with a load tool (Locust, used by ``smlite load``, models
users sending mail; it has no idle sockets, no half-sent bodies, no AUTH): each attack is a few
lines of socket talk whose every outcome is counted, and ten thousand idle connections need one
event loop, not ten thousand threads. Timeouts bound every wait: nothing hangs the soak.
"""

from __future__ import annotations

import asyncio
import base64
import email.policy
import os
import secrets
import smtplib
import time
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage

CHUNK = b"0" * (256 * 1024)
CONNECT_AT_ONCE = 256  # connections being opened at the same time (a listen backlog is small)


@dataclass
class Tally:
    """Outcomes of one attack, by name."""

    counts: Counter = field(default_factory=Counter)
    figures: dict[str, float] = field(default_factory=dict)

    def add(self, outcome: str, n: int = 1) -> None:
        self.counts[outcome] += n

    def as_dict(self) -> dict:
        return {"counts": dict(self.counts), **self.figures}


# -- fan-out --------------------------------------------------------------------------------------


def large_message(recipients: list[str], size: int, tag: str) -> EmailMessage:
    """A secure message (Outlook, All) of about ``size`` bytes: text and a base64 attachment."""
    message = EmailMessage()
    message["From"] = "soak.sender@" + recipients[0].rpartition("@")[2]
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"soak fan-out {tag}"
    message["X-SM-Definition"] = "All"
    message["X-SM-Application"] = "outlook"
    message.set_content(f"A large message to {len(recipients)} recipients ({tag}).\n")
    raw_bytes = int((size - 2_000 - 40 * len(recipients)) * 57 / 78)  # base64 lines of 76 + CRLF
    message.add_attachment(
        os.urandom(max(raw_bytes, 1)), maintype="application", subtype="octet-stream", filename="soak.bin"
    )
    return message


def submit(host: str, port: int, account: tuple[str, str] | None, message: EmailMessage, rcpts: list[str]) -> dict:
    """Submit ``message`` over SMTP (AUTH with ``account``); what the gateway answered and how long it took."""
    started = time.monotonic()
    data = message.as_bytes(policy=email.policy.SMTP)  # CRLF line ends: smtplib sends bytes as they are
    try:
        with smtplib.SMTP(host, port, timeout=600) as smtp:
            if account:
                smtp.login(*account)
            refused = smtp.sendmail(message["From"], rcpts, data)
        return {"accepted": True, "bytes": len(data), "refused": len(refused), "seconds": time.monotonic() - started}
    except (smtplib.SMTPException, OSError) as exc:
        return {
            "accepted": False,
            "bytes": len(data),
            "error": f"{type(exc).__name__}: {exc}"[:300],
            "seconds": time.monotonic() - started,
        }


async def fan_out(host: str, port: int, account: tuple[str, str] | None, recipients: list[str], size: int) -> dict:
    tag = secrets.token_hex(4)
    message = large_message(recipients, size, tag)
    answer = await asyncio.to_thread(submit, host, port, account, message, recipients)
    return {**answer, "tag": tag, "recipients": len(recipients)}


# -- HTTP -------------------------------------------------------------------------------------------


def _request_head(host: str, port: int, length: int) -> bytes:
    return (
        f"POST /mpp/api/messages HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


async def _status(reader: asyncio.StreamReader, timeout_s: float) -> str:
    """The status code the server answered, or how the connection ended without one (never raises: the
    task may end after its caller stopped listening, and an exception nobody retrieves is printed)."""
    try:
        line = await asyncio.wait_for(reader.readline(), timeout_s)
    except (OSError, TimeoutError) as exc:
        return f"connection ended ({type(exc).__name__})"
    parts = line.split()
    return parts[1].decode("ascii", "replace") if len(parts) >= 2 else "closed without an answer"


async def _one_body(host: str, port: int, size: int, tally: Tally) -> None:
    sent = 0
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
    except (OSError, TimeoutError):
        tally.add("not connected")
        return
    answer = asyncio.ensure_future(_status(reader, 600))
    try:
        writer.write(_request_head(host, port, size))
        while sent < size and not answer.done():
            piece = CHUNK[: min(len(CHUNK), size - sent)]
            writer.write(piece)
            await writer.drain()
            sent += len(piece)
        status = await answer
        tally.add("hung up mid-body" if status.startswith("connection ended") else f"HTTP {status}")
    except (OSError, TimeoutError):
        tally.add(f"HTTP {answer.result()}" if answer.done() and not answer.exception() else "hung up mid-body")
    finally:
        answer.cancel()
        tally.figures["bytes_taken"] = tally.figures.get("bytes_taken", 0) + sent
        writer.close()


async def body_storm(host: str, port: int, bodies: int, size: int) -> dict:
    """``bodies`` requests at once, each streaming ``size`` bytes without credentials."""
    tally = Tally()
    started = time.monotonic()
    await asyncio.gather(*(_one_body(host, port, size, tally) for _ in range(bodies)))
    tally.figures["seconds"] = round(time.monotonic() - started, 1)
    return tally.as_dict()


async def _one_slow_body(host: str, port: int, stop: asyncio.Event, tally: Tally, gate: asyncio.Semaphore) -> None:
    async with gate:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
            writer.write(_request_head(host, port, 1_000_000))
            await writer.drain()
        except (OSError, TimeoutError):
            tally.add("not connected")
            return
    answer = asyncio.ensure_future(_status(reader, 24 * 3600))
    stopped = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set() and not answer.done():
            writer.write(b" ")
            await writer.drain()
            await asyncio.wait([answer, stopped], timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
        if not answer.done():
            tally.add("held to the end")
        else:
            status = answer.result()
            tally.add("hung up by the gateway" if status.startswith("connection ended") else f"answered {status}")
    except (OSError, TimeoutError):
        tally.add("hung up by the gateway")
    finally:
        answer.cancel()
        stopped.cancel()
        writer.close()


async def slow_bodies(host: str, port: int, count: int, stop: asyncio.Event) -> dict:
    tally = Tally()
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    await asyncio.gather(*(_one_slow_body(host, port, stop, tally, gate) for _ in range(count)))
    return tally.as_dict()


# -- SMTP -------------------------------------------------------------------------------------------


async def _one_idle(host: str, port: int, stop: asyncio.Event, tally: Tally, gate: asyncio.Semaphore) -> None:
    async with gate:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
        except (OSError, TimeoutError):
            tally.add("not connected")
            return
        try:
            greeting = await asyncio.wait_for(reader.readline(), 30)
        except (OSError, TimeoutError):
            greeting = b""
    tally.add("greeted 220" if greeting.startswith(b"220") else f"greeted {greeting[:3].decode() or 'with nothing'}")
    closed = asyncio.ensure_future(reader.read(4096))
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait([closed, stopped], return_when=asyncio.FIRST_COMPLETED)
    tally.add("held to the end" if not closed.done() else "closed by the gateway")
    closed.cancel()
    stopped.cancel()
    writer.close()


async def idle_smtp(host: str, port: int, count: int, stop: asyncio.Event, opened: asyncio.Event) -> dict:
    """Open ``count`` connections, keep each idle after its greeting until ``stop``; ``opened`` when all tried."""
    tally = Tally()
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    started = time.monotonic()
    tasks = [asyncio.ensure_future(_one_idle(host, port, stop, tally, gate)) for _ in range(count)]

    async def all_tried() -> None:
        while sum(v for k, v in tally.counts.items() if k.startswith(("greeted", "not connected"))) < count:
            await asyncio.sleep(0.2)
        tally.figures["seconds_to_open"] = round(time.monotonic() - started, 1)
        opened.set()

    watcher = asyncio.ensure_future(all_tried())
    await asyncio.gather(*tasks)
    watcher.cancel()
    opened.set()
    return tally.as_dict()


async def _reply(reader: asyncio.StreamReader) -> bytes:
    """One SMTP reply (the last line of a multi-line one)."""
    while True:
        line = await asyncio.wait_for(reader.readline(), 60)
        if not line:
            raise ConnectionResetError("closed")
        if line[3:4] != b"-":
            return line


async def _guesser(host: str, port: int, user: str, deadline: float, tally: Tally) -> None:
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
        except (OSError, TimeoutError):
            tally.add("not connected")
            await asyncio.sleep(0.2)
            continue
        try:
            await _reply(reader)
            writer.write(b"EHLO soak.example\r\n")
            await _reply(reader)
            while time.monotonic() < deadline:
                token = base64.b64encode(f"\0{user}\0guess-{secrets.token_hex(6)}".encode()).decode()
                writer.write(f"AUTH PLAIN {token}\r\n".encode())
                code = (await _reply(reader))[:3].decode("ascii", "replace")
                tally.add(f"answered {code}")
                if code == "235":
                    break
        except (OSError, TimeoutError):
            tally.add("hung up by the gateway")
        finally:
            writer.close()


async def auth_guessing(host: str, port: int, user: str, connections: int, seconds: float) -> dict:
    """Wrong passwords for ``user`` on ``connections`` connections for ``seconds``: attempts per second."""
    tally = Tally()
    started = time.monotonic()
    await asyncio.gather(*(_guesser(host, port, user, started + seconds, tally) for _ in range(connections)))
    elapsed = time.monotonic() - started
    attempts = sum(v for k, v in tally.counts.items() if k.startswith("answered"))
    tally.figures.update(attempts=attempts, seconds=round(elapsed, 1), per_second=round(attempts / elapsed, 1))
    return tally.as_dict()
