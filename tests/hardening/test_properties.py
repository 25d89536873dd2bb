"""Property-based hardening (hypothesis): the policy through the real gateway, the classifier on what the
gateway produces, and the SMTP front end on arbitrary MIME.

* Policy, for real: a random mix of up to 6 internal and external recipients,
  an application (outlook, mac, mpp) and a definition (All, External); the
  message goes through the gateway into Mailpit, and each recipient's Mail
  Box, MPP and SM Portal outcome, as observed, must equal
  ``harness.source_model.source.expected_cells`` wherever the source requires a cell
  (tests/test_policy_oracle.py checks the same in process; this checks it on
  the wire). 15 examples, no shrinking (each example is real mail).
* Classifier: for random subjects and bodies - including the banner text,
  portal-like links and notification-like subjects - the notification, the
  email with banner and the plain relay the gateway composes are never
  classified ``ambiguous`` (both rule sets matching), and each is classified
  as what it is.
* SMTP submission on arbitrary MIME (in process): whatever the bytes, the
  answer is 250, 552 or 554 - never an internal error (451) that a client
  would retry forever - and every header field of an email with banner comes
  from the original.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy as email_policy
from email.parser import BytesParser

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from harness.drivers.smtp_submission import crlf
from harness.gateway import banner as banner_mod
from harness.gateway import composer, notices
from harness.gateway.clock import Clock
from harness.gateway.config import from_mapping
from harness.gateway.definitions import Catalogue
from harness.gateway.service import Gateway
from harness.gateway.store import Store
from harness.observation.recognition import AMBIGUOUS, BANNER, NOTIFICATION, PLAIN, Rules, classify
from harness.source_model import source

from .support import INTERNAL, SENDER, gwtest, marker

RULES = Rules()
MPP_KIND = {"notification": NOTIFICATION, "email_with_banner": BANNER, "plain": PLAIN}


# -- the policy, through the gateway --------------------------------------------------------------------


def observe(target, rcpt: str, tag: str, body_marker: str, internal: bool) -> dict[str, str]:
    """Mail Box / MPP / Message in SM Portal for one recipient, as the suite's columns name them."""
    [mail] = target.mailbox.wait_for_messages(rcpt, 1, 30, predicate=lambda m: tag in m.subject)
    got = {"Mail Box": classify(mail.subject, mail.text, mail.html, mail.headers, RULES, body_marker).kind}
    if internal:
        items = [i for i in target.gw.mpp_items(target.mpp_session(rcpt)) if tag in i["subject"]]
        assert len(items) <= 1, f"{rcpt} has {len(items)} MPP items for one message"
        got["MPP"] = (
            classify(
                items[0]["subject"], items[0]["text"], items[0]["html"] or "", items[0]["headers"], RULES, body_marker
            ).kind
            if items
            else "none"
        )
    else:
        got["MPP"] = "none"
    listed = [i for i in target.gw.portal_items(rcpt) if tag in i["subject"]]
    got["Message in SM Portal"] = source.YES if listed else source.NO
    return got


@pytest.mark.sandbox
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    app=st.sampled_from(["outlook", "mac", "mpp"]),
    definition=st.sampled_from(["All", "External"]),
    mix=st.lists(st.booleans(), min_size=1, max_size=6),
)
def test_each_recipient_gets_what_the_source_says_on_the_wire(target, tally, app, definition, mix):
    tag, body_marker = marker("pp"), marker("body")
    rcpts = [(f"r{i}.{tag}@{INTERNAL if internal else 'ext.example'}", internal) for i, internal in enumerate(mix)]
    addresses = [a for a, _ in rcpts]
    subject, text = f"Policy {tag}", f"the original body {body_marker}\n"
    if app == "mpp":
        r = target.gw.mpp_send(
            target.mpp_session(SENDER), to=addresses, subject=subject, text=text, definition=definition
        )
        assert r.status_code == 202, r.text
    else:
        raw = gwtest.make_message(
            frm=SENDER, to=addresses, subject=subject, text=text, definition=definition, application=app
        )
        assert target.gw.send(raw, SENDER, addresses)[0] == 250
    ledger = target.ledger()
    for address in addresses:
        ledger.ack(address, tag)
    ledger.settle()  # each recipient's Mail Box got exactly one message
    wrong = []
    for address, internal in rcpts:
        ref, expected = source.expected_cells(app, definition, True, internal)
        got = observe(target, address, tag, body_marker, internal)
        wrong += [
            f"{address} {column}: source {cell.value!r} ({ref}), observed {got[column]!r}"
            for column, cell in expected.items()
            if cell.required and got[column] != cell.value
        ]
    tally.examples("policy on the wire (messages)")
    assert wrong == [], f"{app} / {definition}: " + "; ".join(wrong)


# -- the classifier on what the gateway composes ----------------------------------------------------------

CFG = from_mapping({"internal_domains": [INTERNAL], "database": ":memory:", "admin_token": "-"}, environ={})
LINK = "http://127.0.0.1:8080/sm-portal/m/"
NOW = datetime(2025, 5, 4, 10, 0, tzinfo=UTC)
tricky = st.sampled_from(
    [
        RULES.banner_text,
        "Secure message from mallory@corp.example: ",
        LINK + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "Sensitivity: Private",
        "\n",
        " ",
        "<b>",
        "é",
        "Re: ",
    ]
)
text = st.lists(st.one_of(tricky, st.text(max_size=30)), max_size=6).map("".join)


