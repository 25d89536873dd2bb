"""Steps that send real mail: a message someone else wrote, from the public corpus of features/mail/.

Owns ``send_as_written`` (the message submitted as it is, to the scenario's people, with the
definition marked by the driver) and the step that names a message file. Every full copy of it is
then judged part by part against the original (harness/observation/wholeness.py): the Email with
banner keeps every part and gets one banner where a reader looks first; the SM Portal's message, of a
target that declares sm-portal-whole-message, is the whole message with its attachments.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_bdd import given, parsers, then, when

from harness.drivers.base import Outgoing
from harness.errors import ConformanceFailure, HarnessError
from harness.observation import wholeness
from steps.sending_steps import _application
from steps.world import Person, Sent, World

MAIL = Path(__file__).resolve().parent.parent / "features" / "mail"


def _mail_folders(feature_folder: Path | None) -> list[Path]:
    """Where a feature's message files are: ``mail/`` next to the feature file (features/mail/ for the
    features of features/, ``<run>/corpus/mail/`` for ``smlite run --corpus``), then the feature's own
    folder (a reproduction that exploration wrote keeps its messages beside it), then features/mail/."""
    folders = [feature_folder / "mail", feature_folder] if feature_folder else []
    return [f.resolve() for f in [*folders, MAIL]]


def message_file(name: str, feature_folder: Path | None = None, *, broken: bool = False) -> bytes:
    """The bytes of the message file ``name`` (a file inside one of ``_mail_folders``, never outside)."""
    folders = _mail_folders(feature_folder)
    path = next(
        (p for p in ((f / name).resolve() for f in folders) if any(f in p.parents for f in folders) and p.is_file()),
        None,
    )
    if path is None:
        where = " or ".join(str(folder) for folder in dict.fromkeys(folders))
        raise HarnessError("Unknown message file in the feature", f"{name!r}: not a file under {where}")
    raw = path.read_bytes()
    why = wholeness.malformed(raw)
    if why and not broken:
        raise HarnessError("The feature names a broken message", f"{name}: {why}")
    if broken and not why:
        raise HarnessError("The feature names a valid message as broken", name)
    return raw


def send_as_written(
    world: World, sender: Person, recipients: list[Person], application: str, definition: str, raw: bytes, name: str
) -> Sent:
    if not getattr(world.driver, "sends_raw", False):
        pytest.skip(
            f"not applicable: the driver {type(world.driver).__name__} does not declare sends_raw "
            "(real mail as written, docs/vendors.md)"
        )
    app = _application(application)
    if app.slug not in ("outlook", "mac"):
        pytest.skip(f"not applicable: a message as written is sent by SMTP submission, not from {app.name}")
    marker = wholeness.marker_of(raw)
    if marker is None:
        raise HarnessError("The feature names a message without text", f"{name}: nothing to recognise its copies by")
    subject = wholeness.parse(wholeness.crlf(raw)).get("Subject", "") or name
    outgoing = Outgoing(sender.address, [p.address for p in recipients], str(subject), "", raw=raw)
    world.observer.expect_original(marker, raw)
    world.record.add_evidence("note", f"Sent as written: {name}", {"text": f"marker: {marker}"})
    response = world.driver.send(app.slug, definition, outgoing)
    sent = Sent(sender, recipients, app.slug, definition, str(subject), marker, response)
    world.sent.append(sent)
    world.responses.append(response)
    return sent


@when(
    parsers.parse(
        '{sender} sends the message file "{name}" from "{application}" using the "{definition}" definition to {recipients}'
    )
)
def sends_the_message_file(
    world: World, sender: str, name: str, application: str, definition: str, recipients: str
) -> None:
    raw = message_file(name, world.feature_folder)
    send_as_written(world, world.person(sender), world.persons(recipients), application, definition, raw, name)


@given(parsers.parse('the message file "{name}", which carries no text to recognise its copies by'))
def a_message_without_text(world: World, name: str) -> None:
    """Not applicable, and said: the suite recognises every copy of a message sent as written by its text."""
    raw = message_file(name, world.feature_folder)
    if wholeness.marker_of(raw) is not None:
        raise HarnessError("The feature names a message with text as one without", name)
    pytest.skip(
        f"not applicable: {name} carries no text, and the suite recognises the copies of a message sent as written "
        "by its text (not sent)"
    )


@when(parsers.parse('{sender} sends the broken message file "{name}" from "{application}" to {recipients}'))
def sends_the_broken_message_file(world: World, sender: str, name: str, application: str, recipients: str) -> None:
    """Broken MIME sent as written (with the All definition: what it names does not matter to a refusal)."""
    if not getattr(world.driver, "sends_raw", False):
        pytest.skip(f"not applicable: the driver {type(world.driver).__name__} does not declare sends_raw")
    raw = message_file(name, world.feature_folder, broken=True)
    who, whom = world.person(sender), world.persons(recipients)
    outgoing = Outgoing(who.address, [p.address for p in whom], name, "", raw=raw)
    world.record.add_evidence("note", f"Sent as written: {name}", {"text": wholeness.malformed(raw) or ""})
    response = world.driver.send(_application(application).slug, "All", outgoing)
    world.sent.append(Sent(who, whom, "outlook", "All", name, "", response))
    world.responses.append(response)


@then("the message is refused as broken mail")
def refused_as_broken_mail(world: World) -> None:
    answer = world.last_sent().response
    world.record.expect("a permanent refusal (SMTP 5xx) with a reason", f"{answer.status} {answer.text[:200]}")
    if answer.ok or answer.status < 500 or not answer.text.strip():
        raise ConformanceFailure(
            "The target did not refuse broken mail with a reason",
            "expected a permanent refusal (docs/contract.md: 554 5.6.0 Malformed message) with a reason",
            f"{answer.status} {answer.text[:300]}",
        )
