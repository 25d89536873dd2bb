"""Proven absence (harness/observation/) against real SMTP and a real Mailpit v1.33.1.

The "target" here is a small aiosmtpd relay in front of Mailpit, so that its
delivery can be controlled: in order, dropping everything, *reordering* — it
holds one message and releases it right after the next one (so a barrier
overtakes the message sent before it) — or *jittering*: each message delayed
by a random 0–0.6 s in its own thread, so deliveries overtake each other. The
driver sends to it over SMTP; nothing is mocked on the mail path.

Absence needs a barrier that arrived *and* the latency bound since the message
was accepted: nothing assumes that mail arrives in the order it was sent,
unless the profile declares ``delivers_in_order``.
"""

from __future__ import annotations

import io
import random
import smtplib
import threading
import time
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from harness.drivers.base import Driver, Outgoing, Response
from harness.errors import DeliveryTimeout
from harness.mailbox.mailpit import MailpitClient
from harness.observation.observer import Observer
from harness.observation.recognition import NOTHING, Rules
from harness.observation.waiting import BARRIER_SUBJECT, LatencyTracker
from harness.profile.schema import TargetProfile
from harness.sandbox.mailpit import MailpitProcess
from harness.sandbox.procs import free_port

JITTER_S = 0.6


class Relay:
    """aiosmtpd handler forwarding to Mailpit; ``mode``: "in-order", "drop" or "reorder" (hold one, release it after the next)."""

    def __init__(self, mailpit: MailpitProcess):
        self.mailpit, self.mode = mailpit, "in-order"
        self.held: tuple[str, list[str], bytes] | None = None
        self.lock = threading.Lock()
        self.rng = random.Random(7)

    def forward(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> None:
        with smtplib.SMTP(self.mailpit.smtp_host, self.mailpit.smtp_port, timeout=5) as smtp:
            smtp.sendmail(mail_from, rcpt_tos, data)

    async def handle_DATA(self, server, session, envelope):
        message = (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        with self.lock:
            if self.mode == "drop":
                return "250 dropped"
            if self.mode == "reorder" and self.held is None:
                self.held = message
                return "250 held"
            if self.mode == "jitter":
                later = threading.Timer(self.rng.uniform(0, JITTER_S), self.forward, args=message)
                later.start()
                return "250 queued"
            held, self.held = self.held, None
        self.forward(*message)
        if held is not None:
            self.forward(*held)  # the earlier message, after the later one
        return "250 OK"


class RelayDriver(Driver):
    """A target that is only an SMTP relay: ordinary and 'secure' messages alike are relayed as they are."""

    supported = frozenset({"smtp-submission"})

    def __init__(self, profile: TargetProfile, port: int):
        super().__init__(profile)
        self.port = port

    def send(self, application: str, definition: str | None, message: Outgoing) -> Response:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = message.sender, ", ".join(message.to), message.subject
        mail.set_content(message.text)
        with smtplib.SMTP("127.0.0.1", self.port, timeout=5) as smtp:
            smtp.send_message(mail)
        return Response(250, text="250 OK")

    def portal_open(self, link: str) -> Response:
        return Response(404)

    def portal_reply(self, link: str, text: str, reply_all: bool = False) -> Response:
        return Response(404)

    def portal_print(self, link: str) -> Response:
        return Response(404)


@pytest.fixture(scope="module")
def mailpit(tmp_path_factory):
    with MailpitProcess(tmp_path_factory.mktemp("mailpit")) as running:
        yield running


@pytest.fixture(scope="module")
def relay(mailpit):
    handler = Relay(mailpit)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def target(mailpit, relay):
    handler, port = relay
    handler.mode, handler.held = "in-order", None
    client = MailpitClient(mailpit.api_url)
    client.delete_all()
    profile = TargetProfile(name="relay", capabilities=["smtp-submission"], delivery_timeout_s=15.0)
    driver = RelayDriver(profile, port)
    out = io.StringIO()
    observer = Observer(driver, client, Rules(), 15.0, latency=LatencyTracker(), progress=out)
    return handler, driver, observer, out


def _send(driver: RelayDriver, to: str, subject: str, marker: str) -> None:
    driver.send("outlook", "All", Outgoing("ines@corp.example", [to], subject, f"Reference: {marker}\n"))


def test_nothing_is_proven_by_a_barrier_long_before_the_delivery_timeout(target):
    _, driver, observer, _ = target
    _send(driver, "erik@example.net", "for Erik", "smlite-000000000001")  # a delivery first: latency is known
    assert observer.mailbox("erik@example.net", set(), "smlite-000000000001").value != NOTHING
    started = time.monotonic()
    observation = observer.mailbox("ida@corp.example", set(), "smlite-000000000002")  # nothing was sent to Ida
    assert observation.value == NOTHING
    assert time.monotonic() - started < 5, "absence must not wait for the 15 s delivery timeout"
    assert "barrier" in observation.detail and "of acceptance" in observation.detail
    ((_kind, _title, data),) = observation.evidence
    assert data["barrier_subject"].startswith(BARRIER_SUBJECT) and data["mailpit_id"]
    assert data["latency_ms"] >= 0, "a latency is measured from before the send"
    assert observer.latency.trusted


def test_absence_waits_for_the_latency_bound_after_the_barrier_even_when_the_barrier_is_fast(target):
    """Unordered (the default): the barrier's arrival proves the path works, not that an earlier message is
    gone; "nothing" comes no sooner than the bound since the message was accepted."""
    _, driver, observer, _ = target
    for n in range(3):
        _send(driver, f"warm{n}@example.net", "warm up", f"smlite-00000000010{n}")
        observer.mailbox(f"warm{n}@example.net", set(), f"smlite-00000000010{n}")
    observer.latency.add("mail", 0.4)  # a slow delivery was seen once: the bound grows to 3 × 0.4 + margin
    bound = observer.latency.bound("mail", observer.timeout_s)
    started = time.monotonic()
    assert observer.mailbox("nobody@corp.example", set(), "smlite-000000000110").value == NOTHING
    assert time.monotonic() - started >= bound - 0.05, (time.monotonic() - started, bound)


def test_a_target_declaring_order_proves_absence_by_the_barrier_alone(target):
    _, driver, observer, _ = target
    _send(driver, "warm@example.net", "warm up", "smlite-000000000112")
    observer.mailbox("warm@example.net", set(), "smlite-000000000112")
    observer.latency.expected_s = 2.0  # the profile expects 2 s: a bound of 6 s, which order makes irrelevant
    assert observer.latency.bound("mail", observer.timeout_s) >= 6
    observer.scope.ordered = True
    started = time.monotonic()
    assert observer.mailbox("nobody@corp.example", set(), "smlite-000000000111").value == NOTHING
    assert time.monotonic() - started < 3


def test_a_target_that_reorders_is_detected_and_what_came_is_judged(target):
    handler, driver, observer, out = target
    handler.mode = "reorder"
    _send(driver, "ida@corp.example", "held back [0003ab]", "smlite-0000000003ab")  # the relay holds it
    observation = observer.mailbox("ida@corp.example", set(), "smlite-0000000003ab")
    # the barrier overtook it: it came after the barrier, and is judged as what came, not as "nothing"
    assert observation.value != NOTHING, observation.detail
    assert "held back" in observation.detail
    assert "reorders deliveries" in observation.detail
    assert observer.latency.reorders and not observer.latency.trusted
    assert "reorders deliveries" in out.getvalue()


def test_a_jittering_target_is_judged_on_what_came_and_nothing_is_proven_where_nothing_was_sent(target):
    """Every delivery delayed by a random 0–0.6 s (they overtake each other and the barriers): each message
    sent is found, each recipient who was sent nothing gets "nothing", and none of it waits the timeout."""
    handler, driver, observer, _ = target
    handler.mode = "jitter"
    started = time.monotonic()
    for n in range(4):  # the latency of this target is learnt first, as a run does
        _send(driver, f"learn{n}@example.net", "learn", f"smlite-00000000020{n}")
        assert observer.mailbox(f"learn{n}@example.net", set(), f"smlite-00000000020{n}").value != NOTHING
    for n in range(4):
        _send(driver, f"sent{n}@example.net", f"sent {n}", f"smlite-00000000021{n}")
    for n in range(4):
        assert observer.mailbox(f"sent{n}@example.net", set(), f"smlite-00000000021{n}").value != NOTHING
        assert observer.mailbox(f"never{n}@example.net", set(), f"smlite-00000000022{n}").value == NOTHING
    assert time.monotonic() - started < observer.timeout_s


def test_a_target_that_delivers_nothing_is_a_delivery_timeout_not_a_verdict(target):
    handler, _, observer, _out = target
    handler.mode = "drop"
    observer.timeout_s = 2.0
    with pytest.raises(DeliveryTimeout) as timeout:
        observer.mailbox("ida@corp.example", set(), "smlite-000000000005")
    assert "ida@corp.example" in str(timeout.value) and "not even the ordinary barrier message" in str(timeout.value)


def test_mail_that_should_not_exist_is_caught_even_when_it_overtakes_nothing(target):
    """ "receives nothing but a later message": a message held behind the barrier still counts."""
    handler, driver, observer, _ = target
    handler.mode = "reorder"
    _send(driver, "ines@corp.example", "Read: a receipt", "smlite-000000000006")
    wait = observer.prove_nothing("ines@corp.example", set())
    assert wait.barrier is not None and wait.barrier.mail_at is not None
    assert [m.subject for m in wait.after_barrier] == ["Read: a receipt"] and not wait.before_barrier


def test_prove_nothing_in_order(target):
    _, driver, observer, _ = target
    _send(driver, "ines@corp.example", "Read: a receipt", "smlite-000000000007")
    wait = observer.prove_nothing("ines@corp.example", set())
    assert [m.subject for m in wait.before_barrier] == ["Read: a receipt"] and not wait.after_barrier
    assert not wait.reordered and observer.latency.trusted
