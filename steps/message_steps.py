"""Steps that send mail shaped like real mail, and judge it for every recipient.

Owns: sending messages of the shapes a scenario can name (steps/shapes.py) to several people
across To, Cc and Bcc, and
"every recipient gets what the source says": each recipient's row is the one the source
gives for them (table 1 for an external recipient, table 3 for an internal one), every
column judged, for every recipient of the message.
"""

from __future__ import annotations

import json

from pytest_bdd import given, parsers, then, when

from harness import policy
from harness import results as R
from harness.conformance.judge import Basis, judge, observe_recipient
from harness.errors import ConformanceFailure, HarnessError
from harness.observation.recognition import NOTHING
from harness.source_model import source
from steps.sending_steps import consume_delivery, send_secure
from steps.world import Person, Sent, World


@when(
    parsers.re(
        r'^(?P<sender>\w+) sends (?P<shape>a .+?) from "(?P<application>[^"]+)" using the '
        r'"(?P<definition>[^"]+)" definition to (?P<to>.+?), copying (?P<cc>(?:(?!, blind-copying ).)+)$'
    )
)
def sends_to_and_copies(
    world: World, sender: str, shape: str, application: str, definition: str, to: str, cc: str
) -> None:
    send_secure(
        world, world.person(sender), world.persons(to), application, definition, shape=shape, cc=world.persons(cc)
    )


@when(
    parsers.re(
        r'^(?P<sender>\w+) sends (?P<shape>a .+?) from "(?P<application>[^"]+)" using the '
        r'"(?P<definition>[^"]+)" definition to (?P<to>.+?), copying (?P<cc>.+?), blind-copying (?P<bcc>.+)$'
    )
)
def sends_to_copies_and_blind_copies(
    world: World, sender: str, shape: str, application: str, definition: str, to: str, cc: str, bcc: str
) -> None:
    """Bcc: envelope-only recipients (not applicable for a driver without ``sends_bcc``)."""
    send_secure(
        world,
        world.person(sender),
        world.persons(to),
        application,
        definition,
        shape=shape,
        cc=world.persons(cc),
        bcc=world.persons(bcc),
    )


@when(
    parsers.re(
        r'^(?P<sender>\w+) sends (?P<shape>a (?!secure message from ).+?) from "(?P<application>[^"]+)" using the '
        r'"(?P<definition>[^"]+)" definition to (?P<to>(?:(?!, copying |, blind-copying ).)+)$'
    )
)
def sends_a_shape(world: World, sender: str, shape: str, application: str, definition: str, to: str) -> None:
    """A message of any shape to its To recipients only (the reproductions of exploration write these)."""
    send_secure(world, world.person(sender), world.persons(to), application, definition, shape=shape)


@when(
    parsers.re(
        r'^(?P<sender>\w+) sends (?P<shape>a .+?) from "(?P<application>[^"]+)" using the '
        r'"(?P<definition>[^"]+)" definition to (?P<to>(?:(?!, copying |, blind-copying ).)+), blind-copying (?P<bcc>.+)$'
    )
)
def sends_and_blind_copies(
    world: World, sender: str, shape: str, application: str, definition: str, to: str, bcc: str
) -> None:
    """To and Bcc recipients, no Cc (not applicable for a driver without ``sends_bcc``)."""
    send_secure(
        world, world.person(sender), world.persons(to), application, definition, shape=shape, bcc=world.persons(bcc)
    )


@given(
    parsers.re(
        r'^(?P<sender>\w+) has sent (?P<to>.+?) a secure message from "(?P<application>[^"]+)" using '
        r'the "(?P<definition>[^"]+)" definition, copying (?P<cc>.+)$'
    )
)
def has_sent_to_and_copied(world: World, sender: str, to: str, application: str, definition: str, cc: str) -> None:
    sent = send_secure(world, world.person(sender), world.persons(to), application, definition, cc=world.persons(cc))
    consume_delivery(world, sent)


@then(parsers.parse("everyone else on the message gets {replier}'s reply, as the source says for them"))
def everyone_else_gets_the_reply(world: World, replier: str) -> None:
    """Reply All = True: the reply reaches the sender and every other To and Cc recipient."""
    reply = world.last_sent()
    if reply.sender is not world.person(replier):
        raise HarnessError("The last message is not this person's reply", f"{replier!r}")
    judge_recipients(world, reply, reply.recipients, need_delivery=True)


