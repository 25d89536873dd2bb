"""SMTP submission against the gateway process, delivering into a real Mailpit."""

import pytest
from gwtest import make_message, uniq

pytestmark = pytest.mark.sandbox

ALICE = "alice@corp.example"


def by_kind(msgs):
    notif = [m for m in msgs if m["Sensitivity"] == "Private"]
    other = [m for m in msgs if m["Sensitivity"] != "Private"]
    return notif, other


def text_of(msg) -> str:
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_secure_outlook_message_internal_and_external(gateway, mailpit):
    tag = uniq()
    ext, internal = f"{tag}@ext.example", f"{tag}@corp.example"
    raw = make_message(
        frm=ALICE,
        to=[ext, internal],
        subject=f"Plans {tag}",
        text="Top secret plan.\n",
        definition="External",
        html="<html><body><p>Top secret</p></body></html>",
        attachment=b"\x00\x01binary" * 100,
        headers={"Disposition-Notification-To": ALICE},
    )
    code, text = gateway.send(raw, ALICE, [ext, internal])
    assert code == 250 and text.startswith(b"2.0.0 Queued as <"), text
    notif, banner = by_kind(mailpit.wait(tag, 2))
    assert len(notif) == 1 and len(banner) == 1
    n, b = notif[0], banner[0]
    # external recipient: a notification with its own portal link, never the body
    assert n["To"] == ext
    assert "Top secret" not in n.as_string()
    link = next(line for line in text_of(n).splitlines() if "/sm-portal/m/" in line).strip()
    token = link.rsplit("/", 1)[1]
    r = gateway.get(f"/sm-portal/api/messages/{token}")
    assert r.status_code == 200 and r.json()["text"] == "Top secret plan.\n"
    assert r.json()["recipient"] == ext and r.json()["application"] == "outlook"
    # internal recipient (outlook, External): the email with banner, attachment kept, not in the portal
    assert text_of(b).startswith("This message was sent securely using Secure Messaging.\n\nTop secret plan.")
    assert '<div class="sm-banner"' in b.get_body(("html",)).get_content()
    assert [a.get_content() for a in b.iter_attachments()] == [b"\x00\x01binary" * 100]
    assert "Disposition-Notification-To" not in b and "X-SM-Definition" not in b
    assert gateway.portal_items(internal) == []
    assert [i["subject"] for i in gateway.portal_items(ext)] == [f"Plans {tag}"]


def test_not_secure_relayed_unchanged_minus_sm_headers(gateway, mailpit):
    tag = uniq()
    rcpt = f"{tag}@ext.example"
    raw = make_message(
        frm=ALICE,
        to=[rcpt],
        subject=f"Lunch {tag}",
        definition=None,
        application="outlook",
        headers={"X-Custom": "kept"},
    )
    assert gateway.send(raw, ALICE, [rcpt])[0] == 250
    [m] = mailpit.wait(tag)
    assert "X-SM-Application" not in m and m["X-Custom"] == "kept" and m["Sensitivity"] is None
    assert text_of(m) == "Hello there.\n"


def test_mac_application_name_and_case_insensitive_definition(gateway, mailpit):
    tag = uniq()
    rcpt = f"{tag}@corp2.example"
    raw = make_message(frm=ALICE, to=[rcpt], subject=f"Mac {tag}", definition="aLL", application="Mimecast for Mac")
    assert gateway.send(raw, ALICE, [rcpt])[0] == 250
    [m] = mailpit.wait(tag)
    assert text_of(m).startswith("This message was sent securely")


def test_relaying_denied(gateway):
    code, text = gateway.send(b"Subject: x\r\n\r\nx\r\n", "mallory@ext.example", ["bob@corp.example"])
    assert code == 550
    assert text == b"5.7.1 Relaying denied: <mallory@ext.example> is not in an internal domain"
    s = gateway.smtp()
    try:
        assert s.docmd("MAIL FROM:<>") == (550, b"5.7.1 Relaying denied: <> is not in an internal domain")
        assert s.docmd("MAIL FROM:<a@sub.corp.example>")[0] == 550
        assert s.docmd("MAIL FROM:<a@corp.example> SIZE=999999999") == (552, b"5.3.4 Message too big")
    finally:
        s.quit()


def test_too_many_recipients(gateway):
    s = gateway.smtp()
    try:
        assert s.mail(ALICE)[0] == 250
        for i in range(100):
            assert s.rcpt(f"r{i}@ext.example")[0] == 250
        assert s.rcpt("r100@ext.example") == (452, b"4.5.3 Too many recipients (at most 100)")
    finally:
        s.quit()


def test_invalid_mailbox_and_no_rcpt(gateway):
    s = gateway.smtp()
    try:
        assert s.mail(ALICE)[0] == 250
        code, text = s.rcpt("not-a-mailbox")
        assert code == 553 and text.startswith(b"5.1.3 ")
        assert s.docmd("DATA") == (503, b"5.5.1 Error: need RCPT command")
    finally:
        s.quit()


@pytest.mark.parametrize(
    "header,value,expected",
    [
        (
            "X-SM-Definition",
            "Internal",
            b"5.7.0 Unknown Secure Messaging definition 'Internal': Secure Messaging Lite has exactly All, External",
        ),
        (
            "X-SM-Application",
            "mpp",
            b"5.7.0 Unknown application 'mpp' for SMTP submission: use outlook or mac (MPP and SM Portal send over HTTP)",
        ),
        (
            "X-SM-Application",
            "Thunderbird",
            b"5.7.0 Unknown application 'Thunderbird' for SMTP submission: use outlook or mac (MPP and SM Portal send over HTTP)",
        ),
    ],
)
def test_refusals_554(gateway, mailpit, header, value, expected):
    tag = uniq()
    rcpt = f"{tag}@ext.example"
    raw = make_message(frm=ALICE, to=[rcpt], subject=f"Refused {tag}", definition=None, headers={header: value})
    assert gateway.send(raw, ALICE, [rcpt]) == (554, expected)
    assert gateway.portal_items(rcpt) == []


@pytest.mark.parametrize(
    "raw",
    [
        b"this is not a header\r\n\r\nbody\r\n",
        b"Subject: x\r\nX-SM-Definition: All\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n",
    ],
)
def test_malformed(gateway, raw):
    code, text = gateway.send(raw, ALICE, ["x@ext.example"])
    assert code == 554 and text.startswith(b"5.6.0 Malformed message: ")


def test_too_big(start_gateway, mailpit):
    gw = start_gateway("small", max_message_bytes=4096)
    tag = uniq()
    rcpt = f"{tag}@ext.example"
    raw = make_message(frm=ALICE, to=[rcpt], subject=f"Big {tag}", text=("y" * 70 + "\n") * 100)
    assert gw.send(raw, ALICE, [rcpt]) == (552, b"5.3.4 Message too big")
    assert gw.portal_items(rcpt) == []
    small = make_message(frm=ALICE, to=[rcpt], subject=f"Small {tag}")
    assert gw.send(small, ALICE, [rcpt])[0] == 250
