"""The pieces the gateway builds its mail from (harness/gateway/composer.py, notices.py): the original
built from an MPP send or an SM Portal reply, header values made fit for a line or an SMTP reply,
addresses and bodies read back, the reasons a message is refused, the plain relay's header cut, the
notification's every field, and the read receipt of the broken variant 'read-receipt'."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from harness.gateway import composer, notices
from harness.gateway.config import from_mapping

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
BANNER = "This message was sent securely using Secure Messaging."


def cfg(**over):
    return from_mapping(
        {"internal_domains": ["corp.example", "corp2.example"], "database": ":memory:", "admin_token": "x", **over},
        environ={},
    )


def built(**over) -> EmailMessage:
    args = {
        "sender": "ines@corp.example",
        "to": ["erik@ext.example", "fay@ext.example"],
        "cc": ["carl@corp.example"],
        "subject": "Figures\tfor\r\n Q1",
        "text": "Plain words.\n",
        "html": None,
        "message_id": "<id1@corp.example>",
        "now": NOW,
        **over,
    }
    return composer.build_original(**args)


def reparsed(msg: EmailMessage) -> EmailMessage:
    return composer.parse(composer.to_bytes(msg))


def test_an_original_built_from_http_input_carries_every_field_it_was_given():
    msg = reparsed(
        built(
            in_reply_to="<parent@corp.example>",
            references="<root@x> <parent@corp.example>",
            extra_headers={"X-Custom": "kept", "Keywords": "a, b"},
        )
    )
    assert msg["From"] == "ines@corp.example"
    assert composer.addresses(msg, "To") == ["erik@ext.example", "fay@ext.example"]
    assert composer.addresses(msg, "Cc") == ["carl@corp.example"]
    assert msg["Subject"] == "Figures for Q1", "one line: control characters and folding become one space"
    assert msg["Date"] == "Fri, 01 May 2026 12:00:00 +0000"
    assert msg["Message-ID"] == "<id1@corp.example>"
    assert msg["In-Reply-To"] == "<parent@corp.example>"
    assert msg["References"] == "<root@x> <parent@corp.example>"
    assert (msg["X-Custom"], msg["Keywords"]) == ("kept", "a, b")
    assert not msg.is_multipart() and msg.get_content_type() == "text/plain"
    assert composer.body_text(msg) == "Plain words.\n" and composer.body_html(msg) is None


def test_an_original_without_cc_or_threading_has_no_such_fields():
    msg = reparsed(built(cc=[], to=[]))
    for name in ("To", "Cc", "In-Reply-To", "References"):
        assert name not in msg
    assert composer.addresses(msg, "To") == []


def test_an_original_with_html_is_an_alternative_and_non_ascii_text_is_7bit_safe():
    msg = built(text="Grüße aus Köln\n", html="<p>Grüße</p>\n")
    raw = composer.to_bytes(msg)
    assert raw.isascii(), "quoted-printable: every byte 7-bit"
    back = composer.parse(raw)
    assert back.get_content_type() == "multipart/alternative"
    assert composer.body_text(back) == "Grüße aus Köln\n"
    assert composer.body_html(back) == "<p>Grüße</p>\n"
    assert [p["Content-Transfer-Encoding"] for p in back.iter_parts()] == ["quoted-printable"] * 2
    ascii_back = reparsed(built(text="plain\n", html="<p>x</p>\n"))
    assert [p["Content-Transfer-Encoding"] for p in ascii_back.iter_parts()] == ["7bit"] * 2


def test_to_bytes_writes_crlf_line_ends_only():
    raw = composer.to_bytes(built(text="a\nb\n"))
    assert b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")


def test_a_header_value_cannot_carry_a_second_header():
    msg = EmailMessage(policy=composer.POLICY)
    for value in ("a\r\nBcc: x@ext.example", "a\nb", "a\rb"):
        with pytest.raises(ValueError):
            msg["Subject"] = value


def test_header_text_and_reply_text():
    assert composer.header_text(None) == "" and composer.header_text("") == ""
    assert composer.header_text(" a\x00b\x1f\x7fc\r\n  d ") == "a b c d"
    assert composer.reply_text("é\x01x~ z") == "? x~ z", "printable ASCII only: the rest is '?'"
    exactly = "a" * 80
    assert composer.reply_text(exactly) == exactly
    assert composer.reply_text("b" * 81) == "b" * 77 + "..."
    assert composer.reply_text("c" * 30, limit=20) == "c" * 17 + "..."
    assert len(composer.reply_text("d" * 500)) == 80


def test_addresses_from_every_field_of_a_name():
    msg = composer.parse(
        b'From: a@corp.example\r\nTo: Erik <erik@ext.example>, fay@ext.example\r\nTo: "G, H" <g@ext.example>\r\n'
        b"Cc: undisclosed-recipients:;\r\n\r\nx\r\n"
    )
    assert composer.addresses(msg, "To") == ["erik@ext.example", "fay@ext.example", "g@ext.example"]
    assert composer.addresses(msg, "Cc") == []
    assert composer.addresses(msg, "Bcc") == []


def test_bodies_read_back_with_lf_line_ends():
    msg = composer.parse(b"Subject: s\r\nContent-Type: text/html\r\n\r\n<p>a</p>\r\n<p>b</p>\r\n")
    assert composer.body_text(msg) == ""
    assert composer.body_html(msg) == "<p>a</p>\n<p>b</p>\n"
    crlf_inside = composer.parse(
        b"Subject: s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"bGluZTENCmxpbmUyDQo=\r\n"  # "line1\r\nline2\r\n", encoded: the CRs survive decoding
    )
    assert composer.body_text(crlf_inside) == "line1\nline2\n"


def test_headers_dict_joins_repeated_fields():
    msg = composer.parse(b"Subject: s\r\nComments: one\r\nComments: two\r\nX-A: 1\r\n\r\nbody\r\n")
    assert composer.headers_dict(msg) == {"Subject": "s", "Comments": "one, two", "X-A": "1"}


def test_new_message_ids_are_unique_and_in_the_domain():
    ids = {composer.new_message_id("corp.example") for _ in range(50)}
    assert len(ids) == 50
    assert all(i.startswith("<") and i.endswith("@corp.example>") for i in ids)


@pytest.mark.parametrize(
    "raw,reason",
    [
        (b"\r\nbody only\r\n", "no header block"),
        (
            b"Subject: x\r\nthis line is no field\r\nTo: a@b.example\r\n\r\nbody\r\n",
            "a line in the header block is not a header field",
        ),
        (b"Subject: x\r\nContent-Type: multipart/mixed\r\n\r\nhello\r\n", "a multipart without a boundary parameter"),
        (
            b"Subject: x\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\nno parts\r\n",
            "a multipart whose boundary never occurs",
        ),
        (
            b"Subject: x\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\nhello\r\n",
            "undecodable text part (LookupError: unknown encoding: no-such-charset)",
        ),
        (
            b"Subject: x\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n"
            b"Content-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\nContent-Type: text/plain\r\n\r\n"
            b"a\r\n--outer\r\nContent-Type: text/plain\r\n\r\nb\r\n--outer--\r\n",
            "a part holds a boundary delimiter line of an enclosing multipart",
        ),
    ],
)
def test_the_reason_a_message_is_refused(raw, reason):
    assert composer.malformed_reason(composer.parse(raw)) == reason


def nested(levels: int) -> bytes:
    """A message whose multiparts nest ``levels`` deep (the text part inside the deepest)."""
    head = b"Subject: deep\r\n"
    body = b"Content-Type: text/plain\r\n\r\nx\r\n"
    for i in reversed(range(levels - 1)):
        body = (
            f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n".encode()
            + body
            + f"\r\n--b{i}--\r\n".encode()
        )
    return head + body


def test_mime_nesting_is_counted_and_limited_to_50_levels():
    assert composer.mime_depth(composer.parse(b"Subject: s\r\n\r\nx\r\n")) == 1
    assert composer.mime_depth(composer.parse(nested(3))) == 3
    assert composer.malformed_reason(composer.parse(nested(50))) is None
    assert composer.malformed_reason(composer.parse(nested(51))) == "MIME parts nested more than 50 levels deep"


def test_what_is_not_refused():
    cut_off = (
        b"Subject: x\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n"
        b"\r\nthe message ends here, without its last boundary\r\n"
    )
    assert composer.malformed_reason(composer.parse(cut_off)) is None, "only a message's own end may be missing"
    bad_charset_attachment = (
        b"Subject: x\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\n"
        b"hi\r\n--zz\r\nContent-Type: text/plain; charset=no-such-charset\r\nContent-Disposition: attachment;"
        b" filename=a.txt\r\n\r\nbytes\r\n--zz--\r\n"
    )
    assert composer.malformed_reason(composer.parse(bad_charset_attachment)) is None, "an attachment is not read"
    odd_part_header = (
        b"Subject: x\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n"
        b"no colon in this part's header\r\n\r\nhi\r\n--zz--\r\n"
    )
    assert composer.malformed_reason(composer.parse(odd_part_header)) is None


@pytest.mark.parametrize(
    "raw,kept",
    [
        (b"X-SM-Definition: All\nSubject: s\n\nbody\n", b"Subject: s\n\nbody\n"),
        (
            b"Subject: s\r\nX-SM-Definition: All\r\n\r\nX-SM-A: body\r\n\r\nmore\n\n",
            b"Subject: s\r\n\r\nX-SM-A: body\r\n\r\nmore\n\n",
        ),
        (b"Subject: s\nX-SM-A: 1\n\nb\r\n\r\nc", b"Subject: s\n\nb\r\n\r\nc"),
        (b"Subject: s\r\nX-SM-A: 1\r\n", b"Subject: s\r\n"),
        (b"X-SM-A: 1\r\n\tfolded\r\nSubject: s\r\n\tfolded too\r\n\r\nb", b"Subject: s\r\n\tfolded too\r\n\r\nb"),
        (b"Subject: caf\xc3\xa9: s\r\nX-SM-A: 1\r\n\r\nb", b"Subject: caf\xc3\xa9: s\r\n\r\nb"),
        (b"Subject: s\r\nX-SM-A:: 1\r\nX-Keep:a:b\r\n\r\nb", b"Subject: s\r\nX-Keep:a:b\r\n\r\nb"),
        (b"\n\nbody", b"\n\nbody"),
    ],
)
def test_the_plain_relay_cuts_only_x_sm_fields_from_the_header_block(raw, kept):
    assert composer.plain(raw) == kept


def test_strip_keeps_every_byte_but_the_dropped_fields():
    raw = b"A: 1\r\nB: 2\r\n continued\r\nC: 3\r\n\r\nbody"
    assert composer.strip_raw_headers(raw, lambda name: name == "B") == b"A: 1\r\nC: 3\r\n\r\nbody"
    assert composer.strip_raw_headers(raw, lambda name: False) == raw
    assert composer.strip_raw_headers(b"A: 1\nB: 2\n", lambda name: name == "A") == b"B: 2\n", "no body at all"


def test_without_banner_hides_the_banner_in_any_case_and_spacing():
    assert composer.without_banner(f"Re: {BANNER.upper()}", BANNER) == "Re: [...]"
    spaced = BANNER.replace(" ", "\n  ")
    assert composer.without_banner(f"a {spaced} b", BANNER) == "a [...] b"
    assert composer.without_banner("This message was sent", BANNER) == "This message was sent"
    assert composer.without_banner("anything", "  ") == "anything"
    assert composer.without_banner("x.y", "x.y") == "[...]" and composer.without_banner("xzy", "x.y") == "xzy"


# -- the notification -----------------------------------------------------------------------
def notify(original: bytes, **kw) -> EmailMessage:
    args = {
        "sender": "ines@corp.example",
        "recipient": "erik@ext.example",
        "link": "http://gw/m/T",
        "cfg": cfg(),
        "now": NOW,
        **kw,
    }
    return composer.parse(notices.notification(composer.parse(original), **args))


def test_every_field_of_a_notification():
    n = notify(
        b"From: ines@corp.example\r\nSubject: Q1\r\nIn-Reply-To: <p@x>\r\nReferences: <r@x> <p@x>\r\n\r\nsecret\r\n"
    )
    assert str(n["From"]) == "Secure Messaging <secure-messaging@corp.example>"
    assert n["To"] == "erik@ext.example"
    assert n["Subject"] == "Secure message from ines@corp.example: Q1"
    assert n["Date"] == "Fri, 01 May 2026 12:00:00 +0000"
    assert n["Message-ID"].endswith("@corp.example>")
    assert n["Sensitivity"] == "Private"
    assert (n["In-Reply-To"], n["References"]) == ("<p@x>", "<r@x> <p@x>")
    assert "http://gw/m/T" in n.get_content() and "secret" not in n.get_content()
    assert n["Content-Transfer-Encoding"] == "7bit", "an ASCII notification is plain readable text"
    raw = composer.to_bytes(n)
    assert raw.count(b"\n") == raw.count(b"\r\n")


def test_a_notification_of_a_message_without_subject_or_threading():
    n = notify(b"From: ines@corp.example\r\n\r\nsecret\r\n")
    assert n["Subject"] == "Secure message from ines@corp.example:"
    assert "In-Reply-To" not in n and "References" not in n


def test_the_banner_text_never_reaches_a_notifications_text():
    c = cfg(notification_text="{sender} sent {subject}: {link}")
    n = notify(f"Subject: Fwd: {BANNER}\r\n\r\nx\r\n".encode(), cfg=c)
    assert n.get_content().strip() == "ines@corp.example sent Fwd: [...]: http://gw/m/T"


def test_a_non_ascii_notification_is_quoted_printable():
    n_raw = notices.notification(
        composer.parse("Subject: Grüße\r\n\r\nx\r\n".encode()),
        sender="ines@corp.example",
        recipient="erik@ext.example",
        link="L",
        cfg=cfg(),
        now=NOW,
    )
    assert n_raw.isascii()
    n = composer.parse(n_raw)
    assert n["Content-Transfer-Encoding"] == "quoted-printable"
    assert "Grüße" in n.get_content() and n["Subject"] == "Secure message from ines@corp.example: Grüße"


def test_the_notification_with_body_variant_appends_the_body_to_the_text():
    c = cfg(notification_text="Read it at {link}")
    n = notify(b"Subject: s\r\n\r\nthe secret body\r\n", cfg=c, variant="notification-with-body")
    assert (
        n.get_content().replace("\r\n", "\n")
        == "Read it at http://gw/m/T\n---- Original message ----\nthe secret body\n"
    )


def test_the_read_receipt_of_the_read_receipt_variant():
    original = composer.parse(b"From: ines@corp.example\r\nSubject: Q1\r\nMessage-ID: <o@corp.example>\r\n\r\nx\r\n")
    raw = notices.read_receipt(
        original, reader="erik@ext.example", to="ines@corp.example", now=NOW, domain="corp.example"
    )
    r = composer.parse(raw)
    assert (r["From"], r["To"], r["Subject"]) == ("erik@ext.example", "ines@corp.example", "Read: Q1")
    assert r["Date"] == "Fri, 01 May 2026 12:00:00 +0000"
    assert r["Message-ID"].endswith("@corp.example>") and r["Message-ID"] != "<o@corp.example>"
    assert r["In-Reply-To"] == "<o@corp.example>"
    assert (
        r.get_content().replace("\r\n", "\n")
        == "Your message was read by erik@ext.example on Fri, 01 May 2026 12:00:00 +0000.\n"
    )
    assert raw.count(b"\n") == raw.count(b"\r\n")
    bare = composer.parse(
        notices.read_receipt(
            composer.parse(b"From: a@corp.example\r\n\r\nx\r\n"),
            reader="r@ext.example",
            to="a@corp.example",
            now=NOW,
            domain="d.example",
        )
    )
    assert bare["Subject"].strip() == "Read:" and "In-Reply-To" not in bare


def test_the_header_cut_ends_at_the_first_blank_line_and_names_a_field_by_its_first_colon():
    lf = b"Subject: s\nX-SM-A: 1\n\nX-SM-B: a line of the body\n\nend\n"
    assert composer.plain(lf) == b"Subject: s\n\nX-SM-B: a line of the body\n\nend\n"
    raw = b"B: 2:3\r\nC: 3\r\n\r\nbody"
    assert composer.strip_raw_headers(raw, lambda name: name == "B") == b"C: 3\r\n\r\nbody"
    odd = b" leading fold\r\nCaf\xc3\xa9: x\r\nX-SM-A: 1\r\n\r\nb"
    assert composer.plain(odd) == b" leading fold\r\nCaf\xc3\xa9: x\r\n\r\nb", "a byte no ASCII: still a name"


def test_every_cc_of_a_built_original():
    msg = reparsed(built(cc=["carl@corp.example", "dora@corp.example"]))
    assert composer.addresses(msg, "Cc") == ["carl@corp.example", "dora@corp.example"]
