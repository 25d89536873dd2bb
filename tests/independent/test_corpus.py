"""Owns: the public corpus of real mail (features/mail/) through the independent gateway, over real SMTP
into a real Mailpit, judged by this file's own reading of docs/contract.md ("The whole message").

Every message is sent with each definition (All, External) to one internal and one external recipient.
Expected, from the contract: only broken MIME refused (`554 5.6.0 Malformed message: <reason>`, and
Python's email parser finds the same message defective); the internal recipient's email with banner
carries exactly one banner at the top of each text/plain and text/html part of the first displayed
body (or, with none, is wrapped as multipart/mixed: a text/plain banner part, then the original entity
byte for byte); every other part decodes to the original's bytes; the external recipient's
Notification holds none of the message; the SM Portal answer lists `parts` and `attachments` (with
sha256, size and downloads) and `raw_url` as the contract says, and the MPP item of the email with
banner its attachments for its user only. The expected parts are computed here from Python's email
package, never from the gateway's code.

    .venv/bin/python -m pytest tests/independent/test_corpus.py -q
    NW_CORPUS_BEHAVIOUR=whole-banner-in-every-text-part .venv/bin/python -m pytest tests/independent/test_corpus.py -q
        (the same against one behaviour of tools/independent/behaviours.py: a deviation must fail here)
"""

from __future__ import annotations

import hashlib
import os
import re
import smtplib
import tempfile
import time
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.mailbox.mailpit import MailpitClient
from tools.independent.matrix import Running

pytestmark = [pytest.mark.independent, pytest.mark.sandbox]

CORPUS = Path(__file__).resolve().parents[2] / "features" / "mail"
FILES = sorted([*CORPUS.glob("cpython/msg_*.txt"), *CORPUS.glob("mailpit/*.eml")])
BANNER = "NORTHWIND SECURE: this message was sent to you as a Secure Message."
PORTAL_LINK = re.compile(r"https?://[^\s\"'<>]+/sm-portal/m/(nw-[0-9a-f]{32})")
# The contract's kinds of broken MIME, and the corpus messages that are broken that way.
BROKEN = {
    "msg_15.txt": "a part holds a boundary of an enclosing multipart (nested multipart reuses it)",
    "msg_17.txt": "a multipart whose boundary never occurs",
    "msg_19.txt": "no header block",
    "msg_25.txt": "a multipart without a boundary",
    "msg_31.txt": "a multipart whose boundary never occurs",
    "msg_35.txt": "a header line that is not a field",
    "msg_38.txt": "a part holds a boundary delimiter line of an enclosing multipart",
    "msg_39.txt": "a part holds a boundary of an enclosing multipart (nested multipart reuses it)",
    "msg_41.txt": "a multipart without a boundary",
    "msg_47.txt": "a header line that is not a field",
}
STRUCTURAL_DEFECTS = {
    "StartBoundaryNotFoundDefect",
    "NoBoundaryInMultipartDefect",
    "CloseBoundaryNotFoundDefect",
    "MissingHeaderBodySeparatorDefect",
    "MultipartInvariantViolationDefect",
}


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def read(data: bytes) -> Message:
    return BytesParser(policy=policy.compat32).parsebytes(data)


# -- this test's own reading of the contract, on the email package's objects -------------------------
def is_attachment(part: Message) -> bool:
    if part.get_content_maintype() in ("multipart", "message"):
        return False
    return part.get_content_disposition() == "attachment" or part.get_filename() is not None


def first_displayed(part: Message) -> list[Message]:
    kind = part.get_content_type()
    if is_attachment(part):
        return []
    if kind in ("text/plain", "text/html"):
        return [part]
    if part.get_content_maintype() != "multipart" or not isinstance(part.get_payload(), list):
        return []
    children = part.get_payload()
    sub = part.get_content_subtype()
    if sub in ("signed", "encrypted", "digest") or not children:
        return []
    if sub == "alternative":
        return [p for child in children for p in first_displayed(child)]
    if sub in ("related", "report"):
        return first_displayed(children[0])
    for child in children:
        if first_displayed(child):
            return first_displayed(child)
    return []


