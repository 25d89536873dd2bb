"""Unit tests of the email with banner (harness/gateway/banner.py), where MIME parts lie
(mime_layout.py) and the whole message as the portal lists it (whole_message.py), on the public
corpus of features/mail/ and on messages built here. Also the broken variants living there."""

from __future__ import annotations

import hashlib
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from harness.gateway import banner, composer, mime_layout, whole_message

CORPUS = Path(__file__).resolve().parents[2] / "features" / "mail"
BANNER = "This message was sent securely using Secure Messaging."
LINK = "http://gw/sm-portal/m/TOKEN"
FILES = sorted(p for p in CORPUS.glob("*/*") if p.name not in ("LICENSE", "README.md") and not p.name.startswith("."))
VALID = [p for p in FILES if composer.malformed_reason(composer.parse(p.read_bytes())) is None]


def corpus(name: str) -> bytes:
    return next(p for p in FILES if p.name == name).read_bytes()


def count_banners(raw: bytes) -> int:
    msg = composer.parse(raw)
    return sum(
        str(p.get_content()).count(BANNER)
        for p in msg.walk()
        if not p.is_multipart() and p.get_content_maintype() == "text" and not banner.is_attachment(p)
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_layout_gives_each_part_where_the_parser_found_it(path):
    raw = path.read_bytes()
    lay = mime_layout.read(raw)
    for part in lay.message.walk():
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        if part.defects and composer.malformed_reason(lay.message):
            continue  # a broken message's payload is whatever the parser salvaged
        assert lay.body(part).decode("ascii", "surrogateescape") == part.get_payload()
        span = lay.span(part)
        if part is not lay.message:  # the part cut out alone parses to the same content
            assert composer.parse(raw[span.start : span.payload_end(raw)]).get_payload() == part.get_payload()


def test_header_fields_keep_folding_and_stop_at_the_blank_line():
    block = b"Subject: a\r\n  folded\r\nX-One: 1\r\n\r\nbody: no\r\n"
    assert mime_layout.header_fields(block) == [("subject", b"Subject: a\r\n  folded\r\n"), ("x-one", b"X-One: 1\r\n")]
    assert mime_layout.line_ending(block) == b"\r\n" and mime_layout.line_ending(b"A: b\nc") == b"\n"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_every_valid_corpus_message_gets_a_banner_and_keeps_its_structure(path):
    raw = path.read_bytes()
    out = banner.with_banner(raw, BANNER, LINK)
    shown = banner.displayed(composer.parse(out))
    assert shown and count_banners(out) == len(shown)
    for part in shown:
        text = str(part.get_content())
        assert text.startswith(BANNER) if part.get_content_subtype() == "plain" else '<div class="sm-banner"' in text


def test_a_digest_gets_one_banner_and_its_messages_stay_byte_for_byte():
    raw = corpus("msg_02.txt")
    out = banner.with_banner(raw, BANNER, LINK)
    assert count_banners(out) == 1
    digest = raw[raw.index(b"Content-Type: multipart/digest") :]
    assert digest in out  # the digest, every enclosed message in it, and the footer: untouched
    assert str(composer.parse(out).get_body(("plain",)).get_content()).startswith(BANNER)


@pytest.mark.parametrize("name", ["msg_16.txt", "msg_43.txt"])
def test_a_delivery_status_report_keeps_its_machine_readable_parts(name):
    raw = corpus(name)
    out = banner.with_banner(raw, BANNER, None)
    after = composer.parse(out)
    assert after.get_content_type() == "multipart/report" and count_banners(out) == 1
    assert str(after.get_payload(0).get_content()).startswith(BANNER)
    lay = mime_layout.read(raw)
    for part in lay.message.get_payload()[1:]:
        assert lay.raw[lay.span(part).start : lay.span(part).end] in out


def test_signed_content_is_wrapped_never_touched():
    raw = corpus("msg_45.txt")
    out = banner.with_banner(raw, BANNER, LINK)
    msg = composer.parse(out)
    assert msg.get_content_type() == "multipart/mixed"
    first, signed = msg.get_payload()
    assert str(first.get_content()).startswith(BANNER) and LINK in str(first.get_content())
    assert signed.get_content_type() == "multipart/signed"
    assert raw[raw.index(b"\n\n") + 2 :] in out  # the signed body, byte for byte


@pytest.mark.parametrize("name", ["msg_37.txt", "msg_06.txt", "msg_04.txt"])
def test_a_message_without_a_displayable_text_part_gets_a_banner_part_on_top(name):
    out = banner.with_banner(corpus(name), BANNER, None)
    msg = composer.parse(out)
    assert msg.get_content_type() == "multipart/mixed" and count_banners(out) == 1
    assert msg.get_payload(0).get_content_type() == "text/plain"
    assert str(msg.get_payload(0).get_content()).startswith(BANNER)


def test_every_alternative_is_bannered():
    out = composer.parse(banner.with_banner(corpus("mime-attachment.eml"), BANNER, LINK))
    shown = banner.displayed(out)
    assert [p.get_content_type() for p in shown] == ["text/plain", "text/html"]
    assert str(shown[1].get_content()).count(BANNER) == 1


def test_a_bannered_part_keeps_its_fields_charset_and_parameters_and_the_line_breaks():
    raw = (
        "From: a@corp.example\nTo: b@corp.example\nSubject: s\nX-SM-Definition: All\n"
        "Return-Receipt-To: a@corp.example\nMIME-Version: 1.0\n"
        'Content-Type: text/plain; charset="iso-8859-1"; format=flowed\nContent-Transfer-Encoding: 8bit\n'
        "Content-Language: fr\n\nCaf\xe9 cr\xe8me\n"
    ).encode("latin-1")
    out = banner.with_banner(raw, BANNER, LINK)
    assert b"\r\n" not in out
    msg = composer.parse(out)
    assert msg.get_content_charset() == "iso-8859-1" and msg.get_param("format") == "flowed"
    assert msg["Content-Language"] == "fr" and msg["X-SM-Definition"] is None and msg["Return-Receipt-To"] is None
    assert msg.get_content() == banner.banner_plain("Café crème\n", BANNER, LINK)


def test_header_fields_are_copied_raw_never_decoded_and_written_again():
    """An RFC 2231 file name decoding to CR LF must not become a header field of what is sent."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = "a@corp.example", "b@corp.example", "s"
    msg.set_content("hello\n")
    msg.add_attachment(b"x", maintype="application", subtype="octet-stream", filename="f.bin")
    raw = msg.as_bytes().replace(b'filename="f.bin"', b"filename*=utf-8''a%0D%0ABcc%3A%20evil%40x.example")
    out = banner.with_banner(raw, BANNER, None)
    assert composer.parse(out)["Bcc"] is None and b"\r\nBcc:" not in out


def digest_with_attachment() -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = "a@corp.example", "b@corp.example", "s"
    msg.set_content("outer text\n")
    msg.add_alternative("<html><body><p>outer</p></body></html>\n", subtype="html")
    inner = EmailMessage(policy=policy.SMTP)
    inner["From"], inner["Subject"] = "c@ext.example", "forwarded"
    inner.set_content("inner text\n")
    msg.make_mixed()
    msg.attach(_rfc822(inner))
    msg.add_attachment(bytes(range(256)), maintype="application", subtype="pdf", filename="r.pdf")
    return msg.as_bytes()


def _rfc822(inner: EmailMessage) -> EmailMessage:
    part = EmailMessage(policy=policy.SMTP)
    part.set_content(inner)
    return part


def test_the_whole_message_lists_every_part_with_paths_and_attachments():
    raw = digest_with_attachment()
    whole = whole_message.describe(raw, "http://gw/a/{}")
    parts = [(p["path"], p["content_type"], p["alternative_of"], p["enclosed_in"]) for p in whole["parts"]]
    assert parts == [
        ("1.1", "text/plain", "1", None),
        ("1.2", "text/html", "1", None),
        ("2", "message/rfc822", None, None),
        ("2.1", "text/plain", None, "2"),
        ("3", "application/pdf", None, None),
    ]
    assert whole["parts"][3]["text"] == "inner text\n" and whole["parts"][2]["headers"]["Subject"] == "forwarded"
    [attachment] = whole["attachments"]
    assert attachment == {
        "path": "3",
        "name": "r.pdf",
        "content_type": "application/pdf",
        "size": 256,
        "sha256": hashlib.sha256(bytes(range(256))).hexdigest(),
        "url": "http://gw/a/1",
    }
    assert whole_message.attachment_bytes(raw, 1) == (
        {"name": "r.pdf", "content_type": "application/pdf"},
        bytes(range(256)),
    )
    assert whole_message.attachment_bytes(raw, 2) is None
    single = whole_message.describe(corpus("msg_01.txt"), None)["parts"]
    assert [(p["path"], p["alternative_of"]) for p in single] == [("1", None)]


def test_the_portal_copy_is_the_original_without_sm_headers():
    raw = b"X-SM-Definition: All\r\nFrom: a@corp.example\r\nDisposition-Notification-To: a@corp.example\r\n\r\nhi\r\n"
    assert whole_message.portal_copy(raw) == b"From: a@corp.example\r\n\r\nhi\r\n"


# -- broken variants (tests/gateway/test_gw_variants.py counts these as their checks) ----------------
def test_variant_portal_drops_attachments():
    whole = whole_message.describe(digest_with_attachment(), "u{}", variant="portal-drops-attachments")
    assert whole["attachments"] == [] and "application/pdf" not in [p["content_type"] for p in whole["parts"]]


def test_variant_portal_first_text_part_only():
    whole = whole_message.describe(digest_with_attachment(), "u{}", variant="portal-first-text-part-only")
    assert [p["path"] for p in whole["parts"]] == ["1.1"]


def test_variant_banner_in_enclosed_messages():
    assert count_banners(banner.with_banner(corpus("msg_02.txt"), BANNER, None)) == 1
    assert (
        count_banners(banner.with_banner(corpus("msg_02.txt"), BANNER, None, variant="banner-in-enclosed-messages"))
        == 6
    )


def test_variant_banner_inside_report_parts():
    raw = corpus("msg_16.txt")
    out = banner.with_banner(raw, BANNER, None, variant="banner-inside-report-parts")
    lay = mime_layout.read(out)
    status = lay.message.get_payload(1)
    assert status.get_content_type() == "message/delivery-status" and BANNER.encode() in lay.body(status)


def test_variant_no_banner_without_text_part():
    out = banner.with_banner(corpus("msg_37.txt"), BANNER, None, variant="no-banner-without-text-part")
    assert BANNER.encode() not in out and composer.parse(out).get_content_type() == "multipart/mixed"
    assert len(composer.parse(out).get_payload()) == 3  # the original's three parts, nothing added


def test_variant_attachment_altered():
    raw = digest_with_attachment()
    digest = hashlib.sha256(bytes(range(256))).hexdigest()
    good = whole_message.describe(banner.with_banner(raw, BANNER, None), None)["attachments"][0]["sha256"]
    bad = whole_message.describe(banner.with_banner(raw, BANNER, None, variant="attachment-altered"), None)
    assert good == digest and bad["attachments"][0]["sha256"] != digest
    assert re.search(rb"filename=\"?r.pdf", banner.with_banner(raw, BANNER, None, variant="attachment-altered"))


def test_a_first_header_line_that_continues_nothing_is_passed_over_as_the_parser_does():
    """Found by tests/hardening/test_properties.py: a message whose first line is a folded continuation
    (Python's parser: FirstHeaderLineIsContinuationDefect, then the fields after it) lost its Content-Type
    when wrapped with a banner part."""
    raw = b" folded continuation\r\nContent-Type: application/octet-stream\r\nX-SM-Definition: All\r\n\r\n\x00\x01\r\n"
    assert [name for name, _ in mime_layout.header_fields(raw)] == ["content-type", "x-sm-definition"]
    out = banner.with_banner(raw, "banner", None)
    parsed = BytesParser(policy=policy.default).parsebytes(out)
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/mixed",
        "text/plain",
        "application/octet-stream",
    ]
    original = BytesParser(policy=policy.default).parsebytes(raw).get_payload(decode=True)
    assert parsed.get_payload()[1].get_payload(decode=True) == original
