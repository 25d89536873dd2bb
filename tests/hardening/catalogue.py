"""The bad-input catalogue: every kind of bad input tried against the gateway's SMTP and HTTP and the CLI.

Each ``Case`` is a counted row - id, channel (smtp, http, cli), what is sent,
the expected handling - plus the probe that sends it and checks the answer.
test_bad_input.py runs every row; after each SMTP or HTTP row the gateway must
still carry a normal secure message end to end. docs/hardening.md prints the
catalogue as a table.

"Handled" means a clear refusal (4xx/5xx with a message; CLI: exit 2 with a
message and no traceback) or, where accepting is right (mixed-case and
duplicate addresses, IDN in ASCII form, odd but readable MIME), delivery
exactly once per distinct recipient with nothing injected. The module's
gateway runs with ``max_message_bytes = 1 MiB`` (MAX_BYTES) to keep the
oversized cases small.
"""

from __future__ import annotations

import base64
import http.client
import os
import smtplib
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import requests

from .support import INTERNAL, SENDER, Target, gwtest, marker

MAX_BYTES = 1024 * 1024
REPO = Path(__file__).resolve().parents[2]
BANNER = "This message was sent securely using Secure Messaging."


@dataclass(frozen=True)
class Case:
    id: str
    channel: str  # smtp | http | cli
    sent: str
    expected: str
    probe: Callable[[Ctx], None]


class Ctx:
    """What a probe needs: the module's target, a temp folder, and small helpers."""

    def __init__(self, target: Target, tmp: Path) -> None:
        self.target = target
        self.gw = target.gw
        self.tmp = tmp

    # -- SMTP ------------------------------------------------------------------------------------
    def send(self, raw: bytes, rcpts: list[str], mail_from: str = SENDER) -> tuple[int, bytes]:
        return self.gw.send(raw, mail_from, rcpts)

    def session(self) -> smtplib.SMTP:
        return self.gw.smtp()

    @staticmethod
    def raw_command(session: smtplib.SMTP, line: bytes) -> tuple[int, bytes]:
        """Send bytes smtplib would refuse to send (bare CR, 8-bit), read the reply."""
        session.sock.sendall(line)
        return session.getreply()

    def delivered_once(self, tag: str, *rcpts: str) -> dict:
        """Each recipient got exactly one message whose subject holds `tag`; returns them by address."""
        ledger = self.target.ledger()
        for rcpt in rcpts:
            ledger.ack(rcpt, tag)
        return {address: messages[0] for (address, _), messages in ledger.settle().items()}

    def nothing_for(self, *addresses: str) -> None:
        """After a later message went through, these addresses got nothing and the SM Portal holds nothing."""
        self.target.roundtrip()
        for address in addresses:
            assert self.target.mailbox.messages_to(address) == [], f"{address} received mail"
            assert self.gw.portal_items(address) == [], f"the SM Portal holds a message for {address}"

    # -- HTTP ------------------------------------------------------------------------------------
    @cached_property
    def mpp_auth(self) -> dict:
        return {"Authorization": f"Bearer {self.target.mpp_session(SENDER)}"}

    def mpp_post(self, headers: dict | None = None, **kw) -> requests.Response:
        return requests.post(
            self.target.http + "/mpp/api/messages", headers={**self.mpp_auth, **(headers or {})}, timeout=30, **kw
        )

    def raw_get(self, path: str) -> tuple[int, str]:
        """GET a path exactly as written (no client-side normalisation of ../ or %2F)."""
        host, port = self.target.http.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.putrequest("GET", path, skip_accept_encoding=True)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            conn.close()

    @cached_property
    def portal_token(self) -> str:
        """A live SM Portal token (an external recipient's)."""
        tag = marker("tok")
        rcpt = f"{tag}@ext.example"
        assert self.send(gwtest.make_message(frm=SENDER, to=[rcpt], subject=f"Token {tag}"), [rcpt])[0] == 250
        note = self.delivered_once(tag, rcpt)[rcpt]
        return gwtest.portal_token(gwtest.parse(note.raw))

    # -- CLI -------------------------------------------------------------------------------------
    def cli(self, *args: str, module: str = "harness.cli.main") -> subprocess.CompletedProcess:
        entry = Path(sys.executable).with_name("smlite")
        argv = (
            [str(entry), *args]
            if module == "harness.cli.main" and entry.exists()
            else [sys.executable, "-m", module, *args]
        )
        env = dict(
            os.environ,
            XDG_STATE_HOME=str(self.tmp / "state"),
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        )
        return subprocess.run(argv, cwd=self.tmp, env=env, capture_output=True, text=True, timeout=120)

    def file(self, name: str, content: bytes) -> str:
        path = self.tmp / name
        path.write_bytes(content)
        return str(path)


# -- assertions -------------------------------------------------------------------------------------


def refused(reply: tuple[int, bytes], code: int, text: bytes = b"") -> None:
    got_code, got_text = reply
    assert got_code == code and got_text.startswith(text), f"expected {code} {text!r}, got {got_code} {got_text!r}"
    assert got_text.strip(), "a refusal must say why"


def refused_5xx(reply: tuple[int, bytes]) -> None:
    code, text = reply
    assert 500 <= code < 600 and text.strip(), f"expected a 5xx with a message, got {code} {text!r}"


def http_error(response: requests.Response, status: int, error: str) -> dict:
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text[:300]}"
    body = response.json()
    assert body.get("error") == error and body.get("message"), f"error body {body}"
    return body


def cli_usage_error(done: subprocess.CompletedProcess, *words: str) -> None:
    said = done.stdout + done.stderr
    assert done.returncode == 2, f"exit {done.returncode}, expected 2; said {said[-500:]!r}"
    assert "Traceback" not in said, f"a traceback instead of a message: {said[-800:]}"
    for word in words:
        assert word in said, f"{word!r} not in {said[-500:]!r}"


def no_controls(text: str) -> bool:
    return not any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


# -- SMTP probes ---------------------------------------------------------------------------------


def _msg(tag: str, *lines: bytes, body: bytes = b"body\r\n") -> bytes:
    return b"\r\n".join([f"Subject: {tag}".encode(), *lines]) + b"\r\n\r\n" + body


