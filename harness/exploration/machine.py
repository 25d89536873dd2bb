"""Owns: the state machine of conversations with a target — Hypothesis's ``RuleBasedStateMachine`` whose
rules are the actions the source names: send a secure message (any sender, recipients, definition and
content), name an unknown definition, reply and reply all in the SM Portal, open and print there, move
the target's clock, list and try to change the definitions in the Administration Console.

Every rule acts through the driver and then checks, at once, what its action caused
(harness/exploration/checks.py): each recipient's columns, the SM Portal's attributes, the definitions;
moving the clock re-checks what external recipients can read — each one's latest message, for the latest
eight — at its new age (Never Expire, and print, reply and reply all as before). A broken
promise at level source or derived not yet shrunk is raised (``PromiseBroken``) so Hypothesis shrinks the
conversation (one at level contract is kept as the shortest conversation seen, never raised); the
``Budget`` ends the exploration between steps. A rule whose capability the target lacks is never drawn.
"""

from __future__ import annotations

import secrets
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, precondition, rule

from harness.drivers.base import Outgoing, Response
from harness.errors import ConformanceFailure, HarnessError
from harness.exploration import mime
from harness.exploration import strategies as S
from harness.exploration.budgets import CLOCK_ALLOWANCE_DAYS
from harness.exploration.checks import (
    Check,
    definitions_checks,
    expect_content,
    on_promise,
    portal_checks,
    recipient_checks,
)
from harness.exploration.model import (
    CASE_VARIANT,
    EXTERNAL,
    INTERNAL,
    AddressPlan,
    ContentPlan,
    Person,
    Sent,
    Step,
    outgoing,
)
from harness.exploration.world import Context, Halted, MessagePlan, PromiseBroken, guarded, message_plans
from harness.observation import wholeness
from harness.source_model import source

READERS_RECHECKED = 8  # the external recipients whose messages are read again after the clock moved (latest)


