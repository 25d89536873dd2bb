"""Steps that check what people got, cell by cell, in the source's columns.

A cell the source states or that follows from it is *required*: a mismatch
fails the scenario. A cell the source leaves blank is *observed*: what the
target did is recorded and reported, never judged.
"""

from __future__ import annotations

from pytest_bdd import parsers, then

from harness.conformance import results as R
from harness.conformance.judge import judge, observe_recipient
from harness.spec.classify import BANNER, NOTIFICATION
from harness.errors import ConformanceFailure
from harness.spec.source import COLUMNS, parse_gherkin_cell
from steps.world import Person, World


def observe_person(world: World, person: Person, expected: dict[str, str]) -> list[R.CellResult]:
    sent = world.last_sent()
    cells = {column: parse_gherkin_cell(expected[column]) for column in COLUMNS if column in expected}
    observed = observe_recipient(world.observer, person.address, person.internal, cells, marker=sent.marker,
                                 subject=sent.subject, seen_mail=person.seen_mail, seen_mpp=person.seen_mpp)
    results = []
    for judged in judge(cells, observed):
        results.append(R.CellResult(
            world.ref, judged.column, str(person), judged.expected, judged.standing, judged.observed,
            judged.status, [world.record.add_evidence(kind, title, data) for kind, title, data in judged.evidence],
            judged.detail, "contract" if world.contract_only and judged.level else judged.level))
    world.record.cells.extend(results)
    return results


@then(parsers.re(r"^(?P<roles>[A-Z][\w]*(?:(?:, | and )[A-Z][\w]*)*) gets?:$"))
def gets(world: World, roles: str, datatable: list[list[str]]) -> None:
    header, values = datatable[0], datatable[1]
    expected = dict(zip(header, values))
    failures = []
    world.observer.recipients_together(world.last_sent().marker, [p.address for p in world.persons(roles)])
    for person in world.persons(roles):
        for cell in observe_person(world, person, expected):
            expected_text = cell.expected if cell.expected is not None else "(not specified)"
            world.record.expect(f"{person.role} · {cell.column}: {expected_text}",
                                f"{person.role} · {cell.column}: {cell.observed}")
            if cell.status == R.FAILED and cell.level != "contract":
                failures.append(f"{cell.column} of {person}: expected {cell.expected!r} "
                                f"({cell.standing}), observed {cell.observed!r} — {cell.detail}")
    if failures:
        sent = world.last_sent()
        raise ConformanceFailure(
            f"{world.ref or 'Scenario'}: what the recipient got differs from the source",
            f"after {sent.sender.role} sent from {sent.application} with the {sent.definition} definition",
            "\n".join(failures))


def _barrier(world: World, person: Person) -> None:
    """Prove absence: send an ordinary message to ``person`` through the target and wait for it.

    Whatever the target would have sent earlier (a read receipt, a refused
    message) is expected to arrive before it, or at the latest within the grace
    period after it (harness/conformance/observe.py); anything in either is mail
    that should not exist. What arrived after the barrier also says the target
    reorders deliveries (reported in the failure and on stderr).
    """
    wait = world.observer.prove_nothing(person.address, person.seen_mail)
    barrier = wait.barrier
    if barrier is None or barrier.refused:
        raise ConformanceFailure("The target refused an ordinary message",
                                 f"an ordinary (non-secure) message to {person.address}", wait.detail)
    world.record.add_evidence("email", f"Barrier for {person.address}", barrier.evidence(wait.grace_s))
    # a message the scenario itself sent this person is judged by its own step
    arrived = [message for message in wait.before_barrier + wait.after_barrier
               if not any(s.marker in f"{message.text}\n{message.html}" for s in world.sent
                          if person in s.recipients + s.copied)]
    if barrier.mail_at is None:
        if world.observer.control is not None:
            world.observer.control()  # the mail sandbox, not the target, may have lost it
        raise ConformanceFailure("An ordinary message was not delivered",
                                 f"expected the barrier message to reach {person.address}",
                                 [m.subject for m in arrived])
    for message in arrived:
        world.record.add_evidence("email", f"Unexpected mail for {person.address}", {
            "mailpit_id": message.id, "from": message.sender, "to": ", ".join(message.to),
            "subject": message.subject, "text": (message.text or "")[:4000], "headers": {}})
    if arrived:
        late = f" ({wait.detail})" if wait.reordered else ""
        raise ConformanceFailure(f"{person.role} received mail that should not exist",
                                 f"expected nothing before the barrier message in {person.address}'s Mail Box"
                                 f" nor within the {wait.grace_s or 0:.2f}s grace after it{late}",
                                 [f"{m.id}: {m.subject}" for m in arrived])


@then("the message is refused with a clear error")
def refused_with_a_clear_error(world: World) -> None:
    answer = world.last_sent().response
    world.record.expect("a refusal (SMTP 5xx / HTTP 4xx) with an explanation",
                        f"{answer.status} {answer.text[:200]}")
    if answer.ok or not answer.text.strip():
        raise ConformanceFailure("The target accepted a message with a definition that does not exist",
                                 "expected a refusal with an explanation", f"{answer.status} {answer.text[:300]}")


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
        raise ConformanceFailure(f"{role} did not receive {replier}'s reply",
                                 "expected a Notification or an Email with banner", observation.detail)
