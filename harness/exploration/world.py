"""Owns: what one exploration shares across Hypothesis's examples (``Context``: the connection, the budget,
what was checked and found), how a step ends (``PromiseBroken``: shrink this; ``Halted``: the harness cannot
go on, stop without shrinking; ``guarded`` turns the harness's troubles into the latter) and the drawn plan
of one message (``MessagePlan``, ``message_plans``: what the target's capabilities allow).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import requests
from hypothesis import strategies as st

from harness.connection.connect import Connection
from harness.errors import ConformanceFailure, HarnessError
from harness.exploration import strategies as S
from harness.exploration.budgets import Budget
from harness.exploration.checks import Check
from harness.exploration.model import EXTERNAL, INTERNAL, AddressPlan, ContentPlan, Step, Tagger


class PromiseBroken(AssertionError):
    """A promise broke in this conversation: Hypothesis shrinks the conversation that broke it."""

    def __init__(self, check: Check):
        super().__init__(f"{check.promise} ({check.level}) broken for {check.who or 'the target'}: {check.detail}")
        self.check = check


class Halted(BaseException):
    """The harness could not go on (the target stopped answering, a delivery never came): the exploration
    ends, and says why."""


def guarded(action: Callable[..., Any]) -> Callable[..., Any]:
    """A rule whose trouble is the harness's or the network's ends the exploration instead of being shrunk."""

    @functools.wraps(action)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return action(*args, **kwargs)
        except PromiseBroken:
            raise
        except (ConformanceFailure, HarnessError, OSError, requests.RequestException) as exc:
            raise Halted(f"{action.__name__}: {exc}") from exc

    return run


@dataclass
class Context:
    """What one exploration shares across Hypothesis's examples: the connection, the budget, what was found."""

    connection: Connection
    budget: Budget
    tagger: Tagger = field(default_factory=Tagger)
    ignored: set[str] = field(default_factory=set)  # promises already shrunk: no longer raised
    checked: dict[str, int] = field(default_factory=dict)  # promise -> checks made
    exchanges: int = 0
    conversations: int = 0
    drawn: list[str] = field(default_factory=list)  # every step drawn, in order: the run's digest
    smallest: dict[str, tuple[list[Step], Check]] = field(default_factory=dict)  # promise -> shortest seen
    first_broken: dict[str, int] = field(default_factory=dict)  # promise -> counted conversation first broken in
    last_failure: tuple[list[Step], Check] | None = None  # the steps of the example that raised last
    clock_refused: str = ""  # the target refused to move its clock (why): no further moves are drawn
    clock_moved_days: int = 0  # in total, within budgets.CLOCK_ALLOWANCE_DAYS

    @property
    def capabilities(self) -> frozenset[str]:
        return self.connection.driver.capabilities


@dataclass(frozen=True)
class MessagePlan:
    application: str
    definition: str
    sender: AddressPlan
    to: tuple[AddressPlan, ...]
    cc: tuple[AddressPlan, ...]
    bcc: tuple[AddressPlan, ...]
    content: ContentPlan

    def unquoted(self) -> MessagePlan:
        """The same message with every quoted local part written as a dot-atom."""
        to, cc, bcc = (tuple(p.unquoted() for p in group) for group in (self.to, self.cc, self.bcc))
        return replace(self, sender=self.sender.unquoted(), to=to, cc=cc, bcc=bcc)

    @property
    def quoted(self) -> bool:
        return any(p.quoted for p in (self.sender, *self.to, *self.cc, *self.bcc))


def message_plans(
    context: Context, *, single: bool = False, smtp_only: bool = False, plain_domains: bool = False
) -> st.SearchStrategy[MessagePlan]:
    """A message to draw: ``single``, to one recipient and nobody copied (the common case, drawn as often
    as every other shape together)."""
    internal, external = context.connection.profile.internal_domains, context.connection.profile.external_domains
    apps = [a for a in ("outlook", "mac") if "smtp-submission" in context.capabilities]
    apps += ["mpp"] if "mpp" in context.capabilities and not smtp_only else []
    bcc_ok = bool(getattr(context.connection.driver, "sends_bcc", False))

    @st.composite
    def build(draw: st.DrawFn) -> MessagePlan:
        app = draw(st.sampled_from(apps))
        smtp = app != "mpp"
        people = (
            S.addresses(internal, external, (INTERNAL, EXTERNAL)) if plain_domains else S.recipients(internal, external)
        )
        return MessagePlan(
            app,
            draw(S.definitions_named()),
            draw(S.senders(internal)),
            tuple(draw(st.lists(people, min_size=1, max_size=1 if single else 4))),
            () if single else tuple(draw(st.lists(people, max_size=3))),
            tuple(draw(st.lists(people, max_size=1))) if smtp and bcc_ok and not single else (),
            draw(S.contents(attachments_allowed=smtp)),
        )

    return build()