def conversation_class(context: Context) -> type[RuleBasedStateMachine]:
    """The state machine of one exploration (its strategies follow the target's profile and capabilities)."""
    caps = context.capabilities
    can_send = bool({"smtp-submission", "mpp"} & caps)
    portal = "sm-portal" in caps
    raw = "smtp-submission" in caps and bool(getattr(context.connection.driver, "sends_raw", False))

    probes = [
        kind
        for kind, possible in (
            ("malformed", raw),
            ("unknown", "smtp-submission" in caps),
            ("console", "admin-console" in caps),
        )
        if possible
    ]

    def clock_left() -> int:
        return 0 if context.clock_refused else CLOCK_ALLOWANCE_DAYS - context.clock_moved_days

    class Conversation(RuleBasedStateMachine):
        messages = Bundle("messages")

        def __init__(self) -> None:
            super().__init__()
            context.budget.start_conversation()
            context.conversations += 1
            self.observer = context.connection.observer()
            self.people: list[Person] = []
            self.steps: list[Step] = []
            # each external recipient's link to the latest message they got (as the suite's steps open it)
            self.readable: dict[str, tuple[Person, str]] = {}
            self.done: set[str] = set()  # the cheap actions a conversation makes once: sends get the steps

        def once(self, action: str) -> bool:
            return action not in self.done

        # -- helpers ---------------------------------------------------------------------------------
        def _step(self, kind: str, **fields: Any) -> None:
            context.budget.check()
            step = Step(kind, fields)
            self.steps.append(step)
            context.drawn.append(step.line())
            context.exchanges += 1

        def _person(self, plan: AddressPlan) -> Person:
            stem = "Ines" if plan.internal else "Erik"
            person = Person(f"{stem}{len(self.people) + 1}", plan, context.tagger.address(plan))
            self.people.append(person)
            return person

        def _verify(self, checks: list[Check]) -> None:
            broken = None
            for check in checks:
                context.checked[check.promise] = context.checked.get(check.promise, 0) + 1
                if check.broken and check.promise not in context.ignored:
                    context.first_broken.setdefault(check.promise, context.budget.drawn)
                    best = context.smallest.get(check.promise)
                    if best is None or len(self.steps) < len(best[0]):
                        context.smallest[check.promise] = (list(self.steps), check)
                    if check.counts_against_source:  # a contract difference is kept as the shortest seen,
                        broken = broken or check  # and only what decides the verdict spends time shrinking
            if broken is not None:
                context.last_failure = (list(self.steps), broken)
                context.budget.start_shrinking()
                raise PromiseBroken(broken)

        def _accepted_quoted(self, sent: Sent, response: Response) -> bool:
            """An address with a quoted local part: the mail standards allow it; whether the target accepts it
            is checked first, and alone (False: refused, nothing else can be asked of the message)."""
            quoted = [p.name for p in (sent.sender, *sent.everyone) if p.plan.local.startswith('"')]
            if quoted:
                detail = f"{', '.join(quoted)} quoted: answered {response.status} {response.text[:200]}"
                self._verify([on_promise("every-address-form-accepted", response.ok, sent.sender.name, detail)])
            return response.ok or not quoted

        def _observe(self, sent: Sent, people: list[Person], application: str, sender_internal: bool) -> None:
            self.observer.recipients_together(sent.marker, [p.address for p in people])
            checks: list[Check] = []
            for person in people:
                try:
                    found, links = recipient_checks(self.observer, sent, person, application, sender_internal)
                except HarnessError as exc:  # not even an ordinary message reaches a quoted local part
                    if not person.plan.local.startswith('"'):
                        raise
                    found, links = [on_promise("every-address-form-accepted", False, person.name, str(exc)[:600])], []
                checks += found
                if links:
                    sent.links[person.name] = links[0]
            # what external recipients can read, each their latest message: re-checked when the clock moves
            for p in people:
                if not p.internal and p.name in sent.links:
                    self.readable.pop(p.name, None)
                    self.readable[p.name] = (p, sent.links[p.name])
            self._verify(checks)

        # -- rules -----------------------------------------------------------------------------------
        @precondition(lambda self: can_send)
        @rule(target=messages, plan=message_plans(context))
        @guarded
        def send(self, plan: MessagePlan) -> Any:
            sender = self._person(plan.sender)
            to, cc, bcc = ([self._person(p) for p in group] for group in (plan.to, plan.cc, plan.bcc))
            self._step("send", plan=plan, names=[p.name for p in (sender, *to, *cc, *bcc)])
            marker = f"smlite-{secrets.token_hex(6)}"
            subject = f"{plan.content.subject_words} [{marker[-6:]}]"
            message = outgoing(sender, {"to": to, "cc": cc, "bcc": bcc}, subject, marker, plan.content)
            canonical = source.definition(plan.definition)
            quoted = [p.name for p in (sender, *to, *cc, *bcc) if p.plan.local.startswith('"')]
            try:
                response = context.connection.driver.send(plan.application, plan.definition, message)
            except (ConformanceFailure, HarnessError) as exc:  # e.g. an MPP session refused to this sender
                if quoted:
                    response = Response(422, text=" ".join(str(exc).split()))
                elif plan.sender.form == CASE_VARIANT and isinstance(exc, ConformanceFailure):
                    self._verify([on_promise("internal-domain-in-any-case", False, sender.name, str(exc)[:600])])
                    raise
                else:
                    raise Halted(f"send: {exc}") from exc
            sent = Sent(sender, to, plan.application, plan.definition, canonical, subject, marker, response, cc, bcc)
            sent.content = plan.content
            if not self._accepted_quoted(sent, response):  # said once; the rest of the message is still
                return self.send(plan.unquoted()) if plan.quoted else sent  # worth judging: sent again
            expect_content(self.observer, sent)
            self._observe(sent, sent.everyone, plan.application, sender.internal)
            return sent  # refused or not: what is drawn next never depends on the target

        @precondition(lambda self: can_send)
        @rule(target=messages, plan=message_plans(context, single=True))
        def send_to_one(self, plan: MessagePlan) -> Any:
            return self.send(plan)

        @precondition(lambda self: raw)
        @rule(
            target=messages,
            plan=message_plans(context, single=True, smtp_only=True, plain_domains=True),
            shape=mime.raw_plans(),
        )
        @guarded
        def send_as_written(self, plan: MessagePlan, shape: mime.RawPlan) -> Any:
            """A whole message of a MIME shape real mail has, sent as written: every copy keeps all of it."""
            sender, to = self._person(plan.sender), [self._person(p) for p in plan.to]
            self._step("raw", plan=plan, shape=shape, names=[sender.name, *(p.name for p in to)])
            written = mime.build(shape, plan.sender, list(plan.to), f"smlite-{secrets.token_hex(6)}")
            marker = wholeness.marker_of(written) or ""
            subject = str(wholeness.parse(wholeness.crlf(written)).get("Subject", ""))
            message = Outgoing(sender.address, [p.address for p in to], subject, "", raw=written)
            self.observer.expect_original(marker, written)
            response = context.connection.driver.send(plan.application, plan.definition, message)
            canonical = source.definition(plan.definition)
            sent = Sent(sender, to, plan.application, plan.definition, canonical, subject, marker, response)
            if not self._accepted_quoted(sent, response):
                return self.send_as_written(plan.unquoted(), shape) if plan.quoted else sent
            self._observe(sent, to, plan.application, sender.internal)
            return sent

        @precondition(lambda self: any(self.once(probe) for probe in probes))
        @rule(data=st.data())
        def probe_the_edges(self, data: st.DataObject) -> None:
            """The cheap probes a conversation makes once each — broken mail, an unknown definition, the
            Administration Console — as one rule, so that together they are drawn as often as one action."""
            kind = data.draw(st.sampled_from([probe for probe in probes if self.once(probe)]), label="probe")
            if kind == "malformed":
                self.send_malformed(data.draw(st.sampled_from(mime.MALFORMED)), data.draw(S.definitions_named()))
            elif kind == "unknown":
                profile = context.connection.profile
                self.name_an_unknown_definition(
                    data.draw(S.senders(profile.internal_domains)),
                    data.draw(S.recipients(profile.internal_domains, profile.external_domains)),
                    data.draw(S.unknown_definitions()),
                )
            else:
                self.console(
                    data.draw(st.sampled_from(tuple(source.DEFINITIONS))),
                    data.draw(st.sampled_from(("change", "delete"))),
                )

        @guarded
        def send_malformed(self, kind: str, definition: str) -> None:
            sender = self._person(AddressPlan("ines", context.connection.profile.internal_domains[0], INTERNAL))
            whom = self._person(AddressPlan("erik", context.connection.profile.external_domains[0], EXTERNAL))
            self.done.add("malformed")
            self._step("malformed", malformation=kind, definition=definition, names=[sender.name, whom.name])
            written = mime.malformed(kind, f"smlite-{secrets.token_hex(6)}")
            message = Outgoing(sender.address, [whom.address], "malformed", "", raw=written)
            answer = context.connection.driver.send("outlook", definition, message)
            detail = f"{kind} ({wholeness.malformed(written)}): answered {answer.status} {answer.text[:200]}"
            holds = not answer.ok and answer.status >= 500
            self._verify([on_promise("malformed-mail-refused", holds, sender.name, detail)])

        @guarded
        def name_an_unknown_definition(self, sender: AddressPlan, to: AddressPlan, name: str) -> None:
            who, whom = self._person(sender), self._person(to)
            self.done.add("unknown")
            self._step("unknown", definition=name, names=[who.name, whom.name], plans=[sender, to])
            message = outgoing(
                who, {"to": [whom], "cc": [], "bcc": []}, "unknown definition", "-", ContentPlan("", "x")
            )
            answer = context.connection.driver.send("outlook", name, message)
            detail = f"the definition {name!r} was answered {answer.status} {answer.text[:200]}"
            self._verify([on_promise("unknown-definition-refused", not answer.ok, who.name, detail)])

        @precondition(lambda self: portal)
        @rule(target=messages, message=messages, pick=st.integers(0, 5), reply_all=st.booleans())
        @guarded
        def reply(self, message: Sent, pick: int, reply_all: bool) -> Any:
            candidates = [p for p in message.to + message.cc if p.name in message.links]
            if not candidates:
                return message
            replier = candidates[pick % len(candidates)]
            self._step("reply", replier=replier.name, reply_all=reply_all)
            marker = f"smlite-{secrets.token_hex(6)}"
            text = f"A reply.\n\nReference: {marker}\n"
            answer = context.connection.driver.portal_reply(message.links[replier.name], text, reply_all=reply_all)
            if not replier.internal:
                allowed = "reply-all-offered" if reply_all else "reply-offered"
                self._verify([on_promise(allowed, answer.ok, replier.name, f"{answer.status} {answer.text[:200]}")])
            if not answer.ok:
                return message
            others = [p for p in [message.sender, *message.to, *message.cc] if p is not replier]
            people = others if reply_all else [message.sender]
            reply = Sent(
                replier, people, "portal", message.canonical, message.canonical, message.subject, marker, answer
            )
            reply.replied_to = message
            self._observe(reply, people, "portal", replier.internal)
            return reply

        @precondition(lambda self: portal)
        @rule(message=messages, pick=st.integers(0, 5))
        @guarded
        def open_and_print(self, message: Sent, pick: int) -> None:
            external = [p for p in message.to + message.cc + message.bcc if p.name in message.links and not p.internal]
            if not external:
                return
            person = external[pick % len(external)]
            self._step("open", who=person.name, sender=message.sender.name)
            link = message.links[person.name]
            driver = context.connection.driver
            opened, printed = driver.portal_open(link), driver.portal_print(link)
            checks = portal_checks(opened, printed, person)
            if opened.ok:
                if "smtp-submission" in caps:  # a barrier proves that no read receipt came
                    wait = self.observer.prove_nothing(message.sender.address, message.sender.seen_mail)
                    came = [m.subject for m in wait.before_barrier + wait.after_barrier]
                    checks.append(on_promise("no-read-receipt", not came, message.sender.name, f"received {came}"))
            self._verify(checks)

        @precondition(lambda self: "clock" in caps and bool(self.readable) and clock_left() > 0)
        @rule(days=S.clock_moves())
        @guarded
        def move_the_clock(self, days: int) -> None:
            days = min(days, clock_left())  # the exploration's allowance (budgets.CLOCK_ALLOWANCE_DAYS)
            readers = list(self.readable.values())[-READERS_RECHECKED:]
            self._step("clock", days=days, who=[person.name for person, _ in readers])
            moved = context.connection.driver.advance_clock(days)
            context.clock_moved_days += days if moved.ok else 0
            if not moved.ok:  # e.g. a bound on how far the clock goes: said in the report, never drawn again
                context.clock_refused = f"moving the clock {days} days: {moved.status} {moved.text[:200]}"
            checks = []
            driver = context.connection.driver
            for person, link in readers if moved.ok else []:  # every attribute holds at any time
                opened = driver.portal_open(link)
                body = opened.body if isinstance(opened.body, dict) else {}
                holds = opened.ok and body.get("expires_at") is None
                detail = f"after {days} days: {opened.status} expires_at {body.get('expires_at')!r}"
                checks.append(on_promise("never-expires", holds, person.name, detail))
                if opened.ok:
                    checks += portal_checks(opened, driver.portal_print(link), person)
            self._verify(checks)

        @guarded
        def console(self, name: str, action: str) -> None:
            self.done.add("console")
            self._step("console", definition=name, action=action)
            driver = context.connection.driver
            listed = driver.list_definitions()
            attempt = {"attributes": [{"name": "Allow External Recipients to Print", "value": "True"}]}
            refused = driver.change_definition(action, name, attempt if action == "change" else {})
            self._verify(definitions_checks(listed, refused, driver.list_definitions()))

    return Conversation