def _ext(tag: str) -> str:
    return f"{tag}@ext.example"


def _int(tag: str) -> str:
    return f"{tag}@{INTERNAL}"


def smtp_malformed(raw_of: Callable[[str], bytes], reason: bytes = b"5.6.0 Malformed message: "):
    def probe(ctx: Ctx) -> None:
        tag = marker()
        refused(ctx.send(raw_of(tag), [_ext(tag)]), 554, reason)
        assert ctx.gw.portal_items(_ext(tag)) == []

    return probe


def nested(depth: int, tag: str) -> bytes:
    inner = b"Content-Type: text/plain\r\n\r\nhello from the bottom\r\n"
    for i in range(depth):
        b = f"b{i}".encode()
        inner = (
            b"Content-Type: multipart/mixed; boundary="
            + b
            + b"\r\n\r\n--"
            + b
            + b"\r\n"
            + inner
            + b"\r\n--"
            + b
            + b"--\r\n"
        )
    return f"Subject: {tag}\r\nX-SM-Definition: External\r\nMIME-Version: 1.0\r\n".encode() + inner


def probe_nested_ok(ctx: Ctx) -> None:
    tag = marker()
    html = b"<html><body><p>formatted</p></body></html>"
    raw = (
        f"Subject: {tag}\r\nX-SM-Definition: External\r\nMIME-Version: 1.0\r\n".encode()
        + b"Content-Type: multipart/mixed; boundary=L1\r\n\r\n--L1\r\n"
        + b"Content-Type: multipart/related; boundary=L2\r\n\r\n--L2\r\n"
        + b"Content-Type: multipart/alternative; boundary=L3\r\n\r\n--L3\r\n"
        + b"Content-Type: text/plain; charset=utf-8\r\n\r\nplain deep\r\n--L3\r\n"
        + b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        + html
        + b"\r\n--L3--\r\n--L2--\r\n--L1\r\n"
        + b'Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="a.bin"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--L1--\r\n"
    )
    assert ctx.send(raw, [_int(tag)])[0] == 250
    got = gwtest.parse(ctx.delivered_once(tag, _int(tag))[_int(tag)].raw)
    assert got.get_body(("plain",)).get_content().startswith(BANNER), "banner missing from the nested text part"
    assert 'class="sm-banner"' in got.get_body(("html",)).get_content()
    assert [a.get_content() for a in got.iter_attachments()] == [b"\x00\x01\x02\x03\x04"]


def probe_nested_too_deep(depth: int):
    def probe(ctx: Ctx) -> None:
        tag = marker()
        refused(ctx.send(nested(depth, tag), [_int(tag)]), 554, b"5.6.0 Malformed message: ")
        assert ctx.gw.portal_items(_int(tag)) == []

    return probe


def probe_non_utf8_header(ctx: Ctx) -> None:
    tag = marker()
    raw = f"Subject: {tag} caf".encode() + b"\xe9 \xff\xfe\r\nX-SM-Definition: All\r\n\r\nbody\r\n"
    assert ctx.send(raw, [_ext(tag)])[0] == 250
    note = ctx.delivered_once(tag, _ext(tag))[_ext(tag)]
    assert "\ufffd" in note.subject and no_controls(note.subject), note.subject


def probe_non_utf8_body(ctx: Ctx) -> None:
    tag = marker()
    raw = _msg(
        tag,
        b"X-SM-Definition: External",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: 8bit",
        body=b"bad \xff\xfe bytes " + tag.encode() + b"\r\n",
    )
    assert ctx.send(raw, [_int(tag)])[0] == 250
    text = ctx.delivered_once(tag, _int(tag))[_int(tag)].text
    assert text.startswith(BANNER) and tag in text and "\ufffd" in text, text[:200]


def probe_bad_base64(ctx: Ctx) -> None:
    tag = marker()
    raw = _msg(
        tag,
        b"X-SM-Definition: External",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: base64",
        body=b"!!!not*base64@@@\r\n",
    )
    assert ctx.send(raw, [_int(tag)])[0] == 250
    assert ctx.delivered_once(tag, _int(tag))[_int(tag)].text.startswith(BANNER)


def probe_encoded_crlf_subject(ctx: Ctx) -> None:
    tag = marker()
    evil = f"evil.{tag}@ext.example"
    subject = f"=?utf-8?q?{tag}=0D=0ABcc:_{evil}=0D=0A=0D=0Ainjected_body?=".encode()
    raw = b"Subject: " + subject + b"\r\nX-SM-Definition: All\r\n\r\nbody\r\n"
    assert ctx.send(raw, [_ext(tag)])[0] == 250
    note = ctx.delivered_once(tag, _ext(tag))[_ext(tag)]
    assert "\r" not in note.subject and "\n" not in note.subject
    assert note.header("Bcc") == [] and b"\nBcc:" not in note.raw.split(b"\r\n\r\n", 1)[0]
    ctx.nothing_for(evil)


def probe_control_subject(ctx: Ctx) -> None:
    tag = marker()
    raw = f"Subject: {tag} nul".encode() + b"\x00 esc\x1b[31m bell\x07\r\nX-SM-Definition: All\r\n\r\nb\r\n"
    assert ctx.send(raw, [_ext(tag)])[0] == 250
    note = ctx.delivered_once(tag, _ext(tag))[_ext(tag)]
    assert no_controls(note.subject), repr(note.subject)


def probe_crlf_in_rcpt(ctx: Ctx) -> None:
    tag = marker()
    s = ctx.session()
    try:
        assert s.mail(SENDER)[0] == 250
        refused(
            ctx.raw_command(s, f"RCPT TO:<{_ext(tag)}>\rBcc: evil.{tag}@ext.example\r\n".encode()),
            501,
            b"Syntax: RCPT TO",
        )
    finally:
        s.close()
    ctx.nothing_for(_ext(tag), f"evil.{tag}@ext.example")


def probe_crlf_in_mail_from(ctx: Ctx) -> None:
    tag = marker()
    s = ctx.session()
    try:
        refused(
            ctx.raw_command(s, f"MAIL FROM:<{SENDER}>\rRCPT TO:<evil.{tag}@ext.example>\r\n".encode()),
            501,
            b"Syntax: MAIL FROM",
        )
    finally:
        s.close()
    ctx.nothing_for(f"evil.{tag}@ext.example")