def imap_leaves(msg: Message) -> list[dict[str, Any]]:
    """Every body part with its IMAP section number, alternative_of and enclosed_in (RFC 3501 §6.4.5)."""
    out: list[dict[str, Any]] = []

    def walk(m: Message, number: str, alt: str | None, enclosed: str | None) -> None:
        if m.get_content_maintype() == "multipart":
            holder = number if m.get_content_subtype() == "alternative" else alt
            for i, child in enumerate(m.get_payload(), 1):
                walk(child, f"{number}.{i}" if number else str(i), holder, enclosed)
            return
        path = number or "1"
        out.append({"path": path, "part": m, "alternative_of": alt, "enclosed_in": enclosed})
        if m.get_content_type() == "message/rfc822":
            inner = m.get_payload(0)
            walk(inner, path if inner.get_content_maintype() == "multipart" else f"{path}.1", None, path)

    walk(msg, "", None, None)
    return out


def decoded(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def text_of(part: Message) -> str:
    data = decoded(part)
    try:
        return data.decode(part.get_content_charset() or "us-ascii", "replace").replace("\r\n", "\n")
    except LookupError:
        return data.decode("utf-8", "replace").replace("\r\n", "\n")


# -- the run --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run():
    with tempfile.TemporaryDirectory(prefix="nw-corpus-") as tmp:
        with Running(Path(tmp), os.environ.get("NW_CORPUS_BEHAVIOUR", "")) as running:
            mailpit = MailpitClient(running.mailpit.api_url)
            outcomes: dict[tuple[str, str], tuple[int, str, str, str]] = {}
            with smtplib.SMTP("127.0.0.1", running.ports["smtp_port"], timeout=30) as client:
                for path in FILES:
                    for definition in ("All", "External"):
                        tag = f"{path.stem.replace('_', '')}-{definition.lower()}"
                        internal, external = f"in-{tag}@northwind.test", f"ex-{tag}@example.net"
                        data = crlf(f"X-SM-Definition: {definition}\n".encode() + path.read_bytes())
                        client.rset()
                        client.mail("sender@northwind.test")
                        client.rcpt(internal)
                        client.rcpt(external)
                        code, text = client.data(data)
                        outcomes[(path.name, definition)] = (code, text.decode(), internal, external)
            yield running, mailpit, outcomes
            mailpit.close()


def test_only_broken_mime_is_refused(run):
    _running, _mailpit, outcomes = run
    refused = {name for (name, _d), (code, *_rest) in outcomes.items() if code != 250}
    for (name, _definition), (code, text, *_rest) in outcomes.items():
        if code != 250:
            assert code == 554 and re.match(r"5\.6\.0 Malformed message: \S", text), (name, code, text)
    assert refused == set(BROKEN), f"refused {sorted(refused)}; broken by the contract: {sorted(BROKEN)}"
    for name in refused:  # a second opinion: Python's parser finds the same messages defective
        path = next(p for p in FILES if p.name == name)
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        kinds = {type(d).__name__ for part in msg.walk() for d in part.defects}
        assert kinds & STRUCTURAL_DEFECTS or not re.match(rb"[!-9;-~]+:", path.read_bytes()), name
    print(
        f"\ncorpus: {len(FILES)} messages x 2 definitions = {len(outcomes)} sent, "
        f"{len(outcomes) - 2 * len(refused)} accepted, {2 * len(refused)} refused ({len(refused)} broken messages)"
    )


@pytest.mark.parametrize("path", [p for p in FILES if p.name not in BROKEN], ids=lambda p: p.name)
def test_the_email_with_banner_is_faithful(run, path):
    _running, mailpit, outcomes = run
    original = read(crlf(path.read_bytes()))
    expected_targets = first_displayed(original)
    for definition in ("All", "External"):
        code, text, internal, _external = outcomes[(path.name, definition)]
        assert code == 250, text
        got = mailpit.wait_for_messages(internal, 1, deadline_s=20)[0]
        delivered = read(got.raw)
        assert not [k for k in delivered.keys() if k.lower().startswith("x-sm-")]
        assert delivered["Message-ID"]
        decoded_all = [text_of(p) for p in delivered.walk() if p.get_content_maintype() == "text"]
        if expected_targets:
            pairs = list(zip(imap_leaves(original), imap_leaves(delivered), strict=True))
            bannered = 0
            for before, after in pairs:
                assert before["path"] == after["path"]
                a, b = before["part"], after["part"]
                assert b.get_content_type() == a.get_content_type(), before["path"]
                if any(a is t for t in expected_targets):
                    bannered += 1
                    shown = text_of(b)
                    if a.get_content_type() == "text/plain":
                        assert shown.startswith(BANNER), (before["path"], shown[:200])
                        assert shown.endswith(text_of(a)), before["path"]
                    else:
                        body = re.search(r"(?i)<body\b[^>]*>", text_of(a))
                        at = body.end() if body else 0
                        assert shown[at:].lstrip().startswith("<div") and BANNER in shown[at : at + 600]
                        assert shown.replace(shown[at : shown.index("</div>", at) + 6], "", 1) == text_of(a)
                    assert shown.count(BANNER) == 1
                elif a.get_content_maintype() != "message":
                    assert decoded(b) == decoded(a), f"{before['path']} changed"
                    if a.get_content_maintype() == "text":
                        assert BANNER not in text_of(b)
            assert bannered == len(expected_targets)
        else:  # wrapped: a text/plain banner part, then the original entity
            assert delivered.get_content_type() == "multipart/mixed"
            first, second = delivered.get_payload()
            assert first.get_content_type() == "text/plain" and first.get_content_disposition() == "inline"
            assert text_of(first).startswith(BANNER)
            entity = crlf(path.read_bytes()).split(b"\r\n\r\n", 1)
            content = b"".join(
                line + b"\r\n"
                for line in re.split(rb"\r\n(?![ \t])", entity[0])
                if line.lower().startswith(b"content-")
            )
            assert content + b"\r\n" + entity[1] in got.raw, "the original entity is not there byte for byte"
            assert [decoded(p) for p in second.walk()] == [decoded(p) for p in original.walk()]
        assert sum(t.count(BANNER) for t in decoded_all) == max(len(expected_targets), 1)


@pytest.mark.parametrize("path", [p for p in FILES if p.name not in BROKEN], ids=lambda p: p.name)
def test_the_sm_portal_and_mpp_carry_the_whole_message(run, path):
    running, mailpit, outcomes = run
    base = f"http://127.0.0.1:{running.ports['http_port']}"
    original = read(crlf(path.read_bytes()))
    leaves = imap_leaves(original)
    for definition in ("All", "External"):
        _code, _text, internal, external = outcomes[(path.name, definition)]
        note = mailpit.wait_for_messages(external, 1, deadline_s=20)[0]
        assert not note.attachments, "a Notification carries no attachment"
        for leaf in leaves:
            body = decoded(leaf["part"])
            if is_attachment(leaf["part"]) and len(body) > 20:
                assert body not in note.raw
        token = PORTAL_LINK.search(note.text).group(1)
        answer = requests.get(f"{base}/sm-portal/api/messages/{token}", timeout=10).json()
        parts = answer["parts"]
        assert [p["path"] for p in parts] == [leaf["path"] for leaf in leaves]
        for part, leaf in zip(parts, leaves, strict=True):
            m = leaf["part"]
            assert part["content_type"] == m.get_content_type()
            assert part["alternative_of"] == leaf["alternative_of"] and part["enclosed_in"] == leaf["enclosed_in"]
            assert part["name"] == m.get_filename()
            if m.get_content_maintype() == "text":
                assert part["text"] == text_of(m), part["path"]
            if m.get_content_type() == "message/rfc822":
                assert part["headers"] is not None
                enclosed = m.get_payload(0)
                for name, value in enclosed.items():
                    assert name in part["headers"], name
                    del value
        expected = [leaf for leaf in leaves if is_attachment(leaf["part"])]
        listed = answer["attachments"]
        assert [a["path"] for a in listed] == [leaf["path"] for leaf in expected]
        for item, leaf in zip(listed, expected, strict=True):
            body = decoded(leaf["part"])
            assert item["size"] == len(body) and item["sha256"] == hashlib.sha256(body).hexdigest()
            download = requests.get(item["url"], timeout=10)
            assert download.status_code == 200 and download.content == body
            assert download.headers["X-Content-Type-Options"] == "nosniff"
            assert download.headers["Content-Disposition"].startswith("attachment")
        raw = requests.get(answer["raw_url"], timeout=10)
        assert raw.status_code == 200 and raw.headers["Content-Type"].startswith("message/rfc822")
        kept = read(raw.content)
        assert not [k for k in kept.keys() if k.lower().startswith("x-sm-")]
        assert [decoded(p) for p in kept.walk()] == [decoded(p) for p in original.walk()]
        assert requests.get(f"{base}/sm-portal/api/messages/{token}/attachments/999", timeout=10).status_code == 404
    _check_mpp(base, running.token, internal, original)


def _check_mpp(base: str, admin_token: str, user: str, original: Message) -> None:
    admin = {"Authorization": f"Bearer {admin_token}"}

    def session(address: str) -> dict[str, str]:
        made = requests.post(f"{base}/admin/api/mpp-sessions", headers=admin, json={"address": address}, timeout=10)
        return {"Authorization": f"Bearer {made.json()['session']}"}

    items = requests.get(f"{base}/mpp/api/messages", headers=session(user), timeout=10).json()["items"]
    (item,) = [i for i in items if i["kind"] == "email_with_banner"]
    expected = [leaf["part"] for leaf in imap_leaves(original) if is_attachment(leaf["part"])]
    assert len(item["attachments"]) == len(expected)
    assert sum((p["text"] or "").count(BANNER) for p in item["parts"]) >= 1
    for info, part in zip(item["attachments"], expected, strict=True):
        assert info["sha256"] == hashlib.sha256(decoded(part)).hexdigest()
        assert requests.get(info["url"], headers=session(user), timeout=10).content == decoded(part)
        assert requests.get(info["url"], timeout=10).status_code == 401
        assert requests.get(info["url"], headers=session("someone.else@northwind.test"), timeout=10).status_code == 404


def test_a_message_near_the_size_limit_is_whole(run):
    """Messages up to max_message_bytes (10 MiB): a 9 MiB one keeps its attachment byte for byte."""
    running, mailpit, _outcomes = run
    base = f"http://127.0.0.1:{running.ports['http_port']}"
    payload = hashlib.sha256(b"seed").digest() * (6_600_000 // 32)  # about 6.3 MiB, 8.5 MiB in base64
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "sender@northwind.test", "big-in@northwind.test", "big"
    msg["X-SM-Definition"] = "External"
    msg.set_content("the text\n")
    msg.add_alternative("<html><body><p>the text</p></body></html>\n", subtype="html")
    msg.add_attachment(payload, maintype="application", subtype="octet-stream", filename="big.bin")
    data = msg.as_bytes(policy=policy.SMTP)
    assert 8 * 2**20 < len(data) < 10 * 2**20
    started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", running.ports["smtp_port"], timeout=60) as client:
        client.sendmail("sender@northwind.test", ["big-in@northwind.test", "big-ex@example.net"], data)
    accepted_s = time.monotonic() - started
    got = read(mailpit.wait_for_messages("big-in@northwind.test", 1, deadline_s=60)[0].raw)
    (attachment,) = [p for p in got.walk() if is_attachment(p)]
    assert decoded(attachment) == payload
    note = mailpit.wait_for_messages("big-ex@example.net", 1, deadline_s=60)[0]
    token = PORTAL_LINK.search(note.text).group(1)
    answer = requests.get(f"{base}/sm-portal/api/messages/{token}", timeout=60).json()
    (listed,) = answer["attachments"]
    assert listed["sha256"] == hashlib.sha256(payload).hexdigest() and listed["size"] == len(payload)
    assert requests.get(listed["url"], timeout=60).content == payload
    print(f"\n{len(data)} bytes accepted in {accepted_s:.1f} s")
