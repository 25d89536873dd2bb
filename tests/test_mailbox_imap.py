"""harness/mailbox/imap.py against a real Postfix -> LMTP -> Dovecot (harness/sandbox/mailserver.py), compared
with harness/mailbox/mailpit.py on a real Mailpit given the very same messages; and the [mailbox] profile table.

The mail path is Debian's dovecot-imapd, dovecot-lmtpd and postfix (scripts/bootstrap installs them as
root); without them, or without root (Postfix's master needs it), these tests are skipped, saying why.
"""

from __future__ import annotations

import email.policy
import secrets
import smtplib
import threading
import time
from email.message import EmailMessage

import pytest

from harness.errors import HarnessError, UsageError
from harness.mailbox import imap as mailbox_imap
from harness.mailbox.backends import Mailbox, open_mailbox
from harness.mailbox.imap import ImapMailbox, ImapSettings, html_to_text, parse_message
from harness.mailbox.mailpit import MailpitClient
from harness.mailbox.types import WaitTimeout
from harness.profile.schema import from_dict, load, to_toml
from harness.sandbox import mailserver
from harness.sandbox.mailpit import MailpitProcess
from harness.sandbox.procs import free_port

DOMAINS = ["corp.example", "ext.example"]
needs_mail_path = pytest.mark.skipif(
    mailserver.available() is not None, reason=f"no IMAP mail path: {mailserver.available()}"
)


@pytest.fixture(scope="module")
def mail_path(tmp_path_factory):
    if mailserver.available() is not None:
        pytest.skip(f"no IMAP mail path: {mailserver.available()}")
    path = mailserver.MailPath(DOMAINS).start()  # pytest's tmp dirs are 0700: Postfix could not walk in
    sessions = set(path._sessions)
    try:
        yield path
    finally:
        path.stop()
    assert mailserver._sessions_members(sessions) == [], "Dovecot or Postfix outlived the test session"


@pytest.fixture(scope="module")
def mailpit(tmp_path_factory):
    with MailpitProcess(tmp_path_factory.mktemp("mailpit")) as running:
        yield running


@pytest.fixture
def imap(mail_path):
    box = ImapMailbox(ImapSettings.from_profile(mail_path.mailbox_settings()))
    yield box
    box.close()


def unique(local: str, domain: str = "ext.example") -> str:
    return f"{local}.{secrets.token_hex(3)}@{domain}"


def rich_message(to: str, cc: str, subject: str) -> EmailMessage:
    """Text, HTML, an inline image and two attachments: what a notification or banner mail may hold."""
    message = EmailMessage(policy=email.policy.SMTP)  # CRLF, as the gateway writes it
    message["From"] = "Alice Sender <alice@corp.example>"
    message["To"] = f"Bob Receiver <{to}>"
    message["Cc"] = cc
    # the gateway's notification subject: folded right after "Subject:", so the value starts on line two
    message["Subject"] = f"Secure message from sara.lopez.e14390@corp.example: To chance number [{subject}]"
    message["Sensitivity"] = "Private"
    message["Message-ID"] = f"<{secrets.token_hex(8)}@corp.example>"
    message["Date"] = "Sat, 28 Nov 2026 10:00:00 +0100"  # without one, Postfix adds its own, Mailpit its arrival time
    message.set_content("Plain body\nwith a link https://gw.example/sm-portal/m/abcdefghijklmnopqrstuvwx\n")
    message.add_alternative("<html><body><p>HTML <b>body</b></p><img src='cid:logo'></body></html>", subtype="html")
    message.get_payload()[1].add_related(b"\x89PNG fake image", "image", "png", cid="<logo>")
    message.add_attachment(b"%PDF-1.4 attachment", maintype="application", subtype="pdf", filename="terms.pdf")
    message.add_attachment("a,b\n1,2\n", subtype="csv", filename="data.csv")
    return message


def deliver(host: str, port: int, message: EmailMessage | bytes, envelope_to: list[str]) -> None:
    raw = message if isinstance(message, bytes) else message.as_bytes()
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        smtp.sendmail("alice@corp.example", envelope_to, raw)


# -- the same observations as Mailpit's ------------------------------------------------


