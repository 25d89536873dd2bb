"""Steps that check what people got, cell by cell, in the source's columns.

A cell the source states or that follows from it is *required*: a mismatch
fails the scenario. A cell the source leaves blank is *observed*: what the
target did is recorded and reported, never judged.
"""

from __future__ import annotations

from pytest_bdd import parsers, then

from harness import results as R
from harness.conformance.judge import Basis, Judgement, judge, observe_recipient
from harness.errors import ConformanceFailure, HarnessError
from harness.observation.recognition import BANNER, NOTIFICATION
from harness.source_model.source import COLUMNS, parse_gherkin_cell
from steps.world import Person, World


def observe_person(world: World, person: Person, expected: dict[str, str]) -> list[Judgement]:
    sent = world.last_sent()
    cells = {column: parse_gherkin_cell(expected[column]) for column in COLUMNS if column in expected}
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
    basis = Basis.CONTRACT if world.contract_only else Basis.SOURCE
    judgements = judge(cells, observed, basis)
    world.record.add_judgement(str(person), cells, observed, basis.value, len(judgements), marker=sent.marker)
    for judged in judgements:
        world.record.cells.append(
            R.CellResult(
                world.ref,
                judged.column,
                str(person),
                judged.expected,
                judged.standing,
                judged.observed,
                judged.status,
                [world.record.add_evidence(kind, title, data) for kind, title, data in judged.evidence],
                judged.detail,
                judged.level,
            )
        )
    return judgements


@then(parsers.re(r"^(?P<roles>[A-Z][\w]*(?:(?:, | and )[A-Z][\w]*)*) gets?:$"))
def gets(world: World, roles: str, datatable: list[list[str]]) -> None:
    header, values = datatable[0], datatable[1]
    expected = dict(zip(header, values))
    failures = []
    world.observer.recipients_together(world.last_sent().marker, [p.address for p in world.persons(roles)])
    for person in world.persons(roles):
        for judged in observe_person(world, person, expected):
            expected_text = judged.expected if judged.expected is not None else "(not specified)"
            world.record.expect(
                f"{person.role} · {judged.column}: {expected_text}",
                f"{person.role} · {judged.column}: {judged.observed}",
            )
            if judged.counts_against_source:
                failures.append(
                    f"{judged.column} of {person}: expected {judged.expected!r} "
                    f"({judged.standing}), observed {judged.observed!r} — {judged.detail}"
                )
    if failures:
        sent = world.last_sent()
        raise ConformanceFailure(
            f"{world.ref or 'Scenario'}: what the recipient got differs from the source",
            f"after {sent.sender.role} sent from {sent.application} with the {sent.definition} definition",
            "\n".join(failures),
        )


def _barrier(world: World, person: Person) -> None:
    """Prove absence: send an ordinary message to ``person`` through the target, and collect everything
    else that reaches them until absence is proven (the barrier arrived and the latency bound passed,
    harness/observation/scope.py). Anything collected is mail that should not exist. A target that refuses
    the ordinary message, or delivers nothing at all within the delivery timeout, leaves absence unproven:
    a harness error (the run is incomplete), never a verdict either way.
    """
    since = world.acted_at()
    for other in world.people.values():  # ahead of their own checks: the next absence proof needs no new wait
        if other is not person and world.observer.barrier_after(other.address, since) is None:
            world.observer.send_barrier(other.address)
    wait = world.observer.prove_nothing(person.address, person.seen_mail, since)
    barrier = wait.barrier
    if barrier is None or barrier.refused:
        raise HarnessError(
            "Absence cannot be proven: the target takes no ordinary message",
            f"an ordinary (non-secure) message to {person.address}",
            wait.detail,
        )
    world.record.add_evidence("email", f"Barrier for {person.address}", barrier.evidence(wait.grace_s))
    # a message the scenario itself sent this person is judged by its own step
    arrived = [
        message
        for message in wait.before_barrier + wait.after_barrier
        if not any(
            s.marker in f"{message.text}\n{message.html}" for s in world.sent if person in s.recipients + s.copied
        )
    ]
    for message in arrived:
        world.record.add_evidence(
            "email",
            f"Unexpected mail for {person.address}",
            {
                "mailpit_id": message.id,
                "from": message.sender,
                "to": ", ".join(message.to),
                "subject": message.subject,
                "text": (message.text or "")[:4000],
                "headers": {},
            },
        )
    if arrived:
        late = f" ({wait.detail})" if wait.reordered else ""
        raise ConformanceFailure(
            f"{person.role} received mail that should not exist",
            f"expected nothing in {person.address}'s Mail Box within {wait.grace_s or 0:.2f}s of the ordinary "
            f"barrier message's sending, nor before it arrived{late}",
            [f"{m.id}: {m.subject}" for m in arrived],
        )


@then("the message is refused with a clear error")
def refused_with_a_clear_error(world: World) -> None:
    answer = world.last_sent().response
    world.record.expect("a refusal (SMTP 5xx / HTTP 4xx) with an explanation", f"{answer.status} {answer.text[:200]}")
    if answer.ok or not answer.text.strip():
        raise ConformanceFailure(
            "The target accepted a message with a definition that does not exist",
            "expected a refusal with an explanation",
            f"{answer.status} {answer.text[:300]}",
        )


@then(parsers.parse("{role} receives nothing but a later message"))
def receives_nothing_but_a_later_message(world: World, role: str) -> None:
    _barrier(world, world.person(role))


@then(parsers.parse("{role} receives no read receipt"))
def receives_no_read_receipt(world: World, role: str) -> None:
    world.record.expect("no read receipt in the sender's Mail Box", "see evidence")
    _barrier(world, world.person(role))


@then(parsers.parse("{role} receives {replier}'s reply"))
def receives_the_reply(world: World, role: str, replier: str) -> None:
    person, sent = world.person(role), world.last_sent()
    observation = world.observer.mailbox(person.address, person.seen_mail, sent.marker)
    for kind, title, data in observation.evidence:
        world.record.add_evidence(kind, title, data)
    world.record.expect(f"{replier}'s reply reaches {role}", observation.value)
    if observation.value not in (NOTIFICATION, BANNER):
        raise ConformanceFailure(
            f"{role} did not receive {replier}'s reply",
            "expected a Notification or an Email with banner",
            observation.detail,
        )