def probe_long_header_line(ctx: Ctx) -> None:
    tag = marker()
    raw = f"Subject: {tag} ".encode() + b"A" * 200_000 + b"\r\nX-SM-Definition: All\r\n\r\nbody\r\n"
    refused(ctx.send(raw, [_ext(tag)]), 500, b"Line too long")
    ctx.nothing_for(_ext(tag))


def probe_huge_folded_header(ctx: Ctx) -> None:
    tag = marker()
    subject = f"{tag} ".encode() + b"\r\n ".join([b"word" * 10] * 3000)  # 130 KB over 3000 lines
    raw = b"Subject: " + subject + b"\r\nX-SM-Definition: All\r\n\r\nbody\r\n"
    assert ctx.send(raw, [_ext(tag)])[0] == 250
    note = ctx.delivered_once(tag, _ext(tag))[_ext(tag)]
    head = note.raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 998, "a header line over SMTP's 998 limit"


def probe_oversized(ctx: Ctx) -> None:
    tag = marker()
    raw = _msg(tag, b"X-SM-Definition: All", body=(b"x" * 76 + b"\r\n") * (MAX_BYTES // 78 + 200))
    refused(ctx.send(raw, [_ext(tag)]), 552, b"5.3.4 Message too big")
    ctx.nothing_for(_ext(tag))


def probe_declared_size(ctx: Ctx) -> None:
    s = ctx.session()
    try:
        refused(s.docmd(f"MAIL FROM:<{SENDER}> SIZE={MAX_BYTES * 50}"), 552, b"5.3.4 Message too big")
    finally:
        s.close()


def probe_zero_recipients(ctx: Ctx) -> None:
    s = ctx.session()
    try:
        assert s.mail(SENDER)[0] == 250
        refused(s.docmd("DATA"), 503, b"5.5.1 Error: need RCPT command")
    finally:
        s.close()


def probe_thousand_recipients(ctx: Ctx) -> None:
    tag = marker()
    rcpts = [f"r{i:04d}.{tag}@{INTERNAL if i % 2 else 'ext.example'}" for i in range(1000)]
    s = ctx.session()
    try:
        assert s.mail(SENDER)[0] == 250
        replies = [s.rcpt(r) for r in rcpts]
        assert [c for c, _ in replies[:100]] == [250] * 100
        assert all(r == (452, b"4.5.3 Too many recipients (at most 100)") for r in replies[100:]), replies[100]
        raw = gwtest.make_message(frm=SENDER, to=rcpts[:1], subject=f"Many {tag}", definition="External")
        assert s.data(raw)[0] == 250
    finally:
        s.quit()
    ctx.delivered_once(tag, *rcpts[:100])
    for r in rcpts[100:103] + rcpts[-2:]:
        assert ctx.target.mailbox.messages_to(r) == [], f"{r} was refused at RCPT but got mail"


def probe_duplicate_recipients(ctx: Ctx) -> None:
    tag = marker()
    rcpt = _ext(f"dup.{tag}")
    variants = [rcpt, rcpt.upper().replace("@EXT.EXAMPLE", "@ext.example"), rcpt.replace("ext.example", "EXT.Example")]
    raw = gwtest.make_message(frm=SENDER, to=variants, subject=f"Dup {tag}")
    assert ctx.send(raw, variants)[0] == 250
    ctx.delivered_once(tag, rcpt)
    assert len(ctx.gw.portal_items(rcpt)) == 1, "one portal message per distinct recipient"


def probe_mixed_case(ctx: Ctx) -> None:
    tag = marker()
    rcpt = f"Bob.{tag}@Corp.EXAMPLE"
    raw = gwtest.make_message(frm="Alice@CORP.Example", to=[rcpt], subject=f"Case {tag}")
    assert ctx.send(raw, [rcpt], mail_from="Alice@CORP.Example")[0] == 250
    got = ctx.delivered_once(tag, rcpt)[rcpt.lower()]
    assert got.text.startswith(BANNER), "a mixed-case internal address must count as internal (banner)"


def probe_idn_ascii(ctx: Ctx) -> None:
    tag = marker()
    rcpt = f"{tag}@xn--bcher-kva.example"
    assert ctx.send(gwtest.make_message(frm=SENDER, to=[rcpt], subject=f"IDN {tag}"), [rcpt])[0] == 250
    note = ctx.delivered_once(tag, rcpt)[rcpt]
    assert note.header("Sensitivity") == ["Private"]


def probe_idn_utf8(ctx: Ctx) -> None:
    s = ctx.session()
    try:
        assert s.mail(SENDER)[0] == 250
        refused(ctx.raw_command(s, "RCPT TO:<user@bücher.example>\r\n".encode()), 500, b"Error: strict ASCII mode")
    finally:
        s.close()


def probe_header_refusal(header: bytes, text: bytes):
    def probe(ctx: Ctx) -> None:
        tag = marker()
        reply = ctx.send(_msg(tag, header), [_ext(tag)])
        refused(reply, 554, text)
        assert all(32 <= b < 127 for b in reply[1]), "an SMTP reply must be ASCII"
        assert ctx.gw.portal_items(_ext(tag)) == []

    return probe


def probe_empty_body(ctx: Ctx) -> None:
    tag = marker()
    assert ctx.send(f"Subject: {tag}\r\nX-SM-Definition: All\r\n\r\n".encode(), [_ext(tag)])[0] == 250
    note = ctx.delivered_once(tag, _ext(tag))[_ext(tag)]
    token = gwtest.portal_token(gwtest.parse(note.raw))
    r = ctx.gw.get(f"/sm-portal/api/messages/{token}")
    assert r.status_code == 200 and r.json()["text"].strip() == "", r.text


def probe_hostile_filenames(ctx: Ctx) -> None:
    tag = marker()
    names = [
        b'filename="../../../../etc/passwd"',
        b"filename*=utf-8''..%2F..%2Fevil%0D%0ABcc%3A%20evil%40ext.example%00.txt",
        b'filename="<img src=x onerror=alert(1)>.html"',
        b'filename="CON"',
        b'filename="' + b"n" * 300 + b'.txt"',
    ]
    parts = b"".join(
        b"--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
        + n
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(bytes([i]) * 8)
        + b"\r\n"
        for i, n in enumerate(names)
    )
    raw = (
        f"Subject: {tag}\r\nX-SM-Definition: External\r\nMIME-Version: 1.0\r\n".encode()
        + b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee files\r\n"
        + parts
        + b"--B--\r\n"
    )
    assert ctx.send(raw, [_int(tag)])[0] == 250
    got = gwtest.parse(ctx.delivered_once(tag, _int(tag))[_int(tag)].raw)
    assert [a.get_content() for a in got.iter_attachments()] == [bytes([i]) * 8 for i in range(len(names))]
    injected = [(part.get_content_type(), k) for part in got.walk() for k in part.keys() if k.lower() == "bcc"]
    assert injected in ([], [("multipart/mixed", "Bcc")]), f"header fields injected: {injected}"
    assert "evil" not in str(got["Bcc"] or ""), "Mailpit's Bcc names only the envelope recipient"
    run_dir = ctx.target.sb.run_dir
    written = [p for p in run_dir.rglob("*") if "passwd" in p.name or "evil" in p.name]
    assert written == [], f"the gateway wrote attachment names to disk: {written}"
    ctx.nothing_for("evil@ext.example")


def probe_truncated_data(ctx: Ctx) -> None:
    tag = marker()
    s = ctx.session()
    assert s.mail(SENDER)[0] == 250 and s.rcpt(_ext(tag))[0] == 250
    assert s.docmd("DATA")[0] == 354
    s.sock.sendall(f"Subject: {tag}\r\nX-SM-Definition: All\r\n\r\nhalf a mess".encode())
    s.close()  # no final dot: the client vanished mid-message
    ctx.nothing_for(_ext(tag))


def probe_truncated_command(ctx: Ctx) -> None:
    for partial in (b"EHLO half", f"MAIL FROM:<{SENDER}".encode(), b"\xff\xfe\x00garbage"):
        s = ctx.session()
        s.sock.sendall(partial)  # no line end, then gone
        s.close()


def probe_garbage_command(ctx: Ctx) -> None:
    s = ctx.session()
    try:
        refused_5xx(ctx.raw_command(s, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 tls hello?\r\n"))
        refused_5xx(ctx.raw_command(s, b"XYZZY plugh\r\n"))
        assert s.noop()[0] == 250, "the session must survive garbage"
    finally:
        s.close()


def probe_long_command(ctx: Ctx) -> None:
    s = ctx.session()
    try:
        refused(s.docmd("NOOP " + "x" * 3000), 500, b"Command line too long")
        assert s.noop()[0] == 250
    finally:
        s.close()


def probe_no_message_id(ctx: Ctx) -> None:
    tag = marker()
    code, text = ctx.send(_msg(tag, b"X-SM-Definition: All"), [_ext(tag)])
    assert code == 250 and text.startswith(b"2.0.0 Queued as <") and text.endswith(f"@{INTERNAL}>".encode()), text
    note = ctx.delivered_once(tag, _ext(tag))[_ext(tag)]
    token = gwtest.portal_token(gwtest.parse(note.raw))
    assert ctx.gw.get(f"/sm-portal/api/messages/{token}").json()["id"] == text.decode().split("<")[1].rstrip(">")


# -- HTTP probes ---------------------------------------------------------------------------------


def _mpp_body(tag: str, **over) -> dict:
    return {"to": [_ext(tag)], "subject": f"MPP {tag}", "text": "hello", "definition": "All", **over}


def probe_mpp_crlf_subject(ctx: Ctx) -> None:
    tag = marker()
    evil = f"evil.{tag}@ext.example"
    r = ctx.mpp_post(json=_mpp_body(tag, subject=f"{tag}\r\nBcc: {evil}\r\n\r\nbody"))
    assert r.status_code == 202, r.text
    note = ctx.delivered_once(tag, _ext(tag))[_ext(tag)]
    assert "\n" not in note.subject and note.header("Bcc") == []
    ctx.nothing_for(evil)


def probe_mpp_invalid(body_of: Callable[[str], dict], status: int = 422, error: str = "invalid_request"):
    def probe(ctx: Ctx) -> None:
        tag = marker()
        http_error(ctx.mpp_post(json=body_of(tag)), status, error)
        assert ctx.gw.portal_items(_ext(tag)) == []

    return probe


def probe_mpp_idn(ctx: Ctx) -> None:
    tag = marker()
    r = ctx.mpp_post(json=_mpp_body(tag, to=[f"{tag}@b\u00fccher.example"]))
    assert r.status_code == 202, r.text
    ascii_form = f"{tag}@xn--bcher-kva.example"
    ctx.delivered_once(tag, ascii_form)
    assert len(ctx.gw.portal_items(f"{tag}@B\u00dcCHER.example")) == 1 == len(ctx.gw.portal_items(ascii_form))


def probe_oversized_unauthenticated(ctx: Ctx) -> None:
    import socket

    host, port = ctx.target.http.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), 10) as s:
        s.sendall(
            f"POST /mpp/api/messages HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {300 << 20}\r\n\r\n".encode()
        )
        s.settimeout(10)
        head = s.recv(65536)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]


def probe_mpp_raw(data: bytes, status: int, error: str):
    def probe(ctx: Ctx) -> None:
        http_error(ctx.mpp_post(data=data, headers={"Content-Type": "application/json"}), status, error)

    return probe


def probe_mpp_duplicates(ctx: Ctx) -> None:
    tag = marker()
    rcpt = f"dup.{tag}@{INTERNAL}"
    body = _mpp_body(tag, to=[f"Dup.{tag}@{INTERNAL}", f"dup.{tag}@CORP.example"], cc=[rcpt], definition="External")
    assert ctx.mpp_post(json=body).status_code == 202
    ctx.delivered_once(tag, rcpt)
    session = ctx.target.mpp_session(rcpt)
    assert len([i for i in ctx.gw.mpp_items(session) if tag in i["subject"]]) == 1, "one MPP item per recipient"


def probe_mpp_control_subject(ctx: Ctx) -> None:
    tag = marker()
    assert ctx.mpp_post(json=_mpp_body(tag, subject=f"{tag} nul\x00 esc\x1b[2J bell\x07")).status_code == 202
    assert no_controls(ctx.delivered_once(tag, _ext(tag))[_ext(tag)].subject)


def probe_path_traversal(ctx: Ctx) -> None:
    token = ctx.portal_token
    for path in (
        "/sm-portal/m/../../admin/api/definitions",
        "/sm-portal/m/..%2F..%2Fadmin%2Fapi%2Fdefinitions",
        "/sm-portal/api/messages/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/sm-portal/m/%2e%2e/%2e%2e/admin",
        f"/sm-portal/m/{token}/../../../admin/api/definitions",
        f"/sm-portal/api/inbox/{token}%00",
        f"/sm-portal/api/messages/{token}%2F..%2F..%2Fmpp",
    ):
        status, body = ctx.raw_get(path)
        assert status == 404, f"GET {path} -> {status}"
        assert "Allow External Recipients" not in body and "root:" not in body, f"GET {path} leaked {body[:200]}"


def probe_huge_token(ctx: Ctx) -> None:
    r = ctx.gw.get("/sm-portal/api/messages/" + "A" * 100_000)
    assert 400 <= r.status_code < 500, f"a 100 KB token got {r.status_code}"


def probe_reply_wrong_types(ctx: Ctx) -> None:
    url = f"/sm-portal/api/messages/{ctx.portal_token}/reply"
    for body in ({"text": 5}, {"text": ["a"]}, {}, {"text": "ok", "html": {"x": 1}}):
        http_error(ctx.gw.post(url, json=body), 422, "invalid_request")


def probe_form_reply_empty(ctx: Ctx) -> None:
    url = f"/sm-portal/m/{ctx.portal_token}/reply"
    r = ctx.gw.post(url, data={"text": "   "}, allow_redirects=False)
    http_error(r, 422, "invalid_request")
    r = ctx.gw.post(
        url,
        data=b'{"text": "json to a form"}',
        allow_redirects=False,
        headers={"Content-Type": "application/json", "Accept": "text/html"},
    )
    assert r.status_code == 422 and "text/html" in r.headers["content-type"], r.status_code


def probe_clock_overflow(ctx: Ctx) -> None:
    before = ctx.gw.admin("GET", "/admin/api/clock").json()["now"]
    for days in (1e308, 1e9, 365001):
        http_error(ctx.gw.admin("POST", "/admin/api/clock", json={"advance_days": days}), 422, "invalid_request")
    after = ctx.gw.admin("GET", "/admin/api/clock").json()["now"]
    assert after[:13] == before[:13], f"the clock moved: {before} -> {after}"


def probe_clock_bad_values(ctx: Ctx) -> None:
    for body in ({"advance_days": -1}, {"advance_days": "NaN"}, {"advance_days": "soon"}, {"advance_days": None}, {}):
        http_error(ctx.gw.admin("POST", "/admin/api/clock", json=body), 422, "invalid_request")
    r = ctx.gw.admin(
        "POST", "/admin/api/clock", data=b'{"advance_days": 1e400}', headers={"Content-Type": "application/json"}
    )
    http_error(r, 422, "invalid_request")


def probe_malformed_auth(ctx: Ctx) -> None:
    bad = [
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b"admin:\xff\xfe").decode(),
        "Bearer " + "x" * 10_000,
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Digest username=admin",
        "Bearer",
    ]
    for value in bad:
        http_error(ctx.gw.get("/admin/api/definitions", headers={"Authorization": value}), 401, "unauthorized")
        http_error(ctx.gw.get("/mpp/api/messages", headers={"Authorization": value}), 401, "unauthorized")