@needs_mail_path
def test_imap_sees_what_mailpit_sees(mail_path, mailpit, imap):
    to, cc, hidden = unique("bob"), unique("carol"), unique("dave")
    message = rich_message(to, cc, secrets.token_hex(3)).as_bytes()  # once: the same boundaries everywhere
    deliver(mail_path.host, mail_path.smtp_port, message, [to, hidden])
    deliver(mailpit.smtp_host, mailpit.smtp_port, message, [to])
    deliver(mailpit.smtp_host, mailpit.smtp_port, message, [hidden])
    pit = MailpitClient(mailpit.api_url)
    for address in (to, hidden):
        [a] = imap.wait_for_messages(address, deadline_s=15)
        [b] = pit.wait_for_messages(address, deadline_s=15)
        for name in ("subject", "from_", "to", "cc", "bcc", "reply_to", "message_id", "date"):
            assert getattr(a, name) == getattr(b, name), name
        assert a.from_.name == b.from_.name == "Alice Sender"
        assert a.text.strip() == b.text.strip() and a.html.strip() == b.html.strip()
        key = lambda att: (att.filename, att.content_type, att.size, att.content_id)  # noqa: E731
        assert sorted(map(key, a.attachments)) == sorted(map(key, b.attachments))
        assert sorted(map(key, a.inline)) == sorted(map(key, b.inline))
        for header in ("Sensitivity", "Subject", "Message-ID", "Content-Type", "To", "Cc"):
            assert a.header(header) == b.header(header), header
        assert b"%PDF" not in a.raw or a.size == len(a.raw)  # raw is the delivered message itself
        assert b'Content-Disposition: attachment; filename="terms.pdf"' in a.raw
    # the envelope decides the mailbox: dave is in no header, and only his own mailbox has him (under Bcc)
    [dave] = imap.messages_to(hidden)
    assert hidden in dave.bcc and hidden not in dave.to
    assert imap.messages_to(cc) == []  # Cc'd but not an envelope recipient: nothing delivered


@needs_mail_path
def test_html_only_mail_gets_a_text_from_its_html_as_in_mailpit(mail_path, mailpit, imap):
    to = unique("erin")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@corp.example", to, "html only"
    message.set_content("<p>This message was sent securely &amp; <b>privately</b>.</p>", subtype="html")
    deliver(mail_path.host, mail_path.smtp_port, message, [to])
    deliver(mailpit.smtp_host, mailpit.smtp_port, message, [to])
    [a] = imap.wait_for_messages(to, deadline_s=15)
    [b] = MailpitClient(mailpit.api_url).wait_for_messages(to, deadline_s=15)
    assert "This message was sent securely & privately." in a.text
    # the same words; Mailpit's html2text also marks bold as *x* (docs/vendors.md, "Observing through IMAP")
    assert " ".join(a.text.split()) == " ".join(b.text.replace("*", "").split())


# -- waiting -------------------------------------------------------------------------


@needs_mail_path
def test_wait_wakes_on_a_delivery_made_while_waiting(mail_path, imap):
    to = unique("frank")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@corp.example", to, "sent later"
    message.set_content("later")
    imap.messages_to(to)  # the mailbox exists and is empty before the wait starts
    later = threading.Timer(0.3, deliver, args=(mail_path.host, mail_path.smtp_port, message, [to]))
    started = time.monotonic()
    later.start()
    try:
        got = imap.wait_for_messages(to, deadline_s=15)
    finally:
        later.join()
    assert [m.subject for m in got] == ["sent later"] and time.monotonic() - started < 10


