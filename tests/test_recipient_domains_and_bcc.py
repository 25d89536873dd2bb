"""Who is internal, mixed messages and Bcc: the internal-domain variants, mixed messages, Bcc plumbing.

The Bcc submission test uses a real SMTP server (aiosmtpd) and the real reference driver:
a Bcc recipient must be in the envelope and in no header.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from _pytest.outcomes import Skipped
from aiosmtpd.controller import Controller

from harness.drivers.base import Driver, Outgoing, Response
from harness.drivers.reference import ReferenceDriver
from harness.profile.schema import TargetProfile
from harness.sandbox.procs import free_port
from harness.source_model import domains, source
from steps.message_steps import mixed_message
from steps.sending_steps import require_bcc
from steps.world import Person, Sent

DOMAINS = ["northwind.test", "northwind-eu.test", "Corp.Example"]


@pytest.mark.parametrize("seed", range(200))
def test_mixed_case_is_the_same_domain_spelt_differently(seed):
    rng = random.Random(seed)
    for domain in DOMAINS:
        variant = domains.mixed_case(domain, rng)
        assert variant != domain and variant != variant.lower()
        assert variant.lower() == domain.lower()
        assert domains.is_internal(variant, DOMAINS)


@pytest.mark.parametrize("seed", range(200))
def test_look_alikes_end_with_the_domain_text_but_are_other_domains(seed):
    rng = random.Random(seed)
    for domain in DOMAINS:
        glued, sub = domains.glued(domain, rng), domains.sub_domain(domain, rng)
        assert glued.endswith(domain.lower()) and not glued.endswith("." + domain.lower())
        assert sub.endswith("." + domain.lower()) and sub.count(".") == domain.count(".") + 1
        assert not domains.is_internal(glued, DOMAINS) and not domains.is_internal(sub, DOMAINS)


def test_variants_are_seeded():
    assert domains.glued("northwind.test", random.Random(5)) == domains.glued("northwind.test", random.Random(5))
    assert domains.mixed_case("northwind.test", random.Random(5)) == domains.mixed_case(
        "northwind.test", random.Random(5)
    )


def test_mixed_case_needs_letters():
    with pytest.raises(ValueError):
        domains.mixed_case("123.456", random.Random(1))


def _p(role: str, internal: bool) -> Person:
    return Person(role, role, f"{role.lower()}@{'northwind.test' if internal else 'example.com'}", internal)


def _sent(sender: Person, to: list[Person], cc=(), bcc=()) -> Sent:
    return Sent(sender, to, "outlook", "All", "s", "m", Response(250), list(cc), list(bcc))


def test_mixed_message_needs_both_kinds_of_recipient_and_an_internal_sender():
    ines, ida, erik = _p("Ines", True), _p("Ida", True), _p("Erik", False)
    assert mixed_message(_sent(ines, [erik], cc=[ida]))
    assert mixed_message(_sent(ines, [ida], bcc=[erik]))  # a Bcc recipient counts
    assert not mixed_message(_sent(ines, [erik, _p("Eva", False)]))
    assert not mixed_message(_sent(ines, [ida, _p("Igor", True)]))
    assert not mixed_message(_sent(erik, [ines, _p("Eva", False)]))  # an external sender's reply: table 2


class _OldDriver(Driver):
    """A driver written before Bcc existed."""

    supported = frozenset({"smtp-submission"})

    def send(self, application, definition, message):  # pragma: no cover - never called here
        return Response(250)

    def portal_open(self, link):  # pragma: no cover
        return Response(404)

    def portal_reply(self, link, text, reply_all=False):  # pragma: no cover
        return Response(404)

    def portal_print(self, link):  # pragma: no cover
        return Response(404)


def test_outgoing_bcc_is_optional_and_old_drivers_do_not_get_one():
    assert Outgoing("a@b.c", ["d@e.f"], "s", "t").bcc == []
    old = _OldDriver(TargetProfile(name="old", capabilities=["smtp-submission"]))
    assert old.sends_bcc is False
    with pytest.raises(Skipped, match=r"not applicable: .*sends_bcc"):
        require_bcc(SimpleNamespace(driver=old), source.application("outlook"))


def test_bcc_is_sent_by_smtp_submission_only():
    world = SimpleNamespace(driver=SimpleNamespace(sends_bcc=True))
    require_bcc(world, source.application("Mimecast for Mac"))  # no skip
    with pytest.raises(Skipped, match="not applicable: a Bcc is sent by SMTP submission"):
        require_bcc(world, source.application("mpp"))


class _Catch:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def test_reference_driver_puts_bcc_in_the_envelope_only():
    handler = _Catch()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        profile = TargetProfile(
            name="t",
            capabilities=["smtp-submission"],
            target={"http": "http://127.0.0.1:9", "smtp": f"127.0.0.1:{port}"},
        )
        driver = ReferenceDriver(profile)
        assert driver.sends_bcc
        answer = driver.send(
            "outlook",
            "All",
            Outgoing(
                "ines@northwind.test",
                ["erik@example.com"],
                "Hello",
                "Hi",
                cc=["eva@example.com"],
                bcc=["Emil@Example.org"],
            ),
        )
        assert answer.ok, answer
        envelope = handler.envelopes[-1]
        assert envelope.rcpt_tos == ["erik@example.com", "eva@example.com", "Emil@Example.org"]
        header = envelope.content.split(b"\r\n\r\n", 1)[0].decode().lower()
        assert "emil@example.org" not in header and "\nbcc:" not in header
        with pytest.raises(Exception, match="no bcc"):
            driver.send(
                "mpp", "All", Outgoing("ines@northwind.test", ["erik@example.com"], "s", "t", bcc=["emil@example.org"])
            )
        driver.close()
    finally:
        controller.stop()


def _world_with(message, portal_body=None):
    from harness.conformance.record import ScenarioRecord

    driver = SimpleNamespace(portal_open=lambda link: Response(200, portal_body or {"text": "hello"}))
    return SimpleNamespace(
        observer=SimpleNamespace(mailpit=SimpleNamespace(message=lambda i: message)),
        driver=driver,
        record=ScenarioRecord(),
    )


@pytest.mark.parametrize("where", ["header", "text", "html", "raw", "portal", "nowhere"])
def test_copy_reveals_finds_the_bcc_address_wherever_it_is(where):
    from steps.message_steps import copy_reveals

    hidden = "emil.abc123@example.org"
    shown = "EMIL.ABC123@Example.org"  # case-insensitive
    message = SimpleNamespace(
        headers={"To": ["erik@example.com"]} | ({"X-Recipients": [shown]} if where == "header" else {}),
        text=f"Hi {shown}" if where == "text" else "Hi",
        html=f"<p>{shown}</p>" if where == "html" else "",
        raw=f"Received: for <{shown}>\r\n\r\nbody".encode() if where == "raw" else b"To: erik\r\n\r\nbody",
    )
    portal = {"recipients": [shown]} if where == "portal" else None
    found, evidence = copy_reveals(_world_with(message, portal), "m1", ["http://t/sm/abc"], [hidden])
    assert bool(found) == (where != "nowhere"), found
    assert evidence
