"""Unit tests of harness.gateway.composer: banner, notification, plain relay, MIME checks."""

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage

import pytest

from harness.gateway import banner, composer, notices
from harness.gateway.config import from_mapping

ATTACHMENT = bytes(range(256)) * 40
BANNER = "This message was sent securely using Secure Messaging."
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def cfg(**over):
    return from_mapping(
        {"internal_domains": ["corp.example"], "database": ":memory:", "admin_token": "x", **over}, environ={}
    )


def original(**extra) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = "alice@corp.example"
    msg["To"] = "bob@ext.example, carol@corp.example"
    msg["Subject"] = "Quarterly <figures> & more"
    msg["Message-ID"] = "<orig-1@corp.example>"
    msg["In-Reply-To"] = "<parent@corp.example>"
    msg["References"] = "<root@corp.example> <parent@corp.example>"
    msg["Disposition-Notification-To"] = "alice@corp.example"
    msg["Return-Receipt-To"] = "alice@corp.example"
    msg["X-SM-Definition"] = "All"
    msg["X-SM-Application"] = "outlook"
    for k, v in extra.items():
        msg[k] = v
    msg.set_content("The secret body text.\nLine two.\n")
    msg.add_alternative(
        "<html><head><title>t</title></head><body class='x'><p>The secret <b>body</b></p></body></html>", subtype="html"
    )
    msg.add_attachment(ATTACHMENT, maintype="application", subtype="pdf", filename="report.pdf")
    return msg.as_bytes()


def content(part) -> str:
    return part.get_content().replace("\r\n", "\n")


def text_parts(msg):
    return [p for p in msg.walk() if p.get_content_maintype() == "text" and not p.is_attachment()]


def test_banner_in_every_text_part_attachment_untouched():
    raw = original()
    out = composer.parse(banner.with_banner(raw, BANNER, "http://gw/sm-portal/m/TOKEN"))
    before = next(composer.parse(raw).iter_attachments())
    assert out.get_content_type() == "multipart/mixed"
    plain = content(out.get_body(("plain",)))
    html = content(out.get_body(("html",)))
    assert plain.startswith(BANNER + "\n")
    assert "http://gw/sm-portal/m/TOKEN" in plain.split("\n\n", 1)[0]
    assert "The secret body text." in plain
    assert "<body class='x'><div class=\"sm-banner\"" in html
    assert "The secret <b>body</b>" in html
    atts = list(out.iter_attachments())
    assert len(atts) == 1 and atts[0].get_content() == ATTACHMENT
    assert atts[0].get_filename() == "report.pdf"
    assert atts[0].get_payload() == before.get_payload()  # the encoded bytes too, not only the decoded ones
    assert len(text_parts(out)) == 2


def test_banner_strips_receipts_and_sm_headers_keeps_threading():
    out = composer.parse(banner.with_banner(original(), BANNER, None))
    for name in ("Disposition-Notification-To", "Return-Receipt-To", "X-SM-Definition", "X-SM-Application"):
        assert name not in out
    assert out["Message-ID"] == "<orig-1@corp.example>"
    assert out["In-Reply-To"] == "<parent@corp.example>"
    assert out["References"] == "<root@corp.example> <parent@corp.example>"
    assert "sm-portal" not in content(out.get_body(("plain",)))


def test_banner_single_part_and_html_without_body_tag():
    raw = b"From: a@corp.example\r\nTo: b@corp.example\r\nSubject: s\r\nX-SM-Definition: All\r\n\r\nhello\r\n"
    out = composer.parse(banner.with_banner(raw, BANNER, None))
    assert content(out) == BANNER + "\n\nhello\n"
    assert banner.banner_html("<p>x</p>", "B & <b>", None).startswith('<div class="sm-banner"')
    assert "B &amp; &lt;b&gt;" in banner.banner_html("<p>x</p>", "B & <b>", None)


def test_banner_keeps_non_ascii_text():
    raw = (
        b"From: a@corp.example\r\nSubject: s\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    ) + "Grüße\r\n".encode("latin-1")
    out = composer.parse(banner.with_banner(raw, BANNER, None))
    assert content(out).endswith("Grüße\n")


def test_notification_has_no_body_and_is_private():
    orig = composer.parse(original())
    n = composer.parse(
        notices.notification(
            orig,
            sender="alice@corp.example",
            recipient="bob@ext.example",
            link="http://gw/sm-portal/m/TOK",
            cfg=cfg(),
            now=NOW,
        )
    )
    text = content(n)
    assert "secret" not in text and "secret" not in n.as_string()
    assert "http://gw/sm-portal/m/TOK" in text
    assert n["Sensitivity"] == "Private"
    assert n["To"] == "bob@ext.example"
    assert n["From"].addresses[0].addr_spec == "secure-messaging@corp.example"
    assert n["From"].addresses[0].display_name == "Secure Messaging"
    assert n["Subject"] == "Secure message from alice@corp.example: Quarterly <figures> & more"
    assert n["In-Reply-To"] == "<parent@corp.example>"
    assert n["References"] == "<root@corp.example> <parent@corp.example>"
    assert "Disposition-Notification-To" not in n
    assert not n.is_multipart() and not list(n.iter_attachments())


def test_notification_variants():
    orig = composer.parse(original())
    kw = {"sender": "a@corp.example", "recipient": "b@ext.example", "link": "L", "cfg": cfg(), "now": NOW}
    assert "secret body" in composer.parse(
        notices.notification(orig, variant="notification-with-body", **kw)
    ).get_content().replace("\r\n", "\n")
    assert "Sensitivity" not in composer.parse(notices.notification(orig, variant="no-private-marker", **kw))


def test_notification_templates_from_config():
    c = cfg(
        notification_subject="[secure] {subject}",
        notification_text="Go to {link} ({sender})",
        notification_from="noreply@corp.example",
    )
    n = composer.parse(
        notices.notification(
            composer.parse(original()), sender="a@corp.example", recipient="b@ext.example", link="L1", cfg=c, now=NOW
        )
    )
    assert n["Subject"] == "[secure] Quarterly <figures> & more"
    assert content(n).strip() == "Go to L1 (a@corp.example)"
    assert n["From"].addresses[0].addr_spec == "noreply@corp.example"


def test_plain_strips_only_sm_headers_byte_exact():
    raw = (
        b"From: a@corp.example\r\nX-SM-Application: outlook\r\nSubject: s\r\n"
        b"X-SM-Custom: folded\r\n continued\r\nX-SMTP-Keep: yes\r\nDisposition-Notification-To: a@corp.example\r\n"
        b"\r\nbody\r\nX-SM-Definition: not a header here\r\n"
    )
    assert composer.plain(raw) == (
        b"From: a@corp.example\r\nSubject: s\r\nX-SMTP-Keep: yes\r\n"
        b"Disposition-Notification-To: a@corp.example\r\n"
        b"\r\nbody\r\nX-SM-Definition: not a header here\r\n"
    )


@pytest.mark.parametrize(
    "raw,reason",
    [
        (b"this is not a header\r\n\r\nbody\r\n", "no header block"),
        (b"\r\nbody only\r\n", "no header block"),
        (b"Subject: x\r\nContent-Type: multipart/mixed\r\n\r\nhello\r\n", "without a boundary"),
        (b"Subject: x\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\nno parts\r\n", "boundary never occurs"),
        (b"Subject: x\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\nhello\r\n", "undecodable"),
    ],
)
def test_malformed(raw, reason):
    assert reason in composer.malformed_reason(composer.parse(raw))


def test_well_formed():
    assert composer.malformed_reason(composer.parse(original())) is None
