"""Bounded under hostile load, against the real gateway process (small messages and counts, limits
scaled down through its config): a message stored once whatever its recipients (database growth),
memory (psutil RSS of the gateway), delivered rows pruned after the retention, no large HTTP body
read before authentication, the cap on concurrent large bodies, idle and slow-body timeouts for SMTP
and HTTP, the caps on sessions (SMTP 421, HTTP 503 with JSON) with descriptors bounded
(/proc/<pid>/fd), AUTH failures slowed and the session closed. bench/gateway_soak.py runs the big
figures."""

from __future__ import annotations

import base64
import json
import os
import smtplib
import socket
import sqlite3
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path

import psutil
import pytest
from gwtest import uniq, wait_until

pytestmark = pytest.mark.sandbox

ALICE = "alice@corp.example"


def db_bytes(gw) -> int:
    base = Path(gw.cfg["database"])
    return sum(p.stat().st_size for p in (base, Path(f"{base}-wal")) if p.exists())


def rss_mb(gw) -> float:
    return psutil.Process(gw.proc.pid).memory_info().rss / 1e6


def fds(gw) -> int:
    return len(os.listdir(f"/proc/{gw.proc.pid}/fd"))


def big_message(tag: str, to: list[str], size: int, definition: str | None = "All") -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = ALICE, ", ".join(to), f"B {tag}"
    if definition:
        msg["X-SM-Definition"] = definition
    msg.set_content("the body\n")
    msg.add_attachment(os.urandom(size), maintype="application", subtype="octet-stream", filename="big.bin")
    return msg.as_bytes()


