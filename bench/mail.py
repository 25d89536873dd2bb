"""The mail measurements of the bench: the floor, latency, throughput.

Everything here talks to a running sandbox (``Sandbox.info()``) over loopback,
bounded in count and time:

* ``floor``: N messages sent straight to Mailpit over SMTP (one connection per
  message, as the suite's driver does) and each read back through Mailpit's API
  with the harness's own ``MailpitClient.wait_for_messages`` (event stream, the
  same read path the suite uses). Sequential, like the suite with ``-n 1``.
* ``latency``: send one message over SMTP and time it until Mailpit announces
  it on its event stream (``/api/events``); through the gateway (a secure
  message, so the gateway composes and queues a Notification) and, for
  reference, straight into Mailpit.
* ``ingest``: M messages over C persistent SMTP connections at once, timed
  until the last one is announced by Mailpit: Mailpit's own ingest rate, and
  the gateway's throughput into Mailpit.

No fixed sleeps: every wait is on Mailpit's event stream with a deadline
(falling back to polling its message count if the stream breaks).
"""

from __future__ import annotations

import json
import smtplib
import statistics
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

import requests
import websocket

from harness.errors import HarnessError
from harness.mailbox.mailpit import MailpitClient

SENDER = "bench.sender@{domain}"
BODY = "Quarterly figures attached below; please treat as confidential.\n" * 12


def message(sender: str, recipient: str, subject: str, secure: str | None = None) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, recipient, subject
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    if secure:
        mail["X-SM-Definition"], mail["X-SM-Application"] = secure, "outlook"
    mail.set_content(BODY)
    return mail.as_bytes(policy=policy.SMTP)  # CRLF line ends, as SMTP wants


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of `values`, None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class Events:
    """Mailpit's /api/events websocket: (arrival time, message summary) per new message."""

    def __init__(self, api_url: str, timeout_s: float = 10.0):
        url = "ws" + api_url.removeprefix("http") + "/api/events"
        try:
            self.ws = websocket.create_connection(url, timeout=timeout_s)
        except (OSError, websocket.WebSocketException) as exc:
            raise HarnessError("Cannot open Mailpit's event stream", url, str(exc)) from None

    def next_new(self, deadline: float) -> tuple[float, dict] | None:
        """The next "new message" event before `deadline` (monotonic), or None."""
        while (remaining := deadline - time.perf_counter()) > 0:
            self.ws.settimeout(remaining)
            try:
                raw = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                return None
            arrived = time.perf_counter()
            event = json.loads(raw)
            if event.get("Type") == "new":
                return arrived, event.get("Data") or {}
        return None

    def close(self) -> None:
        try:
            self.ws.close()
        except (OSError, websocket.WebSocketException):
            pass


def _addressed(data: dict) -> set[str]:
    return {a.get("Address", "").lower() for k in ("To", "Cc", "Bcc") for a in data.get(k) or []}


def floor(info: dict, count: int, tag: str, deadline_s: float = 15.0) -> dict:
    """`count` messages straight to Mailpit, each read back before the next is sent."""
    host, port = info["mailpit_smtp"]
    client = MailpitClient(info["mailpit_api"])
    sender = SENDER.format(domain=info["internal_domains"][0])
    per_message = []
    started = time.perf_counter()
    for i in range(count):
        address = f"floor{i}.{tag}@example.net"
        sent = time.perf_counter()
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            smtp.sendmail(sender, [address], message(sender, address, f"floor {i} [{tag}]"))
        client.wait_for_messages(address, 1, deadline_s=deadline_s)
        per_message.append(time.perf_counter() - sent)
    total = time.perf_counter() - started
    return {
        "messages": count,
        "seconds": total,
        "per_message_ms": 1000 * total / max(count, 1),
        "p50_ms": 1000 * (percentile(per_message, 50) or 0.0) if per_message else None,
    }


