"""The email with banner (harness/gateway/banner.py) where the message shows no text: the message wrapped
as multipart/mixed, a text/plain banner part first and the original entity second (docs/contract.md
"Email with banner"); the header fields a bannered part keeps; the broken variant that changes one
byte of an attachment, byte by byte."""

from __future__ import annotations

import pytest

from harness.gateway import banner, composer

BANNER = "This message was sent securely using Secure Messaging."
LINK = "http://gw/sm-portal/m/TOKEN"
PDF = (
    b"From: ines@corp.example\r\nTo: erik@ext.example\r\nSubject: the figures\r\nMIME-Version: 1.0\r\n"
    b"X-SM-Definition: External\r\nDisposition-Notification-To: ines@corp.example\r\n"
    b"Content-Type: application/pdf; name=q1.pdf\r\nContent-Transfer-Encoding: base64\r\n"
    b"Content-Disposition: attachment; filename=q1.pdf\r\n\r\nJVBERi0xLjQKJcfs\r\n"
)


def parts(raw: bytes):
    msg = composer.parse(raw)
    return msg, msg.get_payload()


def test_a_message_without_text_is_wrapped_with_a_banner_part_first():
    out = banner.with_banner(PDF, BANNER, LINK)
    msg, (note, entity) = parts(out)
    assert msg.get_content_type() == "multipart/mixed" and not msg.defects
    assert (msg["From"], msg["To"], msg["Subject"]) == ("ines@corp.example", "erik@ext.example", "the figures")
    assert "X-SM-Definition" not in msg and "Disposition-Notification-To" not in msg
    assert msg.get_all("MIME-Version") == ["1.0"]
    assert note.get_content_type() == "text/plain" and note.get_content_disposition() == "inline"
    assert note.get_content_charset() == "utf-8"
    assert note.get_content().replace("\r\n", "\n") == f"{BANNER}\nRead it in the Secure Messaging Portal: {LINK}\n\n"
    assert note["Content-Transfer-Encoding"] == "7bit"
    assert entity.get_content_type() == "application/pdf" and entity.get_filename() == "q1.pdf"
    assert entity.get_payload() == "JVBERi0xLjQKJcfs\r\n" or entity.get_payload().strip() == "JVBERi0xLjQKJcfs"
    assert out.count(b"\n") == out.count(b"\r\n"), "the message's own line ends, everywhere"
    boundary = msg.get_boundary().encode()
    assert out.endswith(b"\r\n--" + boundary + b"--\r\n")
    assert out.count(b"--" + boundary + b"\r\n") == 2


def test_the_wrapped_message_gets_one_mime_version_and_keeps_lf_line_ends():
    lf = PDF.replace(b"MIME-Version: 1.0\r\n", b"").replace(b"\r\n", b"\n")
    out = banner.with_banner(lf, BANNER, None)
    msg, (note, _) = parts(out)
    assert msg.get_all("MIME-Version") == ["1.0"]
    assert b"\r" not in out
    assert note.get_content() == f"{BANNER}\n\n"


def test_a_non_ascii_banner_part_is_quoted_printable():
    text = "Gesendet über Secure Messaging."
    out = banner.with_banner(PDF, text, None)
    assert out.isascii()
    _, (note, _) = parts(out)
    assert note["Content-Transfer-Encoding"] == "quoted-printable"
    assert note.get_content().replace("\r\n", "\n") == f"{text}\n\n"


def test_a_header_block_without_its_last_line_break_is_wrapped_whole():
    raw = b"From: ines@corp.example\r\nContent-Type: application/octet-stream\r\nSubject: cut"
    out = banner.with_banner(raw, BANNER, None)
    msg, (_, entity) = parts(out)
    assert msg["Subject"] == "cut" and entity.get_content_type() == "application/octet-stream"
    assert out.count(b"\n") == out.count(b"\r\n")


