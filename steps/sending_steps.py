"""Steps that send: from an application, with a definition, to people.

"Sending from the Secure Messaging Portal" means replying there: the SM Portal
has no compose-new, so the step first has the recipient send the sender a
secure message from the MPP (or, for an external counterpart, from Mimecast for
Outlook) with the same definition, and the sender replies to it.
"""

from __future__ import annotations

import pytest
from pytest_bdd import given, parsers, when

from harness.drivers.base import Outgoing
from harness.errors import ConformanceFailure, HarnessError
from harness.observation.recognition import NOTHING
from harness.source_model import source
from steps.shapes import content_tokens, shape_message
from steps.world import Person, Sent, World, portal_content


def _application(name: str) -> source.Application:
    try:
        return source.application(name)
    except KeyError as exc:
        raise HarnessError("Unknown application in the feature", str(exc)) from None


def send_secure(
    world: World,
    sender: Person,
    recipients: list[Person],
    application: str,
    definition: str | None,
    headers: dict[str, str] | None = None,
    *,
    shape: str = "a secure message",
    cc: list[Person] | None = None,
    bcc: list[Person] | None = None,
) -> Sent:
    app = _application(application)
    if bcc:
        require_bcc(world, app)
    if app.slug == "portal":
        if len(recipients) != 1:
            raise HarnessError("A portal reply has one recipient", f"got {len(recipients)}")
        counterpart = recipients[0]
        via = (
            "Mimecast Personal Portal"
            if counterpart.internal and "mpp" in world.driver.capabilities
            else "Mimecast for Outlook"
        )
        first = send_secure(world, counterpart, [sender], via, definition)
        consume_delivery(world, first)
        return reply_in_portal(world, sender, reply_all=False)
    subject, text, marker = world.new_content(sender)
    outgoing = Outgoing(
        sender.address,
        [p.address for p in recipients],
        subject,
        text,
        cc=[p.address for p in cc or []],
        headers=dict(headers or {}),
    )
    if bcc:
        outgoing.bcc = [p.address for p in bcc]
    for key, value in shape_message(world, shape, sender, subject, text, marker).items():
        setattr(outgoing, key, value)
    world.observer.expect_content(marker, content_tokens(shape, marker))
    response = world.driver.send(app.slug, definition, outgoing)
    sent = Sent(
        sender, recipients, app.slug, definition, outgoing.subject, marker, response, list(cc or []), list(bcc or [])
    )
    world.sent.append(sent)
    world.responses.append(response)
    return sent


def require_bcc(world: World, app: source.Application) -> None:
    """A Bcc goes only to a driver that says it sends one, and only by SMTP submission (the MPP API
    of docs/openapi.json has no bcc): otherwise the scenario is not applicable, never a lost recipient."""
    if not getattr(world.driver, "sends_bcc", False):
        pytest.skip(
            f"not applicable: the driver {type(world.driver).__name__} does not declare "
            "sends_bcc (Bcc recipients, docs/vendors.md)"
        )
    if app.slug not in ("outlook", "mac"):
        pytest.skip(f"not applicable: a Bcc is sent by SMTP submission, not from {app.name}")


def require_accepted(sent: Sent) -> None:
    if not sent.response.ok:
        raise ConformanceFailure(
            "The target refused a secure message",
            f"expected {sent.sender.role} to be able to send from {sent.application} with the "
            f"{sent.definition} definition",
            f"{sent.response.status} {sent.response.text[:300]}",
        )