def plain(to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@corp.example", to, subject
    message.set_content(subject)
    return message


@needs_mail_path
def test_idle_wakes_the_wait_long_before_its_recheck(mail_path, imap, monkeypatch):
    monkeypatch.setattr(mailbox_imap, "_IDLE_SLICE_S", 60.0)  # only the server's EXISTS can end the IDLE early
    to = unique("ivy")
    imap.messages_to(to)
    later = threading.Timer(0.2, deliver, args=(mail_path.host, mail_path.smtp_port, plain(to, "pushed"), [to]))
    started = time.monotonic()
    later.start()
    try:
        got = imap.wait_for_messages(to, deadline_s=50)
    finally:
        later.join()
    assert [m.subject for m in got] == ["pushed"] and time.monotonic() - started < 10


@needs_mail_path
def test_without_idle_the_wait_polls_to_its_deadline(mail_path, imap, monkeypatch):
    monkeypatch.setattr(mailbox_imap.IMAPClient, "capabilities", lambda self: (b"IMAP4REV1",))
    monkeypatch.setattr(mailbox_imap.ImapMailbox, "_idle", lambda *a: pytest.fail("IDLE used without IDLE"))
    to = unique("jay")
    later = threading.Timer(0.2, deliver, args=(mail_path.host, mail_path.smtp_port, plain(to, "polled"), [to]))
    later.start()
    try:
        assert [m.subject for m in imap.wait_for_messages(to, deadline_s=15)] == ["polled"]
    finally:
        later.join()


@needs_mail_path
def test_a_dropped_connection_is_reopened_and_logins_are_capped(mail_path, imap):
    to = unique("kim")
    deliver(mail_path.host, mail_path.smtp_port, plain(to, "after a drop"), [to])
    imap.wait_for_messages(to, deadline_s=15)
    login = imap.settings.login_for(to)
    imap._clients[login].shutdown()  # the server side sees the socket close: a dropped connection
    fresh = ImapMailbox(imap.settings)
    fresh._clients[login] = imap._clients.pop(login)  # a dead connection it believes open
    assert [m.subject for m in fresh.wait_for_messages(to, deadline_s=15)] == ["after a drop"]
    for n in range(mailbox_imap.MAX_CONNECTIONS + 3):
        fresh.messages_to(unique(f"many{n}"))
    assert len(fresh._clients) == mailbox_imap.MAX_CONNECTIONS
    fresh.close()


@needs_mail_path
def test_a_timeout_says_what_was_expected_and_what_came(mail_path, imap):
    to = unique("gina")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@corp.example", to, "only one"
    message.set_content("one")
    deliver(mail_path.host, mail_path.smtp_port, message, [to])
    imap.wait_for_messages(to, deadline_s=15)
    with pytest.raises(WaitTimeout) as caught:
        imap.wait_for_messages(to, count=2, deadline_s=0.5)
    assert caught.value.wait.expected == 2 and [s.subject for s in caught.value.wait.seen] == ["only one"]
    assert f"expected 2 message(s) to {to}" in str(caught.value) and "'only one'" in str(caught.value)


@needs_mail_path
def test_master_user_login_reads_any_mailbox_and_purge_empties_one(mail_path):
    to = unique("hank", "corp.example")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@corp.example", to, "for the master"
    message.set_content("m")
    deliver(mail_path.host, mail_path.smtp_port, message, [to])
    box = ImapMailbox(ImapSettings.from_profile(mail_path.mailbox_settings(master=True)))
    try:
        [got] = box.wait_for_messages(to, deadline_s=15)
        assert got.subject == "for the master" and got.id.startswith(f"{to}/INBOX/")
        assert box.message(got.id) is got
        other = ImapMailbox(box.settings)
        assert other.message(got.id).raw == got.raw  # an id alone finds its mailbox
        with pytest.raises(HarnessError, match="Not an IMAP message id"):
            other.message("61dPCW7TCmkTx155V5dFXr")  # a Mailpit id
        assert box.purge(to) == 1 and box.messages_to(to) == []
        assert other.messages_to(to) == []  # expunged elsewhere: forgotten here too
        with pytest.raises(HarnessError, match="IMAP message not found"):
            other.message(got.id)
        other.close()
    finally:
        box.close()


@needs_mail_path
def test_bad_credentials_and_no_server_are_clear_errors(mail_path):
    wrong = ImapMailbox(ImapSettings(mail_path.host, mail_path.imap_port, tls="none", password="wrong"))
    with pytest.raises(HarnessError, match="IMAP login refused"):
        wrong.messages_to("x@corp.example")
    nobody = ImapMailbox(ImapSettings("127.0.0.1", free_port(), tls="none", password="x", timeout_s=2))
    with pytest.raises(HarnessError, match=r"IMAP unreachable at 127\.0\.0\.1"):
        nobody.wait_for_messages("x@corp.example", deadline_s=0.5)


def test_the_mail_path_leaves_no_process_behind(tmp_path):
    if mailserver.available() is not None:
        pytest.skip(f"no IMAP mail path: {mailserver.available()}")
    with pytest.raises(HarnessError, match="not world-searchable"):
        mailserver.MailPath(["corp.example"], tmp_path / "closed").start()  # pytest's tmp dirs are 0700
    with mailserver.MailPath(["corp.example"]) as path:
        running = path.leftover_pids()
        master = int((path.run_dir / "postfix/queue/pid/master.pid").read_text().split()[0])
        assert master in running and path.dovecot.pid in running and len(running) >= 4
    assert path.leftover_pids() == [] and mailserver._sessions_members({master, path.dovecot.pid}) == []


# -- pure logic: parsing, settings, the profile -------------------------------------------


def test_no_root_or_no_packages_is_said_in_one_line(monkeypatch):
    monkeypatch.setattr(mailserver.os, "geteuid", lambda: 1000)
    reason = mailserver.available()
    assert reason is not None and ("root" in reason or "apt-get install" in reason)
    with pytest.raises(HarnessError, match="Cannot start the IMAP mail path"):
        mailserver.MailPath(["corp.example"])


def test_parse_message_handles_an_undecodable_date_and_no_text():
    raw = (
        b"From: x@a.example\r\nTo: y@b.example\r\nDate: not a date\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
        b"Content-Type: text/html\r\n\r\n<p>a&nbsp;b</p>\r\n"
    )
    message = parse_message("u/INBOX/1/1", raw, "y@b.example")
    assert message.date is None and message.subject == "Grüße" and message.text == "a\xa0b"
    assert message.headers["Subject"] == ["=?utf-8?q?Gr=C3=BC=C3=9Fe?="] and message.bcc == ()
    assert html_to_text("<style>x{}</style><p>one</p><p>two</p>").split() == ["one", "two"]


def test_user_pattern_and_password_env():
    settings = ImapSettings.from_profile(
        {"kind": "imap", "host": "h", "user": "{local}+{domain}", "password_env": "SMLITE_TEST_IMAP_PW"},
        env={"SMLITE_TEST_IMAP_PW": "s"},
    )
    assert settings.login_for("Bob@Corp.Example") == "bob+corp.example" and settings.password == "s"
    assert settings.port == 993 and settings.tls == "implicit"
    with pytest.raises(HarnessError, match=r"\$SMLITE_NOT_SET, which is not set"):
        ImapSettings.from_profile({"kind": "imap", "host": "h", "password_env": "SMLITE_NOT_SET"}, env={})


BASE = {"name": "v", "target": {"http": "http://x:1", "smtp": "x:2"}}


def test_a_profile_without_mailbox_is_read_as_before_and_opens_mailpit():
    profile = from_dict({**BASE, "mailpit": {"api": "http://127.0.0.1:9"}})
    assert profile.mailbox == {} and "[mailbox]" not in to_toml(profile)
    assert isinstance(open_mailbox(profile), MailpitClient) and isinstance(open_mailbox(profile), Mailbox)


def test_an_imap_profile_needs_no_mailpit_masks_its_password_and_round_trips(tmp_path):
    table = {
        "kind": "imap",
        "host": "imap.example",
        "port": 1143,
        "tls": "starttls",
        "user": "{address}",
        "password": "hunter2",
        "folder": "INBOX",
    }
    profile = from_dict({**BASE, "mailbox": table})
    assert profile.mailpit == {} and profile.public_dict()["mailbox"]["password"] == "***"
    assert isinstance(open_mailbox(profile), ImapMailbox) and isinstance(open_mailbox(profile), Mailbox)
    (tmp_path / "p.toml").write_text(to_toml(profile))
    assert load(tmp_path / "p.toml").mailbox == table


@pytest.mark.parametrize(
    "table, message",
    [
        ("imap", "[mailbox] must be a table"),
        ({"kind": "pop3"}, "mailbox.kind must be one of mailpit, imap"),
        ({"kind": "imap", "password": "x"}, "mailbox.host must be a host name"),
        ({"kind": "imap", "host": "h"}, "exactly one of 'password' and 'password_env'"),
        ({"kind": "imap", "host": "h", "password": "x", "password_env": "Y"}, "exactly one of"),
        ({"kind": "imap", "host": "h", "password": "x", "tls": "yes"}, "mailbox.tls must be"),
        ({"kind": "imap", "host": "h", "password": "x", "port": 0}, "mailbox.port must be a port number"),
        ({"kind": "imap", "host": "h", "password": "x", "user": "{email}"}, "mailbox.user must use"),
        ({"kind": "imap", "host": "h", "password": "x", "user": "fixed"}, "mailbox.user must use"),
        ({"kind": "imap", "host": "h", "password_env": "1X"}, "environment variable name"),
        ({"kind": "imap", "host": "h", "password": "x", "ssl": True}, "[mailbox] has unknown keys ssl"),
        ({"kind": "mailpit", "host": "h"}, "takes no other keys"),
    ],
)
def test_bad_mailbox_tables_are_named(table, message):
    with pytest.raises(UsageError) as caught:
        from_dict({**BASE, "mailbox": table})
    assert message in str(caught.value)


def test_kind_mailpit_still_needs_the_mailpit_api():
    with pytest.raises(UsageError, match=r"\[mailpit\] with 'api' is required"):
        from_dict({**BASE, "mailbox": {"kind": "mailpit"}})
