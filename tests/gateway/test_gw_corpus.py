"""Real mail through the real gateway into a real Mailpit: the public corpus of features/mail/.

Every message, with each definition, goes by SMTP submission (outlook) to one internal recipient (an
email with banner) and one external recipient (a notification; the message in the SM Portal). Every
valid message must be accepted; a broken one refused with ``554 5.6.0 Malformed message: <reason>``.
The internal copy must carry one banner, at the top of each displayed alternative, and every original
part after decoding (text modulo the banner, every other part byte for byte); the SM Portal's
``parts``, ``attachments`` and ``raw_url`` must give back the whole message. All messages are sent
first (one module fixture, one gateway for the module), then each is judged.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import requests
from gwtest import parse, portal_token, uniq, wait_until

pytestmark = pytest.mark.sandbox

CORPUS = Path(__file__).resolve().parents[2] / "features" / "mail"
FILES = sorted(p for p in CORPUS.glob("*/*") if p.name not in ("LICENSE", "README.md") and not p.name.startswith("."))
BANNER = "This message was sent securely using Secure Messaging."
SENDER = "corpus.sender@corp.example"
DEFINITIONS = ("All", "External")
# Broken MIME, each read by hand: these, and only these, must be refused.
BROKEN = {
    "msg_15.txt": "a nested multipart reuses its parent's boundary: its parts never start",
    "msg_17.txt": "multipart/mixed whose boundary never occurs",
    "msg_19.txt": "no header block at all (the first line is text)",
    "msg_25.txt": "multipart/report whose boundary parameter is cut off ('bo')",
    "msg_31.txt": "boundary=BOUNDARY_ but the parts are delimited by --BOUNDARY",
    "msg_35.txt": "no blank line between the header block and the body",
    "msg_38.txt": "a text part holds its enclosing multiparts' delimiter lines (RFC 2046 5.1.1 forbids it)",
    "msg_39.txt": "nested multiparts share one boundary: the inner ones never start",
    "msg_41.txt": "multipart/alternative without a boundary parameter",
    "msg_42.txt": "the enclosed message is a multipart whose boundary never occurs",
}


def crlf(raw: bytes) -> bytes:
    """The message as SMTP carries it: CRLF line breaks, ending with one."""
    out = re.sub(rb"\r\n|\r|\n", b"\r\n", raw)
    return out if out.endswith(b"\r\n") else out + b"\r\n"


def leaves(msg) -> list:
    return [p for p in msg.walk() if not p.is_multipart()]


def body_parts(msg) -> list:
    """What the portal lists, in order: leaf parts and enclosed messages (message/rfc822, then its parts)."""
    out = []
    for part in msg.get_payload() if msg.get_content_maintype() == "multipart" else [msg]:
        if part.get_content_maintype() == "multipart" and part.is_multipart():
            out += body_parts(part)
        elif part.get_content_type() == "message/rfc822" and part.is_multipart():
            out += [part, *body_parts(part.get_payload(0))]
        else:
            out.append(part)
    return out


def is_attachment(part) -> bool:
    return part.is_attachment() or part.get_filename() is not None


def text_of(part) -> str:
    return str(part.get_content()).replace("\r\n", "\n")


def bannered(part) -> bool:
    """A displayed text part whose content starts with the banner (text) or carries it first (HTML)."""
    if part.get_content_type() == "text/plain":
        return text_of(part).startswith(BANNER + "\n")
    if part.get_content_type() == "text/html":
        return '<div class="sm-banner"' in text_of(part) and BANNER in text_of(part)
    return False


def without_banner(text: str) -> str:
    """The text with the banner the gateway put on top taken out again."""
    plain = re.escape(BANNER) + r"\n(Read it in the Secure Messaging Portal: \S+\n)?\n"
    if re.match(plain, text):
        return re.sub(plain, "", text, count=1)
    return re.sub(r'<div class="sm-banner"[^>]*>[^<]*(<a [^>]*>[^<]*</a>)?</div>', "", text, count=1)


@pytest.fixture(scope="module")
def sent(gateway, mailpit):
    """Every corpus message, with each definition, submitted once to an internal and an external recipient."""
    tag = uniq("c")
    results = {}
    for number, path in enumerate(FILES):
        for definition in DEFINITIONS:
            original = crlf(path.read_bytes())
            internal = f"in{number}{definition.lower()}{tag}@corp.example"
            external = f"ex{number}{definition.lower()}{tag}@ext.example"
            submitted = f"X-SM-Definition: {definition}\r\n".encode() + original
            code, text = gateway.send(submitted, SENDER, [internal, external])
            results[(path.name, definition)] = {
                "original": original,
                "code": code,
                "reply": text.decode(),
                "internal": internal,
                "external": external,
            }
    return results


def delivered(mailpit, address: str):
    def found():
        hits = mailpit.search(f'addressed:"{address}"')
        return hits[0] if hits else None

    return parse(mailpit.raw(wait_until(found, 30, what=f"a delivery to {address}")["ID"]))


@pytest.mark.parametrize("name", [p.name for p in FILES])
def test_every_valid_message_accepted_and_only_broken_mime_refused(sent, name):
    for definition in DEFINITIONS:
        result = sent[(name, definition)]
        if name in BROKEN:
            assert result["code"] == 554, (name, result["reply"])
            reason = result["reply"].partition("5.6.0 Malformed message: ")[2]
            assert reason.strip(), f"{name}: a refusal must say why: {result['reply']}"
        else:
            assert result["code"] == 250, f"{name} ({definition}) refused: {result['code']} {result['reply']}"


def check_email_with_banner(original, copy) -> None:
    shown = [p for p in leaves(copy) if p.get_content_type() in ("text/plain", "text/html") and not is_attachment(p)]
    marked = [p for p in shown if bannered(p)]
    assert marked, "no banner at all"
    total = sum(text_of(p).count(BANNER) for p in shown)
    assert total == len(marked), f"{total} banners for {len(marked)} bannered parts: one banner per displayed part"
    first = next(p for p in leaves(copy) if p.get_content_maintype() == "text" and not is_attachment(p))
    assert bannered(first), "the banner is not at the top of what the recipient sees first"
    for multipart in copy.walk():  # every alternative of a bannered alternative carries it too
        if multipart.get_content_type() == "multipart/alternative":
            options = [p for p in multipart.get_payload() if p.get_content_type() in ("text/plain", "text/html")]
            if any(bannered(p) for p in options):
                assert all(bannered(p) for p in options), "an alternative without the banner"
    before, after = leaves(original), leaves(copy)
    if len(after) == len(before) + 1:  # wrapped: the banner part first, then the original entity
        assert after[0] in marked and copy.get_content_type() == "multipart/mixed"
        after = after[1:]
    assert [p.get_content_type() for p in after] == [p.get_content_type() for p in before]
    for was, now in zip(before, after):
        if now in marked:
            assert without_banner(text_of(now)) == text_of(was), "the text is not the original's with a banner on top"
        else:  # every other part byte for byte after decoding: attachments, reports, enclosed messages
            assert now.get_payload(decode=True) == was.get_payload(decode=True), now.get_content_type()


@pytest.mark.parametrize("definition", DEFINITIONS)
@pytest.mark.parametrize("name", [p.name for p in FILES if p.name not in BROKEN])
def test_internal_copy_has_one_banner_and_every_part(sent, mailpit, name, definition):
    result = sent[(name, definition)]
    check_email_with_banner(parse(result["original"]), delivered(mailpit, result["internal"]))


@pytest.mark.parametrize("name", [p.name for p in FILES if p.name not in BROKEN])
def test_portal_gives_back_the_whole_message(sent, mailpit, gateway, name):
    result = sent[(name, "All")]
    token = portal_token(delivered(mailpit, result["external"]))
    answer = gateway.get(f"/sm-portal/api/messages/{token}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    raw = requests.get(body["raw_url"], timeout=10)
    assert raw.status_code == 200 and raw.headers["content-type"] == "message/rfc822"
    head, _, rest = raw.content.partition(b"\r\n")
    assert raw.content == result["original"] or (head.startswith(b"Message-ID:") and rest == result["original"])
    original = parse(result["original"])
    originals = body_parts(original)
    assert [p["content_type"] for p in body["parts"]] == [p.get_content_type() for p in originals]
    for listed, part in zip(body["parts"], originals):
        if part.get_content_maintype() == "text":
            assert listed["text"] == text_of(part), listed["path"]
    expected = [p for p in originals if is_attachment(p) and p.get_content_maintype() != "message"]
    assert len(body["attachments"]) == len(expected)
    for listed, part in zip(body["attachments"], expected):
        data = part.get_payload(decode=True)
        assert (listed["size"], listed["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
        download = requests.get(listed["url"], timeout=10)
        assert download.status_code == 200 and hashlib.sha256(download.content).hexdigest() == listed["sha256"]