def test_a_bannered_part_inside_a_multipart_keeps_its_own_header_fields():
    raw = (
        b"From: a@corp.example\r\nX-SM-Definition: All\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\nContent-Language: de\r\nX-SM-Inner: kept\r\n"
        b"Content-ID: <t1@x>\r\n\r\nHallo\r\n--zz--\r\n"
    )
    _, (part,) = parts(banner.with_banner(raw, BANNER, None))
    assert (part["Content-Language"], part["X-SM-Inner"], part["Content-ID"]) == ("de", "kept", "<t1@x>")
    assert part.get_content().replace("\r\n", "\n") == f"{BANNER}\n\nHallo"


@pytest.mark.parametrize("first,changed", [(b"A", b"B"), (b"B", b"A"), (b"x", b"A"), (b"9", b"A")])
def test_the_attachment_altered_variant_changes_exactly_one_byte(first, changed):
    body = first + b"QIDBAUGBwgJ\r\n"
    raw = PDF.replace(b"JVBERi0xLjQKJcfs\r\n", body)
    good = banner.with_banner(raw, BANNER, None)
    bad = banner.with_banner(raw, BANNER, None, variant="attachment-altered")
    assert len(bad) == len(good)
    good_body, bad_body = (parts(out)[1][1].get_payload() for out in (good, bad))
    assert len(bad_body) == len(good_body) and good_body == body.decode()
    diff = [i for i in range(len(good_body)) if good_body[i] != bad_body[i]]
    assert diff == [0], "one byte of the attachment's encoded body, nothing else"
    assert bad_body[0].encode() == changed


# -- which parts a message shows first, and how a bannered part is written ------------------------
def shown(raw: bytes) -> list[str]:
    return [p.get_content_type() for p in banner.displayed(composer.parse(raw))]


def multipart(ctype: str, *parts: bytes, params: str = "") -> bytes:
    body = b"".join(b"--zz\r\n" + p + b"\r\n" for p in parts) + b"--zz--\r\n"
    return f"From: a@corp.example\r\nContent-Type: {ctype}; boundary=zz{params}\r\n\r\n".encode() + body


PLAIN = b"Content-Type: text/plain; charset=us-ascii\r\nContent-ID: <plain@x>\r\n\r\nplain words"
HTML = b"Content-Type: text/html\r\nContent-ID: <html@x>\r\n\r\n<p>html words</p>"
OCTETS = b"Content-Type: application/octet-stream\r\n\r\nAAAA"
STATUS = b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\nAction: failed\r\n"


def test_a_report_shows_only_its_first_part():
    assert shown(multipart("multipart/report", OCTETS, PLAIN, STATUS)) == []
    assert shown(multipart("multipart/report", PLAIN, STATUS, HTML)) == ["text/plain"]


def test_a_related_message_shows_its_start_part_else_its_first():
    assert shown(multipart("multipart/related", PLAIN, HTML, params='; start="<html@x>"')) == ["text/html"]
    assert shown(multipart("multipart/related", PLAIN, HTML, params='; start=" <html@x> "')) == ["text/html"]
    assert shown(multipart("multipart/related", PLAIN, HTML, params='; start="<none@x>"')) == ["text/plain"]
    assert shown(multipart("multipart/related", OCTETS, HTML)) == []
    assert shown(multipart("multipart/mixed", OCTETS, HTML)) == ["text/html"]


def test_an_attachment_without_a_filename_is_no_displayed_text():
    raw = b"From: a@corp.example\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nfile text\r\n"
    out = composer.parse(banner.with_banner(raw, BANNER, None))
    assert out.get_content_type() == "multipart/mixed" and len(out.get_payload()) == 2
    assert out.get_payload(1).get_content().replace("\r\n", "\n") == "file text\n"


def test_the_html_banner_shows_the_text_and_a_link_that_stays_one_attribute():
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__()
            self.text, self.hrefs = [], []

        def handle_starttag(self, tag, attrs):
            self.hrefs += [v for k, v in attrs if tag == "a" and k == "href"]

        def handle_data(self, data):
            self.text.append(data)

    link = 'http://gw/m/T?a="1"&b=<2>'
    doc = banner.banner_html("<html><body><p>words</p></body></html>", "Sent <securely> & safe", link)
    reader = Reader()
    reader.feed(doc)
    assert reader.hrefs == [link]
    assert "".join(reader.text) == "Sent <securely> & safe Read it in the Secure Messaging Portalwords"
    assert doc.startswith("<html><body><div") and doc.endswith("</div><p>words</p></body></html>")


