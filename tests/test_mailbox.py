"""harness/mailbox/mailpit.py against a real Mailpit v1.33.1 (one per module, emptied per test)."""

from __future__ import annotations

import smtplib
import threading
from email.message import EmailMessage

import pytest

from harness.errors import HarnessError
from harness.mailbox import mailpit as mailbox
from harness.mailbox.mailpit import MailpitClient
from harness.mailbox.types import Address, WaitTimeout, mailbox_key
from harness.sandbox.mailpit import MailpitProcess
from harness.sandbox.procs import free_port


@pytest.fixture(scope="module")
def mailpit(tmp_path_factory):
    with MailpitProcess(tmp_path_factory.mktemp("mailpit"), chaos=True) as running:
        yield running


@pytest.fixture
def client(mailpit):
    client = MailpitClient(mailpit.api_url)
    client.delete_all()
    return client


def send(mailpit, envelope_to, subject="hello", *, to_header=None, cc_header=None, build=None):
    message = EmailMessage()
    message["From"] = "Alice Sender <alice@corp.example>"
    message["To"] = to_header or ", ".join(envelope_to)
    if cc_header:
        message["Cc"] = cc_header
    message["Subject"] = subject
    message.set_content("plain body")
    if build:
        build(message)
    with smtplib.SMTP(mailpit.smtp_host, mailpit.smtp_port, timeout=5) as smtp:
        smtp.send_message(message, to_addrs=list(envelope_to))


def test_wait_for_messages_sees_mail_sent_later(mailpit, client):
    later = threading.Timer(0.2, send, args=(mailpit, ["bob@ext.example"], "sent later"))
    later.start()
    try:
        got = client.wait_for_messages("bob@ext.example", deadline_s=5)
    finally:
        later.join()
    assert [m.subject for m in got] == ["sent later"]


def test_wait_for_messages_polls_without_the_event_stream(mailpit, client, monkeypatch):
    monkeypatch.setattr(mailbox.EventStream, "open", classmethod(lambda cls, url: None))
    later = threading.Timer(0.1, send, args=(mailpit, ["bob@ext.example"], "polled"))
    later.start()
    try:
        assert [m.subject for m in client.wait_for_messages("bob@ext.example", deadline_s=5)] == ["polled"]
    finally:
        later.join()


def test_message_has_every_part(mailpit, client):
    def enrich(message):
        message["X-Multi"] = "one"
        message["X-Multi"] = "two"
        message.add_alternative("<p>html body</p>", subtype="html")
        message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="doc.pdf")

    send(
        mailpit,
        ["bob@ext.example", "carol@ext.example"],
        "Grüße",
        cc_header="carol@ext.example",
        to_header='"Smith, Bob" <bob@ext.example>',
        build=enrich,
    )
    [message] = client.wait_for_messages("bob@ext.example")
    assert message.sender == "alice@corp.example" and message.from_.name == "Alice Sender"
    assert message.to == (Address("bob@ext.example", "Smith, Bob"),) and message.to[0].name == "Smith, Bob"
    assert message.cc == ("carol@ext.example",) and ", ".join(message.to) == "bob@ext.example"
    assert message.subject == "Grüße" and message.date is not None
    assert message.text.strip() == "plain body" and "html body" in message.html
    assert message.headers["X-Multi"] == ["one", "two"] and message.header("x-multi") == ["one", "two"]
    assert all(isinstance(values, list) for values in message.headers.values())
    assert message.message_id and message.header("Message-ID") == [f"<{message.message_id}>"]
    [pdf] = message.attachments
    assert (pdf.filename, pdf.content_type, pdf.size) == ("doc.pdf", "application/pdf", len(b"%PDF-1.4 fake"))
    assert message.raw.startswith(b"") and b"Subject: =?utf-8?" in message.raw and b"doc.pdf" in message.raw
    assert client.message(message.id) is message, "messages are cached: Mailpit never changes them"


@pytest.mark.parametrize(
    "address, decoys",
    [
        (
            "bob.smith+tag@ext.example",
            [
                "xbob.smith+tag@ext.example",
                "bob.smith+tag@ext.example.org",
                "bob.smith@ext.example",
                "bobXsmith+tag@ext.example",
            ],
        ),
        ("o'brien@ext.example", ["do'brien@ext.example"]),
        ("under_score%pct@ext.example", ["underXscore%pct@ext.example", "under_score%pctX@ext.example"]),
        ('"odd quoted"@ext.example', ['"odd quoted too"@ext.example', "quoted@ext.example"]),
    ],
)
def test_messages_to_matches_the_exact_address_only(mailpit, client, address, decoys):
    for decoy in decoys:
        send(mailpit, [decoy], "decoy")
    send(mailpit, [address], "for the address")
    client.wait_for_messages(address)
    assert [s.subject for s in client.messages_to(address)] == ["for the address"]
    assert [s.subject for s in client.messages_to(address.upper())] == ["for the address"]
    assert [s.subject for s in client.messages_to(address, by="headers")] == ["for the address"]