@then("every recipient gets what the source says for them")
def every_recipient_gets_what_the_source_says(world: World) -> None:
    sent = world.last_sent()
    judge_recipients(world, sent, sent.recipients + sent.copied + sent.blind)


MIXED_REF = "X-mixed"
MIXED_NOTE = (
    "SPEC-READING defect 4 (D4): no table covers one message to internal and external recipients; "
    "table 3 for its internal recipients is docs/contract.md's per-recipient reading, so these checks "
    "are level contract (reported beside the verdict). Its external recipients are judged by table 1 "
    "as usual."
)


def mixed_message(sent: Sent) -> bool:
    """A message from an internal user with both internal and external recipients (defect D4)."""
    everyone = sent.recipients + sent.copied + list(getattr(sent, "blind", []))
    return sent.sender.internal and any(p.internal for p in everyone) and any(not p.internal for p in everyone)


def judge_recipients(world: World, sent: Sent, people: list[Person], need_delivery: bool = False) -> None:
    """Every column for each of ``people``, from the source's row for them; ``need_delivery``: a
    recipient the source leaves blank must still get something (derived: the message reaches them)."""
    app = sent.application
    failures: list[str] = []
    opened_by: dict[str, list[Person]] = {}
    world.observer.recipients_together(sent.marker, [p.address for p in people])
    mixed = mixed_message(sent)
    mixed_note = None
    if mixed and any(p.internal for p in people):
        world.record.refs = sorted(set(world.record.refs) | {MIXED_REF})
        mixed_note = world.record.add_evidence(
            "note", "Internal recipients of a mixed message: level contract", {"text": MIXED_NOTE}
        )
    for person in people:
        ref, cells = source.expected_cells(app, sent.definition or "", sent.sender.internal, person.internal)
        ref = ref or source.silent_ref(app, sent.sender.internal, person.internal)
        basis = (
            Basis.CONTRACT
            if world.contract_only
            else Basis.CONTRACT_READING
            if mixed and person.internal
            else Basis.SOURCE
        )
        observed = observe_recipient(
            world.observer,
            person.address,
            person.internal,
            cells,
            marker=sent.marker,
            subject=sent.subject,
            seen_mail=person.seen_mail,
            seen_mpp=person.seen_mpp,
        )
        portal = observed.get("Message in SM Portal")
        mail_seen = observed.get("Mail Box")
        sent.delivered[person.role] = (
            mail_seen.item_id if mail_seen else "",
            list(portal.links) if portal is not None else [],
        )
        if portal is not None and portal.value == source.YES and portal.links:
            opened_by.setdefault(portal.links[0], []).append(person)
            person.portal_links = list(portal.links)  # a later step opens, prints or replies there
            person.portal_marker = sent.marker
        judgements = judge(cells, observed, basis)
        world.record.add_judgement(
            str(person),
            cells,
            observed,
            basis.value,
            len(judgements),
            question={
                "application": app,
                "definition": sent.definition or "",
                "sender_internal": sent.sender.internal,
                "recipient_internal": person.internal,
            },
            marker=sent.marker,
        )
        for judged in judgements:
            cell = R.CellResult(
                ref,
                judged.column,
                str(person),
                judged.expected,
                judged.standing,
                judged.observed,
                judged.status,
                [world.record.add_evidence(*e) for e in judged.evidence],
                judged.detail,
                judged.level,
            )
            if basis is Basis.CONTRACT_READING and cell.level == policy.CONTRACT and mixed_note is not None:
                cell.evidence.append(mixed_note)  # defect D4: table 3 for them is the contract's reading
                if cell.status == R.FAILED:
                    cell.detail = f"{cell.detail} [contract: {MIXED_NOTE}]".strip()
            world.record.cells.append(cell)
            if ref:
                world.record.refs = sorted(set(world.record.refs) | {ref})
            world.record.expect(
                f"{person.role} · {cell.column}: {cell.expected or '(not specified)'}",
                f"{person.role} · {cell.column}: {cell.observed}",
            )
            if judged.counts_against_source:
                failures.append(
                    f"{cell.column} of {person} ({ref}): expected {cell.expected!r}, "
                    f"observed {cell.observed!r} — {cell.detail}"
                )
        mail = observed.get("Mail Box")
        if need_delivery and mail is not None and mail.value == NOTHING:
            world.record.cells.append(
                R.CellResult(
                    ref,
                    "Mail Box",
                    str(person),
                    "a delivery",
                    "derived",
                    NOTHING,
                    R.FAILED,
                    [],
                    mail.detail,
                    world.level(policy.DERIVED),
                )
            )
            failures.append(f"{person} never got it: {mail.detail}")
    for link, sharing in opened_by.items():
        if len(sharing) > 1:  # derived: "Message in SM Portal" is each recipient's own message
            shared = (
                f"one SM Portal link opens the message for {', '.join(p.role for p in sharing)}: "
                f"each recipient needs their own copy ({link.rsplit('/', 1)[-1][:6]}…)"
            )
            world.record.cells.append(
                R.CellResult(
                    world.ref,
                    "Message in SM Portal",
                    ", ".join(map(str, sharing)),
                    "each recipient's own copy",
                    "derived",
                    shared,
                    R.FAILED,
                    [],
                    shared,
                    world.level(policy.DERIVED),
                )
            )
            if not world.contract_only:
                failures.append(shared)
    if failures:
        raise ConformanceFailure(
            "What the recipients got differs from the source",
            f"{sent.sender.role} sent to {', '.join(p.role for p in people)} from "
            f"{sent.application} with the {sent.definition} definition",
            "\n".join(failures),
        )