def query(gw, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{gw.cfg['database']}?mode=ro", uri=True, timeout=10) as c:
        return c.execute(sql).fetchall()


def http_raw(gw, request: bytes, timeout: float = 10) -> bytes:
    """Send ``request`` and read the whole answer (until the server closes or its body is complete)."""
    with socket.create_connection(("127.0.0.1", gw.http_port), timeout) as s:
        s.sendall(request)
        data = b""
        while True:
            head, sep, body = data.partition(b"\r\n\r\n")
            length = next(
                (
                    int(v)
                    for k, _, v in (h.partition(b":") for h in head.split(b"\r\n"))
                    if k.lower() == b"content-length"
                ),
                None,
            )
            if sep and length is not None and len(body) >= length:
                return data
            more = s.recv(65536)
            if not more:
                return data
            data += more


def test_a_fanned_out_message_is_stored_once_and_memory_stays_flat(start_gateway, mailpit):
    gw = start_gateway("fanout")
    tag = uniq()
    rcpts = [f"r{i}{tag}@corp.example" for i in range(40)]
    raw = big_message(tag, rcpts, 2_000_000)
    before, rss_before = db_bytes(gw), rss_mb(gw)
    assert gw.send(raw, ALICE, rcpts)[0] == 250
    wait_until(lambda: mailpit.count(tag) >= 40, 60, what="40 deliveries")
    grown = db_bytes(gw) - before
    print(f"fan-out of {len(raw)} bytes to 40: database +{grown} bytes, RSS {rss_before:.0f} -> {rss_mb(gw):.0f} MB")
    assert grown < 2.5 * len(raw), f"the database grew by {grown} bytes for a message of {len(raw)} (x recipients?)"
    [(own,)] = query(gw, "SELECT COALESCE(SUM(length(raw)), 0) FROM outbound") or [(0,)]
    [(items,)] = query(gw, "SELECT COALESCE(SUM(length(raw)), 0) FROM mpp_items") or [(0,)]
    assert own + items < 100_000, "outbound rows and MPP items hold copies of the message"
    assert rss_mb(gw) - rss_before < 120


def test_delivered_rows_are_pruned_after_the_retention(start_gateway, mailpit):
    gw = start_gateway("retention", delivered_retention_s=1)
    tag = uniq()
    rcpt = f"{tag}@ext.example"
    raw = big_message(tag, [rcpt], 10_000, definition=None)
    assert gw.send(raw, ALICE, [rcpt])[0] == 250  # not secure: relayed plain, in no SM Portal
    wait_until(lambda: mailpit.count(tag) == 1, 20, what="the delivery")

    def pruned():
        rows = query(gw, f"SELECT length(m.raw) FROM messages m WHERE m.subject = 'B {tag}'")
        left = query(
            gw, f"SELECT COUNT(*) FROM outbound o JOIN messages m ON m.pk = o.message_pk WHERE m.subject = 'B {tag}'"
        )
        return rows and rows[0][0] == 0 and left[0][0] == 0

    wait_until(pruned, 15, interval=0.2, what="the delivered row and the message's bytes pruned")


def test_no_large_http_body_is_read_before_authentication(gateway):
    head = "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{auth}Content-Length: 5000000\r\n\r\n"
    for path, auth, status in [
        ("/mpp/api/messages", "", b"401"),
        ("/mpp/api/messages", "Authorization: Bearer wrong\r\n", b"401"),
        ("/sm-portal/api/messages/no-such-token/reply", "", b"404"),
        ("/sm-portal/m/no-such-token/reply-all", "", b"404"),
    ]:
        answer = http_raw(gateway, head.format(path=path, auth=auth).encode())  # the body is never sent
        assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
        assert b"connection: close" in answer.lower() and b'"error"' in answer
    small = http_raw(gateway, b"POST /mpp/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n")
    assert small.startswith(b"HTTP/1.1 413"), "a route that carries no message takes no large body"


def test_concurrent_large_bodies_are_capped(start_gateway):
    gw = start_gateway("slots", max_concurrent_bodies=2)
    session = gw.mpp_session(ALICE)
    head = (
        f"POST /mpp/api/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {session}\r\n"
        "Content-Type: application/json\r\nContent-Length: 200000\r\n\r\n"
    ).encode()
    held = [socket.create_connection(("127.0.0.1", gw.http_port), 10) for _ in range(2)]
    try:
        for s in held:
            s.sendall(head + b'{"to": ["x@corp.example"], "subject": "s", "text": "')
        time.sleep(0.3)  # let the gateway take both bodies' slots (nothing to poll: they are only being read)
        answer = http_raw(gw, head)
        assert answer.startswith(b"HTTP/1.1 503") and b'"busy"' in answer, answer[:300]
        with gw.smtp() as smtp:
            smtp.mail(ALICE)
            smtp.rcpt("x@corp.example")
            code, text = smtp.docmd("DATA")
            assert (code, text[:5]) == (451, b"4.3.2"), (code, text)
    finally:
        for s in held:
            s.close()
    wait_until(
        lambda: gw.mpp_send(session, to=["x@corp.example"], subject="s", text="t", definition="All").status_code == 202,
        10,
        what="a slot again",
    )


def test_a_slow_http_body_gets_408(start_gateway):
    gw = start_gateway("slowbody", http_body_timeout_s=1)
    session = gw.mpp_session(ALICE)
    started = time.monotonic()
    answer = http_raw(
        gw,
        f"POST /mpp/api/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {session}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{".encode(),
    )
    assert answer.startswith(b"HTTP/1.1 408") and b"request_timeout" in answer, answer[:300]
    assert time.monotonic() - started < 5


def test_idle_and_slow_http_connections_are_closed(start_gateway):
    gw = start_gateway("httpidle", http_idle_timeout_s=1)
    for first in (b"", b"GET /healthz HTTP/1.1\r\nHo"):
        with socket.create_connection(("127.0.0.1", gw.http_port), 10) as s:
            s.sendall(first)
            started = time.monotonic()
            assert s.recv(100) == b"" and time.monotonic() - started < 5, "the connection stayed open"


def _open(port: int, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), 10) for _ in range(count)]


def _in_data(port: int) -> socket.socket:
    """An SMTP session in the middle of a DATA body."""
    s = socket.create_connection(("127.0.0.1", port), 10)
    f = s.makefile("rb")
    f.readline()
    for line in (b"EHLO t\r\n", f"MAIL FROM:<{ALICE}>\r\n".encode(), b"RCPT TO:<x@corp.example>\r\n", b"DATA\r\n"):
        s.sendall(line)
        while (reply := f.readline())[3:4] == b"-":
            pass
    assert reply.startswith(b"354"), reply
    s.sendall(b"Subject: busy\r\n\r\nstill sending\r\n")
    return s