def test_messages_to_finds_cc_and_envelope_only_recipients(mailpit, client):
    send(mailpit, ["dave@ext.example"], "cc", to_header="someone@ext.example", cc_header="dave@ext.example")
    send(mailpit, ["erin@ext.example"], "bcc only", to_header="someone@ext.example")
    assert [s.subject for s in client.messages_to("dave@ext.example")] == ["cc"]
    assert [s.subject for s in client.messages_to("erin@ext.example")] == ["bcc only"]


def test_envelope_vs_headers_for_per_recipient_and_batched_deliveries(mailpit, client):
    for rcpt in ("x@ext.example", "y@ext.example"):  # one transaction per recipient, as the gateway does
        send(mailpit, [rcpt], "fan-out", to_header="x@ext.example, y@ext.example")
    send(mailpit, ["p@ext.example", "q@ext.example"], "batched")  # one transaction, two recipients
    client.wait_for_messages("p@ext.example")
    assert [s.subject for s in client.messages_to("y@ext.example")] == ["fan-out"]
    assert len(client.messages_to("y@ext.example", by="headers")) == 2
    assert [s.subject for s in client.messages_to("q@ext.example", by="headers")] == ["batched"]
    assert client.messages_to("q@ext.example") == [], "Mailpit records only the first envelope recipient"
    with pytest.raises(ValueError):
        client.messages_to("q@ext.example", by="nonsense")


def test_results_are_oldest_first_across_pages(mailpit, client, monkeypatch):
    monkeypatch.setattr(mailbox, "_PAGE", 3)
    for number in range(7):
        send(mailpit, ["paged@ext.example"], f"message {number}")
    subjects = [m.subject for m in client.wait_for_messages("paged@ext.example", count=7)]
    assert subjects == [f"message {number}" for number in range(7)]
    assert client.count() == 7


def test_predicate_filters_and_is_named_in_the_timeout(mailpit, client):
    send(mailpit, ["bob@ext.example"], "not secure")
    send(mailpit, ["bob@ext.example"], "Secure message from alice")

    def is_notification(message):
        """a notification"""
        return message.subject.startswith("Secure message")

    assert [m.subject for m in client.wait_for_messages("bob@ext.example", predicate=is_notification)] == [
        "Secure message from alice"
    ]
    with pytest.raises(WaitTimeout) as caught:
        client.wait_for_messages("bob@ext.example", count=2, deadline_s=0.3, predicate=is_notification)
    assert "matching a notification" in str(caught.value) and "saw 2 (1 matching)" in str(caught.value)


def test_timeout_says_what_was_expected_and_seen(mailpit, client):
    send(mailpit, ["bob@ext.example"], "the only one")
    send(mailpit, ["carol@ext.example"], "for carol, naming bob", to_header="carol@ext.example, bob@ext.example")
    client.wait_for_messages("carol@ext.example")
    with pytest.raises(WaitTimeout) as caught:
        client.wait_for_messages("bob@ext.example", count=2, deadline_s=0.4)
    error = caught.value
    assert isinstance(error, AssertionError)
    [seen] = client.messages_to("bob@ext.example")
    assert str(error).startswith("expected 2 message(s) to bob@ext.example within 0.4s, saw 1")
    assert f"{seen.id} 'the only one'" in str(error)
    assert "received for another envelope recipient" in str(error) and "for carol, naming bob" in str(error)
    assert error.wait.expected == 2 and error.wait.seen == (seen,) and error.wait.deadline_s == 0.4


def test_delete_all_and_count(mailpit, client):
    send(mailpit, ["a@ext.example", "b@ext.example"], "one")
    client.wait_for_messages("a@ext.example")
    assert client.count() == 1
    client.delete_all()
    assert client.count() == 0 and client.messages_to("a@ext.example") == []


def test_chaos_makes_mailpit_refuse_recipients(mailpit, client):
    client.set_chaos(recipient=(451, 100))
    try:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            send(mailpit, ["bob@ext.example"], "refused")
    finally:
        client.set_chaos()
    send(mailpit, ["bob@ext.example"], "accepted again")
    assert [m.subject for m in client.wait_for_messages("bob@ext.example")] == ["accepted again"]


def test_unreachable_mailpit_is_a_harness_error():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(HarnessError) as caught:
        MailpitClient(url, timeout_s=1).messages_to("bob@ext.example")
    assert caught.value.title == f"Mailpit unreachable at {url}"
    with pytest.raises(HarnessError, match="Mailpit unreachable"):
        MailpitClient(url, timeout_s=1).wait_for_messages("bob@ext.example", deadline_s=0.2)


def test_unknown_message_id_is_reported(mailpit, client):
    with pytest.raises(HarnessError) as caught:
        client.message("no-such-id")
    assert "404" in str(caught.value.observed)


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ('"Anne Van"@Ext.example', "anne van@ext.example", True),  # quoted in a Received field, not in Mailpit's list
        ('"a\\"b"@ext.example', 'a"b@ext.example', True),  # a quoted-pair
        ('"anne van"@ext.example', "anne.van@ext.example", False),
        ('"anne"x@ext.example', "annex@ext.example", False),  # not a quoted string: compared as written
    ],
)
def test_a_quoted_local_part_is_one_mailbox_however_it_is_written(one, other, same):
    assert (mailbox_key(one) == mailbox_key(other)) is same