def latency(
    info: dict, samples: int, tag: str, through_gateway: bool, warmup: int = 3, deadline_s: float = 10.0
) -> dict:
    """Send→observed (Mailpit event) latency of `samples` sequential messages."""
    host, port = info["gateway_smtp"] if through_gateway else info["mailpit_smtp"]
    sender = SENDER.format(domain=info["internal_domains"][0])
    events = Events(info["mailpit_api"])
    observed, accepted = [], []
    try:
        for i in range(warmup + samples):
            address = f"lat{i}.{'gw' if through_gateway else 'mp'}.{tag}@example.net"
            raw = message(sender, address, f"latency {i} [{tag}]", "All" if through_gateway else None)
            started = time.perf_counter()
            with smtplib.SMTP(host, port, timeout=10) as smtp:
                smtp.sendmail(sender, [address], raw)
            done = time.perf_counter()
            deadline = started + deadline_s
            while True:
                event = events.next_new(deadline)
                if event is None:
                    raise HarnessError(
                        "A message was not observed in Mailpit", f"expected one to {address} within {deadline_s:g}s"
                    )
                if address in _addressed(event[1]):
                    break
            if i >= warmup:
                accepted.append(1000 * (done - started))
                observed.append(1000 * (event[0] - started))
    finally:
        events.close()
    return {
        "samples": samples,
        "p50_ms": percentile(observed, 50),
        "p95_ms": percentile(observed, 95),
        "max_ms": max(observed),
        "mean_ms": statistics.fmean(observed),
        "accept_p50_ms": percentile(accepted, 50),
    }


@dataclass
class _Senders:
    host: str
    port: int
    sender: str
    secure: str | None
    errors: list[str] = field(default_factory=list)

    def run(self, addresses: list[str], tag: str) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
                for address in addresses:
                    smtp.sendmail(
                        self.sender, [address], message(self.sender, address, f"ingest {address} [{tag}]", self.secure)
                    )
        except (OSError, smtplib.SMTPException) as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")


def ingest(
    info: dict, count: int, concurrency: int, tag: str, through_gateway: bool, deadline_s: float = 120.0
) -> dict:
    """Messages/s from the first send until Mailpit announced the last of `count`."""
    host, port = info["gateway_smtp"] if through_gateway else info["mailpit_smtp"]
    sender = SENDER.format(domain=info["internal_domains"][0])
    kind = "gw" if through_gateway else "mp"
    addresses = [f"in{i}.{kind}.{tag}@example.net" for i in range(count)]
    wanted = set(addresses)
    senders = _Senders(host, port, sender, "All" if through_gateway else None)
    threads = [
        threading.Thread(target=senders.run, args=(addresses[i::concurrency], f"{kind}-{tag}"))
        for i in range(concurrency)
    ]
    events = Events(info["mailpit_api"])
    seen: set[str] = set()
    last, complete = None, False
    try:
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        deadline = started + deadline_s
        while len(seen) < count:
            try:
                event = events.next_new(deadline)
            except (OSError, websocket.WebSocketException):
                last = _poll_until(info["mailpit_api"], count - len(seen), deadline)
                complete = last is not None
                break
            if event is None:
                break
            hit = _addressed(event[1]) & wanted
            if hit:
                seen |= hit
                last = event[0]
        complete = complete or len(seen) == count
    finally:
        events.close()
        for thread in threads:
            thread.join(30)
    if senders.errors:
        raise HarnessError("Sending failed during the ingest measurement", senders.errors[0])
    if not complete or last is None:
        raise HarnessError("Messages were not observed in Mailpit", f"saw {len(seen)} of {count}")
    seconds = last - started
    return {
        "messages": count,
        "concurrency": concurrency,
        "seconds": seconds,
        "per_second": count / seconds,
        "observed": len(seen),
    }


def _poll_until(api_url: str, more: int, deadline: float) -> float | None:
    """Fallback when the event stream breaks: poll Mailpit's total until `more` arrived."""
    session = requests.Session()
    start_total = session.get(f"{api_url}/api/v1/messages", params={"limit": 1}, timeout=5).json()["total"]
    interval = 0.01
    while time.perf_counter() < deadline:
        total = session.get(f"{api_url}/api/v1/messages", params={"limit": 1}, timeout=5).json()["total"]
        if total - start_total >= more:
            return time.perf_counter()
        time.sleep(interval)  # polling with a deadline, only when the event stream is gone
        interval = min(interval * 1.5, 0.1)
    return None