def _in_request(port: int) -> socket.socket:
    """An HTTP connection in the middle of a request body."""
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.sendall(b"POST /mpp/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nsession=")
    return s


def test_connection_caps_evict_the_idle_refuse_when_busy_and_keep_descriptors_bounded(start_gateway, mailpit):
    gw = start_gateway("caps", http_max_connections=20, smtp_max_sessions=20, max_concurrent_bodies=40)
    base = fds(gw)
    held = _open(gw.smtp_port, 20) + _open(gw.http_port, 20)
    try:
        # a flood of idle connections: each new one closes the one silent longest; normal traffic is served
        held += _open(gw.smtp_port, 300) + _open(gw.http_port, 300)
        wait_until(lambda: gw.get("/healthz").status_code == 200, 10, what="/healthz served past idle connections")
        tag = uniq()
        rcpt = f"{tag}@corp.example"
        assert gw.send(big_message(tag, [rcpt], 1000), ALICE, [rcpt])[0] == 250
        wait_until(lambda: fds(gw) < base + 60, 10, what="descriptors of evicted connections closed")
        said = b""
        while chunk := held[0].recv(200):
            said += chunk
        assert b"421 4.4.2 Idle too long" in said, said  # after the greeting, or instead of it under load
    finally:
        for s in held:
            s.close()
    busy = [_in_data(gw.smtp_port) for _ in range(20)] + [_in_request(gw.http_port) for _ in range(20)]
    try:  # every session and connection busy: the new one is refused
        refused = socket.create_connection(("127.0.0.1", gw.smtp_port), 10)
        assert refused.recv(200).startswith(b"421 4.7.0"), "an SMTP session over the cap must get 421 4.7.0"
        refused.close()
        answer = http_raw(gw, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
        assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"] == "too_many_connections"
    finally:
        for s in busy:
            s.close()


def test_idle_and_slow_smtp_sessions_are_closed(start_gateway):
    gw = start_gateway("smtpidle", smtp_idle_timeout_s=1)
    with socket.create_connection(("127.0.0.1", gw.smtp_port), 10) as s:
        assert s.recv(200).startswith(b"220")
        started = time.monotonic()
        assert s.recv(200) == b"" and time.monotonic() - started < 5, "an idle SMTP session stayed open"
    gw = start_gateway("smtpslow", smtp_idle_timeout_s=30, smtp_data_timeout_s=1)
    with socket.create_connection(("127.0.0.1", gw.smtp_port), 10) as s:
        f = s.makefile("rb")
        f.readline()
        for line in (b"EHLO t\r\n", f"MAIL FROM:<{ALICE}>\r\n".encode(), b"RCPT TO:<x@corp.example>\r\n", b"DATA\r\n"):
            s.sendall(line)
            while (reply := f.readline())[3:4] == b"-":
                pass
        assert reply.startswith(b"354")
        s.sendall(b"Subject: slow\r\n\r\nfirst line\r\n")  # then nothing more, though each line came in time
        assert f.readline().startswith(b"421 4.4.2")


def test_auth_failures_are_slowed_then_the_session_closed(start_gateway):
    gw = start_gateway(
        "auth", smtp_users={"submitter": "right"}, smtp_auth_max_failures=3, smtp_auth_failure_delay_ms=300
    )
    smtp = smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=10)
    smtp.ehlo("t")
    wrong = "PLAIN " + base64.b64encode(b"\0submitter\0wrong").decode()
    started, codes = time.monotonic(), []
    for _ in range(3):
        codes.append(smtp.docmd("AUTH", wrong)[0])
    elapsed = time.monotonic() - started
    assert codes == [535, 535, 535], codes
    assert smtp.getreply()[0] == 421, "after the third failure the session is closed with 421"
    assert elapsed >= 0.3 + 0.6 - 0.05, f"three failures took {elapsed:.2f}s: not slowed"
    with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError, OSError)):
        smtp.docmd("NOOP")
        smtp.docmd("NOOP")
    ok = smtplib.SMTP("127.0.0.1", gw.smtp_port, timeout=10)
    ok.login("submitter", "right")  # a new session with the right password still gets in
    ok.quit()