def consume_delivery(world: World, sent: Sent) -> None:
    """Wait until each recipient got the message; remember their portal links."""
    require_accepted(sent)
    everyone = sent.recipients + sent.copied + sent.blind
    world.observer.recipients_together(sent.marker, [p.address for p in everyone])
    for person in everyone:
        observation = world.observer.mailbox(person.address, person.seen_mail, sent.marker)
        for kind, title, data in observation.evidence:
            world.record.add_evidence(kind, title, data)
        if observation.value == NOTHING:
            raise ConformanceFailure(
                f"{person.role} never got the secure message",
                f"expected a delivery to {person.address}",
                observation.detail,
            )
        person.portal_links, person.portal_marker = list(observation.links), sent.marker
        if person.internal and "mpp" in world.driver.capabilities:
            mpp = world.observer.mpp(person.address, True, person.seen_mpp, sent.marker, required=False)
            person.portal_links += [link for link in mpp.links if link not in person.portal_links]


def reply_in_portal(world: World, replier: Person, reply_all: bool) -> Sent:
    original = world.last_sent()
    link = replier.portal_links[0] if replier.portal_links else world.portal_link_for(replier)
    opened = world.driver.portal_open(link)
    if opened.status != 200 and "sm-portal-sign-in" in world.driver.capabilities:
        # the link in the mail is not the way in: the replier signs in to the SM Portal instead
        for candidate in world.driver.portal_links_as(replier.address):
            answer = world.driver.portal_open(candidate)
            if answer.status == 200 and original.marker in portal_content(answer):
                link, opened = candidate, answer
                replier.portal_links = [candidate]
                break
    if opened.status != 200:
        raise ConformanceFailure(
            f"{replier.role} cannot open the message in the SM Portal",
            f"expected 200 for the link {replier.role} was given",
            f"{opened.status} {opened.text[:300]}",
        )
    replier.opened = opened
    _subject, text, marker = world.new_content(replier)
    response = world.driver.portal_reply(link, text, reply_all=reply_all)
    if reply_all:
        recipients = [p for p in [original.sender, *original.recipients, *original.copied] if p is not replier]
    else:
        recipients = [original.sender]
    sent = Sent(replier, recipients, "portal", original.definition, original.subject, marker, response)
    world.sent.append(sent)
    world.responses.append(response)
    return sent


@when(
    parsers.re(
        r'^(?P<sender>\w+) sends a secure message from "(?P<application>[^"]+)" using the '
        r'"(?P<definition>[^"]+)" definition to (?P<recipients>(?:(?!, copying |, blind-copying ).)+)$'
    )
)
def sends_a_secure_message(world: World, sender: str, application: str, definition: str, recipients: str) -> None:
    send_secure(world, world.person(sender), world.persons(recipients), application, definition)


@given(
    parsers.parse(
        '{sender} has sent {recipients} a secure message from "{application}" using the "{definition}" definition'
    )
)
def has_sent_a_secure_message(world: World, sender: str, recipients: str, application: str, definition: str) -> None:
    sent = send_secure(world, world.person(sender), world.persons(recipients), application, definition)
    consume_delivery(world, sent)


@given(
    parsers.parse(
        '{sender} has sent {recipients} a secure message asking for a read receipt, using the "{definition}" definition'
    )
)
def has_sent_asking_for_a_read_receipt(world: World, sender: str, recipients: str, definition: str) -> None:
    person = world.person(sender)
    headers = {"Disposition-Notification-To": person.address, "Return-Receipt-To": person.address}
    sent = send_secure(world, person, world.persons(recipients), "Mimecast for Outlook", definition, headers)
    consume_delivery(world, sent)


@when(parsers.parse('{replier} replies from the "{application}"'))
def replies_from(world: World, replier: str, application: str) -> None:
    if _application(application).slug != "portal":
        raise HarnessError("Replies are written in the Secure Messaging Portal", f"got {application!r}")
    reply_in_portal(world, world.person(replier), reply_all=False)


@when(parsers.parse('{replier} replies to all from the "{application}"'))
def replies_to_all_from(world: World, replier: str, application: str) -> None:
    if _application(application).slug != "portal":
        raise HarnessError("Replies are written in the Secure Messaging Portal", f"got {application!r}")
    reply_in_portal(world, world.person(replier), reply_all=True)