@then(parsers.parse("no copy delivered to {others} reveals {blind}"))
def no_copy_reveals_the_blind_copied(world: World, others: str, blind: str) -> None:
    """Derived: a Bcc recipient is not shown to the other recipients (RFC 5322 §3.6.3; RFC 5321 §7.2).

    The source's "Notification" is a notice of the message the user sent, and "Message in SM
    Portal" that message itself; neither may disclose whom the sender blind-copied. Each other
    recipient's delivered mail (every header field, text and HTML, as the mailbox decodes them,
    and the raw message) and the SM Portal message their link opens are searched for the Bcc
    address, case-insensitively."""
    sent = world.last_sent()
    hidden = [p.address for p in world.persons(blind)]
    failures = []
    for person in world.persons(others):
        mail_id, links = sent.delivered.get(person.role, ("", []))
        if not mail_id:
            raise HarnessError("No delivered copy to search", f"{person.role}: judge the recipients first")
        found, evidence = copy_reveals(world, mail_id, links, hidden)
        ref = "T1-r1" if not person.internal else (world.ref or "")
        status = R.FAILED if found else R.PASSED
        cell = R.CellResult(
            ref,
            "Mail Box",
            str(person),
            "no trace of the Bcc recipient",
            "derived",
            "; ".join(found) or "no trace of the Bcc recipient",
            status,
            evidence,
            "RFC 5322 §3.6.3: Bcc recipients are not shown to the other recipients",
            world.level(policy.DERIVED),
        )
        world.record.cells.append(cell)
        world.record.expect(f"{person.role}'s copy does not reveal {blind}", cell.observed or "")
        if found and policy.counts_against_source(cell.status, cell.level):
            failures.append(f"{person}: {'; '.join(found)}")
    if failures:
        raise ConformanceFailure(
            "A delivered copy reveals a Bcc recipient",
            f"expected no trace of {', '.join(hidden)} in what the other recipients got (RFC 5322 §3.6.3)",
            "\n".join(failures),
        )


def copy_reveals(world: World, mail_id: str, links: list[str], hidden: list[str]) -> tuple[list[str], list[str]]:
    """Where a recipient's mail ``mail_id`` and SM Portal message name any of ``hidden``; evidence ids."""
    message = world.observer.mailpit.message(mail_id)
    places = {f"header {name}": "\n".join(values) for name, values in (message.headers or {}).items()}
    places |= {
        "text": message.text or "",
        "html": message.html or "",
        "raw message": (message.raw or b"").decode("utf-8", "replace"),
    }
    evidence = []
    for link in links[:1]:
        opened = world.driver.portal_open(link)
        if opened.status == 200:
            places["SM Portal message"] = json.dumps(opened.body, default=str, ensure_ascii=False)
    found = sorted(
        {
            f"{address} in {where}"
            for where, text in places.items()
            for address in hidden
            if address.lower() in text.lower()
        }
    )
    evidence.append(
        world.record.add_evidence(
            "email",
            f"Searched for the Bcc recipient in {mail_id}",
            {"mailpit_id": mail_id, "searched": sorted(places), "for": hidden, "found": found},
        )
    )
    return found, evidence