def probe_unsupported_method(ctx: Ctx) -> None:
    for method, path in (("PROPFIND", "/mpp/api/messages"), ("TRACE", "/healthz"), ("PUT", "/mpp/api/messages")):
        r = requests.request(method, ctx.target.http + path, headers=ctx.mpp_auth, timeout=10)
        http_error(r, 405, "method_not_allowed")


# -- CLI probes ----------------------------------------------------------------------------------


def cli_case(args_of: Callable[[Ctx], list[str]], *words: str, module: str = "harness.cli.main"):
    def probe(ctx: Ctx) -> None:
        cli_usage_error(ctx.cli(*args_of(ctx), module=module), *words)

    return probe


SIMULATE = ["simulate", "--from", SENDER, "--to", "b@corp.example"]

CATALOGUE: list[Case] = [
    # SMTP: structure and encodings
    Case(
        "smtp-no-header-block",
        "smtp",
        "DATA whose first line is not a header field",
        "554 5.6.0 Malformed message: no header block / not a header",
        smtp_malformed(lambda tag: f"this is not a header {tag}\r\n\r\nbody\r\n".encode()),
    ),
    Case(
        "smtp-non-header-line",
        "smtp",
        "a line without a colon inside the header block",
        "554 5.6.0 Malformed message: a line in the header block is not a header field",
        smtp_malformed(
            lambda tag: _msg(tag, b"X-SM-Definition: All", b"this line is no header"),
            b"5.6.0 Malformed message: a line in the header block is not a header field",
        ),
    ),
    Case(
        "smtp-multipart-no-boundary",
        "smtp",
        "Content-Type: multipart/mixed without a boundary",
        "554 5.6.0 Malformed message",
        smtp_malformed(
            lambda tag: _msg(tag, b"X-SM-Definition: All", b"Content-Type: multipart/mixed", body=b"parts?\r\n")
        ),
    ),
    Case(
        "smtp-multipart-boundary-absent",
        "smtp",
        "a multipart whose declared boundary never occurs",
        "554 5.6.0 Malformed message",
        smtp_malformed(
            lambda tag: _msg(
                tag,
                b"X-SM-Definition: All",
                b'Content-Type: multipart/mixed; boundary="zz"',
                body=b"--yy\r\nContent-Type: text/plain\r\n\r\nhi\r\n--yy--\r\n",
            )
        ),
    ),
    Case(
        "smtp-unknown-charset",
        "smtp",
        "a text part in charset x-no-such-charset",
        "554 5.6.0 Malformed message: undecodable text part",
        smtp_malformed(
            lambda tag: _msg(tag, b"X-SM-Definition: All", b"Content-Type: text/plain; charset=x-no-such-charset"),
            b"5.6.0 Malformed message: undecodable text part",
        ),
    ),
    Case(
        "smtp-unparsable-message-id",
        "smtp",
        "Message-ID: <<>> (crashes Python's header parser)",
        "554 5.6.0 Malformed message: the Message-ID header cannot be parsed",
        smtp_malformed(
            lambda tag: _msg(tag, b"Message-ID: <<>>", b"X-SM-Definition: External"),
            b"5.6.0 Malformed message: the Message-ID header cannot be parsed",
        ),
    ),
    Case(
        "smtp-mime-nested-60",
        "smtp",
        "multiparts nested 60 levels deep",
        "554 5.6.0 Malformed message (limit 50)",
        probe_nested_too_deep(60),
    ),
    Case(
        "smtp-mime-nested-5000",
        "smtp",
        "multiparts nested 5,000 levels deep (parser recursion)",
        "554 5.6.0 Malformed message, not a 451 retried forever",
        probe_nested_too_deep(5000),
    ),
    Case(
        "smtp-nested-multiparts",
        "smtp",
        "mixed > related > alternative (text, html) + attachment",
        "accepted; banner in both text parts, attachment untouched, delivered once",
        probe_nested_ok,
    ),
    Case(
        "smtp-non-utf8-header",
        "smtp",
        "raw 8-bit Latin-1 / invalid UTF-8 bytes in Subject",
        "accepted; notification subject decoded with U+FFFD, delivered once",
        probe_non_utf8_header,
    ),
    Case(
        "smtp-non-utf8-body",
        "smtp",
        "invalid UTF-8 in an 8bit utf-8 text part",
        "accepted; banner email with U+FFFD, delivered once",
        probe_non_utf8_body,
    ),
    Case(
        "smtp-bad-base64",
        "smtp",
        "Content-Transfer-Encoding: base64 over non-base64 text",
        "accepted (decoded leniently); banner email delivered once",
        probe_bad_base64,
    ),
    Case(
        "smtp-unknown-definition",
        "smtp",
        "X-SM-Definition: Internal",
        "554 5.7.0 Unknown Secure Messaging definition",
        probe_header_refusal(b"X-SM-Definition: Internal", b"5.7.0 Unknown Secure Messaging definition 'Internal'"),
    ),
    Case(
        "smtp-non-ascii-definition",
        "smtp",
        "X-SM-Definition: All\\xc3\\xa9 (8-bit in the header)",
        "554 5.7.0 with an ASCII-only reply",
        probe_header_refusal(b"X-SM-Definition: All\xc3\xa9", b"5.7.0 Unknown Secure Messaging definition 'All?'"),
    ),
    Case(
        "smtp-unknown-application",
        "smtp",
        "X-SM-Application: Thunderbird",
        "554 5.7.0 Unknown application",
        probe_header_refusal(b"X-SM-Application: Thunderbird", b"5.7.0 Unknown application 'Thunderbird'"),
    ),
    Case(
        "smtp-portal-application",
        "smtp",
        "X-SM-Application: portal over SMTP",
        "554 5.7.0 Unknown application",
        probe_header_refusal(b"X-SM-Application: portal", b"5.7.0 Unknown application 'portal'"),
    ),
    # SMTP: injection
    Case(
        "smtp-encoded-crlf-subject",
        "smtp",
        "Subject =?utf-8?q?..=0D=0ABcc: evil..?= (CR/LF in an encoded word)",
        "accepted; subject on one line, no Bcc header, nothing to evil",
        probe_encoded_crlf_subject,
    ),
    Case(
        "smtp-control-chars-subject",
        "smtp",
        "NUL, ESC and BEL in Subject",
        "accepted; the notification subject has no control characters",
        probe_control_subject,
    ),
    Case(
        "smtp-crlf-in-rcpt",
        "smtp",
        "RCPT TO:<a@ext.example>\\rBcc: evil (bare CR)",
        "501 Syntax; nothing delivered",
        probe_crlf_in_rcpt,
    ),
    Case(
        "smtp-crlf-in-mail-from",
        "smtp",
        "MAIL FROM:<alice>\\rRCPT TO:<evil> (bare CR)",
        "501 Syntax; nothing delivered",
        probe_crlf_in_mail_from,
    ),
    # SMTP: sizes and counts
    Case(
        "smtp-long-header-line",
        "smtp",
        "a 200 KB Subject on one line",
        "500 Line too long; nothing delivered",
        probe_long_header_line,
    ),
    Case(
        "smtp-huge-folded-header",
        "smtp",
        "a 130 KB Subject folded over 3,000 lines",
        "accepted; delivered once with every header line <= 998",
        probe_huge_folded_header,
    ),
    Case(
        "smtp-oversized",
        "smtp",
        "DATA of 1.2 MB (limit 1 MiB)",
        "552 5.3.4 Message too big; nothing delivered",
        probe_oversized,
    ),
    Case("smtp-declared-size", "smtp", "MAIL FROM ... SIZE=50 MiB", "552 5.3.4 Message too big", probe_declared_size),
    Case(
        "smtp-zero-recipients",
        "smtp",
        "DATA without any RCPT TO",
        "503 5.5.1 Error: need RCPT command",
        probe_zero_recipients,
    ),
    Case(
        "smtp-1000-recipients",
        "smtp",
        "1,000 RCPT TO (half internal, half external)",
        "first 100: 250, then 452 4.5.3; each of the 100 gets exactly one message",
        probe_thousand_recipients,
    ),
    Case(
        "smtp-duplicate-recipients",
        "smtp",
        "the same recipient three times in three spellings",
        "accepted; delivered once, one portal message",
        probe_duplicate_recipients,
    ),
    Case(
        "smtp-mixed-case-addresses",
        "smtp",
        "MAIL FROM Alice@CORP.Example, RCPT Bob@Corp.EXAMPLE",
        "accepted as internal: banner email, delivered once",
        probe_mixed_case,
    ),
    Case(
        "smtp-idn-punycode",
        "smtp",
        "RCPT TO:<x@xn--bcher-kva.example> (IDN, ASCII form)",
        "accepted as external: notification delivered once",
        probe_idn_ascii,
    ),
    Case(
        "smtp-idn-utf8",
        "smtp",
        "RCPT TO:<user@bücher.example> as raw UTF-8, no SMTPUTF8",
        "500 Error: strict ASCII mode",
        probe_idn_utf8,
    ),
    Case(
        "smtp-empty-body",
        "smtp",
        "headers, blank line, no body",
        "accepted; notification; portal text empty",
        probe_empty_body,
    ),
    Case(
        "smtp-empty-data",
        "smtp",
        "DATA with zero bytes",
        "554 5.6.0 Malformed message: no header block",
        smtp_malformed(lambda tag: b"", b"5.6.0 Malformed message: no header block"),
    ),
    Case(
        "smtp-no-message-id",
        "smtp",
        "a message without Message-ID",
        "accepted; 250 names the id the gateway added; the portal shows it",
        probe_no_message_id,
    ),
    Case(
        "smtp-hostile-filenames",
        "smtp",
        "attachments named ../../etc/passwd, CR/LF+NUL (RFC 2231), <img>, CON, 300 chars",
        "accepted; bytes and names kept, nothing written to disk, no Bcc",
        probe_hostile_filenames,
    ),
    # SMTP: sessions
    Case(
        "smtp-truncated-data",
        "smtp",
        "DATA, half a message, connection closed",
        "no 250, nothing stored or delivered",
        probe_truncated_data,
    ),
    Case(
        "smtp-truncated-command",
        "smtp",
        "a command without line end, then the connection closed",
        "nothing happens; the gateway keeps serving",
        probe_truncated_command,
    ),
    Case(
        "smtp-garbage-command",
        "smtp",
        "a TLS ClientHello and an unknown verb as commands",
        "500 each; the session survives",
        probe_garbage_command,
    ),
    Case("smtp-long-command", "smtp", "a 3,000-byte command line", "500 Command line too long", probe_long_command),
    # HTTP: MPP
    Case(
        "mpp-crlf-subject",
        "http",
        "MPP subject 'x\\r\\nBcc: evil\\r\\n\\r\\nbody'",
        "202; subject on one line, no Bcc header, nothing to evil",
        probe_mpp_crlf_subject,
    ),
    Case(
        "mpp-crlf-address",
        "http",
        "MPP to ['bob@corp.example\\r\\nBcc: evil@ext.example']",
        "422 invalid_request",
        probe_mpp_invalid(lambda tag: _mpp_body(tag, to=[f"{_ext(tag)}\r\nBcc: evil@ext.example"])),
    ),
    Case(
        "mpp-crlf-header-value",
        "http",
        "MPP headers {'X-Note': 'a\\r\\nBcc: evil'}",
        "422 invalid_request",
        probe_mpp_invalid(lambda tag: _mpp_body(tag, headers={"X-Note": "a\r\nBcc: evil@ext.example"})),
    ),
    Case(
        "mpp-reserved-header",
        "http",
        "MPP headers {'Bcc': 'evil@ext.example'}",
        "422 invalid_request",
        probe_mpp_invalid(lambda tag: _mpp_body(tag, headers={"Bcc": "evil@ext.example"})),
    ),
    Case(
        "mpp-wrong-types",
        "http",
        "MPP to as a string, subject a number, text null",
        "422 invalid_request",
        probe_mpp_invalid(lambda tag: {"to": _ext(tag), "subject": 5, "text": None, "definition": 1}),
    ),
    Case(
        "mpp-lone-surrogate",
        "http",
        'MPP subject "\\udcff" (valid JSON, not encodable text)',
        "422 invalid_request",
        probe_mpp_invalid(lambda tag: _mpp_body(tag, subject="\udcff bad " + tag)),
    ),
    Case(
        "mpp-invalid-json",
        "http",
        "MPP body '{not json'",
        "422 invalid_request (JSON decode error)",
        probe_mpp_raw(b"{not json", 422, "invalid_request"),
    ),
    Case(
        "mpp-non-utf8-json",
        "http",
        "MPP body of raw bytes \\xff\\xfe",
        "422 invalid_request",
        probe_mpp_raw(b"\xff\xfe{\x00", 422, "invalid_request"),
    ),
    Case(
        "mpp-deep-json",
        "http",
        "MPP body of 100,000 nested arrays",
        "400 bad_request",
        probe_mpp_raw(b"[" * 100_000, 400, "bad_request"),
    ),
    Case(
        "mpp-no-recipients",
        "http",
        "MPP to [] and cc []",
        "422 invalid_request",
        probe_mpp_invalid(lambda tag: _mpp_body(tag, to=[], cc=[])),
    ),
    Case(
        "mpp-1000-recipients",
        "http",
        "MPP to 1,000 addresses",
        "400 too_many_recipients, nothing stored",
        probe_mpp_invalid(
            lambda tag: _mpp_body(tag, to=[_ext(tag)] + [f"r{i}.{tag}@ext.example" for i in range(999)]),
            400,
            "too_many_recipients",
        ),
    ),
    Case(
        "mpp-unknown-definition",
        "http",
        "MPP definition 'Internal'",
        "400 unknown_definition",
        probe_mpp_invalid(lambda tag: _mpp_body(tag, definition="Internal"), 400, "unknown_definition"),
    ),
    Case(
        "mpp-idn-utf8-address",
        "http",
        "MPP to ['user@bücher.example']",
        "202; carried as user@xn--bcher-kva.example (IDNA), delivered once, one identity in the SM Portal",
        probe_mpp_idn,
    ),
    Case(
        "mpp-non-ascii-local-part",
        "http",
        "MPP to ['josé@ext.example'] (no SMTPUTF8)",
        "422 invalid_request naming the address, nothing stored",
        probe_mpp_invalid(lambda tag: _mpp_body(tag, to=[f"jos\u00e9.{tag}@ext.example"])),
    ),
    Case(
        "mpp-kelvin-sign-local-part",
        "http",
        "MPP to ['\\u212aarol@ext.example'] (look-alike of karol@)",
        "422 invalid_request, nothing stored",
        probe_mpp_invalid(lambda tag: _mpp_body(tag, to=[f"\u212aarol.{tag}@ext.example"])),
    ),
    Case(
        "mpp-header-vertical-tab",
        "http",
        "MPP headers {'X-Note': 'a\\x0bb'}",
        "422 invalid_request naming X-Note",
        probe_mpp_invalid(lambda tag: _mpp_body(tag, headers={"X-Note": "a\x0bb"})),
    ),
    Case(
        "mpp-header-paragraph-separator",
        "http",
        "MPP headers {'X-Note': 'a\\u2029b'}",
        "422 invalid_request naming X-Note",
        probe_mpp_invalid(lambda tag: _mpp_body(tag, headers={"X-Note": "a\u2029b"})),
    ),
    Case(
        "http-oversized-unauthenticated",
        "http",
        "POST /mpp/api/messages, no credentials, Content-Length 300 MB",
        "413 too_large before any byte of the body is read",
        probe_oversized_unauthenticated,
    ),
    Case(
        "mpp-oversized",
        "http",
        "MPP text of 1.1 MB (limit 1 MiB)",
        "413 too_large, nothing stored",
        probe_mpp_invalid(lambda tag: _mpp_body(tag, text="y" * (MAX_BYTES + 100_000)), 413, "too_large"),
    ),
    Case(
        "mpp-duplicate-recipients",
        "http",
        "MPP to Dup@, dup@CORP., cc dup@ (one person)",
        "202; one delivery, one MPP item",
        probe_mpp_duplicates,
    ),
    Case(
        "mpp-control-chars-subject",
        "http",
        "MPP subject with NUL, ESC, BEL",
        "202; delivered subject without control characters",
        probe_mpp_control_subject,
    ),
    # HTTP: SM Portal and console
    Case(
        "portal-path-traversal",
        "http",
        "../ and %2F..%2F in portal URLs, raw",
        "404; no definitions, no files",
        probe_path_traversal,
    ),
    Case("portal-huge-token", "http", "a 100 KB token", "4xx", probe_huge_token),
    Case(
        "portal-reply-wrong-types",
        "http",
        "reply {'text': 5}, ['a'], {}, html as object",
        "422 invalid_request",
        probe_reply_wrong_types,
    ),
    Case(
        "portal-form-reply-bad",
        "http",
        "form reply with blank text; JSON to the form route",
        "422 (HTML error page for a browser)",
        probe_form_reply_empty,
    ),
    Case(
        "admin-clock-overflow",
        "http",
        "advance_days 1e308, 1e9, 365001",
        "422; clock unchanged, gateway alive",
        probe_clock_overflow,
    ),
    Case(
        "admin-clock-bad-values",
        "http",
        "advance_days -1, 'NaN', 'soon', null, missing, 1e400",
        "422 invalid_request",
        probe_clock_bad_values,
    ),
    Case(
        "http-malformed-auth",
        "http",
        "Authorization: Basic !!!, Basic non-UTF-8, 10 KB Bearer, Digest",
        "401 unauthorized (admin and MPP)",
        probe_malformed_auth,
    ),
    Case(
        "http-unsupported-method",
        "http",
        "PROPFIND, TRACE, PUT on API routes",
        "405 method_not_allowed",
        probe_unsupported_method,
    ),
    # CLI
    Case(
        "cli-unknown-command",
        "cli",
        "smlite frobnicate",
        "exit 2, 'invalid choice'",
        cli_case(lambda ctx: ["frobnicate"], "invalid choice"),
    ),
    Case(
        "cli-unknown-application",
        "cli",
        "smlite simulate --app thunderbird ...",
        "exit 2, unknown application",
        cli_case(lambda ctx: [*SIMULATE, "--app", "thunderbird", "--definition", "All"], "unknown application"),
    ),
    Case(
        "cli-unknown-definition",
        "cli",
        "smlite simulate --definition Secret ...",
        "exit 2, unknown definition",
        cli_case(lambda ctx: [*SIMULATE, "--app", "mpp", "--definition", "Secret"], "unknown definition"),
    ),
    Case(
        "cli-option-not-a-number",
        "cli",
        "smlite run -n abc",
        "exit 2, invalid int value",
        cli_case(lambda ctx: ["run", "-n", "abc"], "invalid int value"),
    ),
    Case(
        "cli-profile-not-utf8",
        "cli",
        "smlite run --target <binary garbage>",
        "exit 2, not valid TOML/JSON",
        cli_case(
            lambda ctx: ["run", "--target", ctx.file("garbage.toml", b"\xff\xfe\x00\x01garbage")], "not valid TOML"
        ),
    ),
    Case(
        "cli-profile-wrong-types",
        "cli",
        "smlite run --target (name = 5, capabilities = 'all')",
        "exit 2, Bad target profile",
        cli_case(
            lambda ctx: [
                "run",
                "--target",
                ctx.file("types.toml", b'name = 5\ncapabilities = "all"\n[mailpit]\napi = "http://127.0.0.1:1"\n'),
            ],
            "Bad target profile",
        ),
    ),
    Case(
        "cli-target-check-missing",
        "cli",
        "smlite target check /nonexistent/profile.toml",
        "exit 2, Cannot read target profile",
        cli_case(lambda ctx: ["target", "check", "/nonexistent/profile.toml"], "Cannot read target profile"),
    ),
    Case(
        "cli-report-garbage",
        "cli",
        "smlite report <'{]' as results.json>",
        "exit 2, Not an smlite results file",
        cli_case(lambda ctx: ["report", ctx.file("results.json", b"{]")], "Not an smlite results file"),
    ),
    Case(
        "cli-gateway-bad-config",
        "cli",
        "python -m harness.gateway --config (wrong type, unknown key)",
        "exit 2, 'bad config' naming the key",
        cli_case(
            lambda ctx: ["--config", ctx.file("gateway.toml", b'internal_domains = "corp.example"\nbogus = 1\n')],
            "bad config",
            "bogus",
            module="harness.gateway",
        ),
    ),
]