def test_an_html_part_gets_the_link_too():
    raw = multipart("multipart/alternative", PLAIN, HTML)
    out = composer.parse(banner.with_banner(raw, BANNER, LINK))
    html = out.get_body(("html",)).get_content()
    assert f'<a href="{LINK}">' in html


def test_a_banner_that_does_not_fit_the_parts_charset_is_written_in_utf_8():
    text = "Gesendet über Secure Messaging."
    raw = multipart(
        "multipart/mixed", PLAIN.replace(b"charset=us-ascii", b"format=flowed; charset=us-ascii; delsp=yes")
    )
    out = banner.with_banner(raw, text, None)
    assert out.isascii(), "an ASCII message stays 7-bit: the new text is quoted-printable"
    (part,) = composer.parse(out).get_payload()
    assert part.get_content_charset() == "utf-8"
    assert part.get_content().replace("\r\n", "\n") == f"{text}\n\nplain words"
    assert (part.get_param("format"), part.get_param("delsp")) == ("flowed", "yes")
    assert part.get_all("Content-Type") and len(part.get_all("Content-Type")) == 1
    assert "MIME-Version" not in part, "only the message itself carries MIME-Version"


def test_a_long_line_is_never_sent_longer_than_998_octets():
    raw = b"From: a@corp.example\r\nSubject: s\r\n\r\n" + b"x" * 999 + b"\r\n"
    out = banner.with_banner(raw, BANNER, None)
    assert max(len(line) for line in out.split(b"\r\n")) <= 998
    assert composer.parse(out).get_content().replace("\r\n", "\n") == f"{BANNER}\n\n{'x' * 999}\n"


@pytest.mark.parametrize("head", [b"MIME-Version: 1.0\r\nSubject: s\r\n", b"Subject: s\r\n"])
def test_a_single_part_message_carries_mime_version_once(head):
    out = composer.parse(banner.with_banner(b"From: a@corp.example\r\n" + head + b"\r\nhello\r\n", BANNER, None))
    assert out.get_all("MIME-Version") == ["1.0"]


def test_header_blocks_without_their_last_line_break():
    raw = b"From: a@corp.example\r\nContent-Type: text/plain\r\nSubject: last"
    out = banner.with_banner(raw, BANNER, None)
    assert composer.parse(out)["Subject"] == "last" and out.count(b"\n") == out.count(b"\r\n")
    raw = b"From: a@corp.example\r\nSubject: s\r\nContent-Type: application/octet-stream"
    out = banner.with_banner(raw, BANNER, None)
    _, (_, entity) = parts(out)
    assert entity.get_content_type() == "application/octet-stream" and out.count(b"\n") == out.count(b"\r\n")


def test_variants_on_messages_they_do_not_apply_to():
    raw = b"From: a@corp.example\r\nSubject: s\r\n\r\nhello\r\n"
    assert banner.with_banner(raw, BANNER, None, variant="attachment-altered") == banner.with_banner(raw, BANNER, None)


def test_the_banner_inside_report_parts_variant_writes_the_banner_line_first():
    raw = multipart("multipart/report", PLAIN, STATUS)
    out = banner.with_banner(raw, BANNER, None, variant="banner-inside-report-parts")
    status = composer.parse(out).get_payload(1)
    assert out.count((BANNER + "\n").encode()) == 1 and out.count(BANNER.encode()) == 2
    assert status.get_content_type() == "message/delivery-status"


def test_an_ascii_part_with_lines_up_to_998_octets_stays_readable_7bit_text():
    raw = b"From: a@corp.example\r\nSubject: s\r\n\r\nshort\r\n" + b"y" * 998 + b"\r\n"
    out = banner.with_banner(raw, BANNER, None)
    msg = composer.parse(out)
    assert msg["Content-Transfer-Encoding"] == "7bit"
    assert b"y" * 998 + b"\r\n" in out and BANNER.encode() in out