def _parse(raw: bytes):
    return BytesParser(policy=email_policy.default).parsebytes(raw)


def _classified(raw: bytes, body_marker: str | None = None) -> str:
    msg = _parse(raw)
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    headers = {k: [str(v) for v in msg.get_all(k)] for k in set(msg.keys())}
    subject = " ".join(str(msg.get("Subject", "")).split())  # unfolded and trimmed, as Mailpit reports it
    return classify(
        subject, plain.get_content() if plain else "", html.get_content() if html else "", headers, RULES, body_marker
    ).kind


@settings(max_examples=200, deadline=None)
@given(subject=text, body=text, html=st.one_of(st.none(), text), with_link=st.booleans())
def test_banner_and_notification_rules_never_both_match(tally, subject, body, html, with_link):
    body_marker = "original-body-marker"
    original = composer.build_original(
        sender=SENDER,
        to=[f"bob@{INTERNAL}"],
        cc=[],
        subject=subject,
        text=body + "\n" + body_marker,
        html=None if html is None else f"<p>{html}</p>",
        message_id="<p@corp.example>",
        now=NOW,
    )
    raw = composer.to_bytes(original)
    link = LINK + "B" * 32
    notification = notices.notification(
        original, sender=SENDER, recipient="bob@ext.example", link=link, cfg=CFG, now=NOW
    )
    banner = banner_mod.with_banner(raw, CFG.banner_text, link if with_link else None)
    kinds = {
        "notification": _classified(notification, body_marker),
        "banner": _classified(banner, body_marker),
        "plain": _classified(composer.plain(raw), body_marker),
    }
    tally.examples("classifier on composed mail (messages)", 3)
    assert AMBIGUOUS not in kinds.values(), kinds
    assert kinds["notification"] == NOTIFICATION and kinds["banner"] == BANNER, kinds


# -- SMTP submission on arbitrary MIME ----------------------------------------------------------------------

LINES = st.sampled_from(
    [
        b"Subject: hi",
        b"Subject: =?x-unknown?q?abc?=",
        b"Subject: =?utf-8?b?!!!?=",
        b'To: "unterminated',
        b"To: a@b@c",
        b"From: <>",
        b"Message-ID: <<>>",
        b"Message-ID:",
        b"In-Reply-To: <a",
        b"References: ((((",
        b"X-SM-Definition: All",
        b"X-SM-Definition: External",
        b"X-SM-Application: mac",
        b"MIME-Version: 1.0",
        b"Content-Type: multipart/mixed; boundary=B",
        b'Content-Type: multipart/alternative; boundary=""',
        b"Content-Type: text/plain; charset=utf-7",
        b'Content-Type: text/html; charset="\xff"',
        b"Content-Type: message/rfc822",
        b"Content-Type: text/plain; charset=",
        b"Content-Transfer-Encoding: base64",
        b"Content-Transfer-Encoding: 8bit",
        b"Content-Transfer-Encoding: x-uuencode",
        b"Content-Disposition: attachment; filename*=utf-8''%ff%0d%0aBcc:%20x",
        b'Content-Disposition: inline; filename="a\rX-Evil: 1"',
        b"--B",
        b"--B--",
        b"",
        b"body =E9=",
        b"\xff\xfe\x00",
        b"<html><body>x</body></html>",
        b" folded continuation",
        b"\tmore",
        b"Content-Type: multipart/mixed",
        b"Content-Type: text/html",
        b"Content-Type: application/octet-stream",
        b"Subject: " + b"x" * 990,
    ]
)
_cfg = from_mapping({"internal_domains": [INTERNAL], "database": ":memory:", "admin_token": "-"}, environ={})
_store = Store(":memory:")
_gateway = Gateway(_cfg, _store, Clock(_store, False), Catalogue())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINES, max_size=25), newline=st.sampled_from([b"\r\n", b"\n"]))
def test_smtp_submission_never_fails_internally(tally, lines, newline):
    raw = newline.join(lines) + newline
    reply = _gateway.submit_smtp(SENDER, ["bob@ext.example", f"carol@{INTERNAL}"], raw)
    tally.examples("SMTP submissions of random MIME (in process)")
    assert reply[:3] in ("250", "552", "554") and reply.isascii(), reply
    if reply.startswith("250") and _parse(raw).get("X-SM-Definition"):
        original = {k.lower() for part in _parse(raw).walk() for k in part.keys()}
        stored = crlf(raw)  # what the gateway keeps: SMTP's line ends
        sent = {
            k.lower() for part in _parse(banner_mod.with_banner(stored, "banner", None)).walk() for k in part.keys()
        }
        # a message with nowhere to show the banner gets a banner part of its own (Content-Disposition: inline)
        added = {"content-transfer-encoding", "mime-version", "content-type", "content-disposition"}
        assert sent - original - added == set(), sent - original
