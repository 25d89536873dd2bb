"""Owns: unit checks of Northwind's byte-exact MIME reading and banner splicing (pure logic, no servers).

Shapes the public corpus does not hold: a displayed part with no body, a cut-off message, quoted-printable
and base64 text parts, a banner the part's charset cannot hold, a nested multipart cut by its parent.
"""

from __future__ import annotations

import base64
import random
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from tools.independent.gateway import mime
from tools.independent.gateway.banner import Banner, edit_header, with_banner

BANNER = Banner("BANNER LINE", '<div class="sm-banner">BANNER LINE</div>')


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("latin-1")


def texts(raw: bytes) -> list[str]:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    return [lf(p.get_content()) for p in msg.walk() if p.get_content_maintype() == "text"]


def lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def test_a_displayed_part_without_body_gets_a_blank_line_then_the_banner():
    raw = crlf("From: a@b\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n--x--\n")
    out = with_banner(mime.parse(raw), BANNER)
    assert texts(out) == ["BANNER LINE\n\n"]
    assert out.startswith(raw[: raw.index(b"--x")])


def test_quoted_printable_keeps_the_original_bytes_after_the_banner():
    body = "caf=E9 au lait=\nsoft break\n"
    raw = crlf(
        "From: a@b\nContent-Type: text/plain; charset=iso-8859-1; format=flowed\n"
        f"Content-Transfer-Encoding: quoted-printable\n\n{body}"
    )
    out = with_banner(mime.parse(raw), BANNER)
    assert out.endswith(crlf(body)) and b"format=flowed" in out
    assert texts(out) == ["BANNER LINE\n\ncafé au laitsoft break\n"]


def test_base64_is_decoded_and_encoded_again_with_the_banner_on_top():
    raw = crlf(
        "From: a@b\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes("<html><body class='x'><p>ü</p></body></html>".encode()).decode()
    )
    (shown,) = texts(with_banner(mime.parse(raw), BANNER))
    assert shown == "<html><body class='x'><div class=\"sm-banner\">BANNER LINE</div><p>ü</p></body></html>"


def test_a_charset_that_cannot_hold_the_banner_becomes_utf8_and_keeps_the_text():
    raw = crlf("From: a@b\nContent-Type: text/plain; charset=us-ascii; format=flowed\n\nplain text\n")
    out = with_banner(mime.parse(raw), Banner("BANNER ✓", "<div>BANNER ✓</div>"))
    msg = BytesParser(policy=policy.default).parsebytes(out)
    assert msg.get_content_charset() == "utf-8" and msg.get_param("format") == "flowed"
    assert lf(msg.get_content()) == "BANNER ✓\n\nplain text\n"


def test_the_wrapped_original_is_byte_for_byte():
    entity = "Content-Type: message/rfc822\nContent-Description: fwd\n\nSubject: inner\n\ninner text\n"
    raw = crlf("From: a@b\nSubject: s\n" + entity)
    out = with_banner(mime.parse(raw), BANNER)
    assert crlf(entity) in out
    msg = BytesParser(policy=policy.default).parsebytes(out)
    assert msg.get_content_type() == "multipart/mixed" and msg["Subject"] == "s"
    first, second = msg.get_payload()
    assert lf(first.get_content()) == "BANNER LINE\n" and second.get_content_type() == "message/rfc822"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Hello there\n\nbody\n", "no header block"),
        ("From: a@b\nthis is no field\n\nbody\n", "not a field"),
        ("From: a@b\nContent-Type: multipart/mixed\n\nbody\n", "without a boundary"),
        ("From: a@b\nContent-Type: multipart/mixed; boundary=x\n\n--y\n\nbody\n--y--\n", "never occurs"),
        (
            "From: a@b\nContent-Type: multipart/mixed; boundary=x\n\n--x\n"
            "Content-Type: multipart/alternative; boundary=y\n\n--y\n\none\n--x\n\ntwo\n--y--\n--x--\n",
            "enclosing multipart",
        ),
    ],
)
def test_broken_mime_is_refused_with_its_reason(text, reason):
    with pytest.raises(mime.Malformed, match=reason):
        mime.parse(crlf(text))


def test_too_deep_nesting_is_refused():
    head = "From: a@b\n" + "".join(f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n" for i in range(60))
    with pytest.raises(mime.Malformed, match="deeper than 50"):
        mime.parse(crlf(head + "\nx\n"))


def test_only_the_message_own_missing_closing_boundary_is_tolerated():
    cut = "From: a@b\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\none\n--x\n\ntwo, cut off here"
    assert [p["text"] for p in mime.listing(mime.parse(crlf(cut)))[0]] == ["one", "two, cut off here"]
    inner_open = (
        "From: a@b\nContent-Type: multipart/mixed; boundary=x\n\n--x\n"
        "Content-Type: multipart/mixed; boundary=y\n\n--y\n\none\n--x\n\ntwo\n--x--\n"
    )
    with pytest.raises(mime.Malformed, match="no closing boundary"):
        mime.parse(crlf(inner_open))


def test_header_edits_touch_only_the_named_fields():
    raw = crlf("From: a@b\nX-SM-Definition: All\nReturn-Receipt-To: a@b\nSubject: s\n  folded\n\nX-SM-Body: kept\n")
    out = edit_header(raw, remove=("Return-Receipt-To",), prefixes=("X-SM-",), add=("Message-ID: <m@x>",))
    assert out == crlf("From: a@b\nSubject: s\n  folded\nMessage-ID: <m@x>\n\nX-SM-Body: kept\n")


def test_an_mbox_separator_in_the_header_block_is_dropped():
    raw = crlf("X-SM-Definition: All\nFrom someone@example.net Fri Nov 26 21:40:36 2004\nFrom: a@b\n\nFrom the body\n")
    assert mime.strip_mbox_from(raw) == crlf("X-SM-Definition: All\nFrom: a@b\n\nFrom the body\n")


def test_mutated_corpus_messages_are_read_or_refused_never_crash():
    """Seeded mutations of the public corpus: each is refused as Malformed or read, bannered and read again."""
    rng = random.Random(22)
    corpus = Path(__file__).resolve().parents[2] / "features" / "mail"
    files = [p.read_bytes() for p in sorted([*corpus.glob("cpython/msg_*.txt"), *corpus.glob("mailpit/*.eml")])]
    inserts = [b"\n", b"\r\n", b"--", b"=", b"\n--BOUNDARY\n", b"Content-Type: multipart/mixed; boundary=q\n"]
    inserts += [b"\xff\xfe", b"Content-Transfer-Encoding: base64\n", b'charset="x\x00y"', b"; name*0=a; name*=b"]
    read = 0
    for _ in range(1500):
        raw = bytearray(rng.choice(files))
        for _ in range(rng.randint(1, 5)):
            pos = rng.randrange(len(raw) + 1)
            choice = rng.random()
            if choice < 0.3:
                del raw[pos : pos + rng.randint(1, 40)]
            elif choice < 0.6:
                raw[pos:pos] = rng.choice(inserts)
            elif pos < len(raw):
                raw[pos] = rng.randrange(256)
        try:
            top = mime.parse(mime.strip_mbox_from(bytes(raw)))
            for banner in (BANNER, Banner("BANNER ✓", "<div>BANNER ✓</div>")):
                again = mime.parse(with_banner(top, banner))
                mime.listing(again)
        except mime.Malformed:
            continue
        read += 1
    assert read > 300  # most mutations still read: the check is not vacuous
