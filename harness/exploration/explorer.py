"""Owns: one exploration of a target within a budget — running the conversation state machine with
``hypothesis.stateful.run_state_machine_as_test``, collecting one shrunk counterexample per broken
promise, and what the exploration covered (exchanges, promises checked, what was not explored).

Hypothesis stops at the first failure and shrinks it; so exploration runs in rounds: a round ends with a
counterexample (shrunk within its time share, or the smallest seen when that share ran out), that promise
is no longer raised, and the next round explores on with the seed plus the round's number. Same seed,
same target: the same exchanges. Found examples are kept in a ``DirectoryBasedExampleDatabase`` under
the run's folder (one directory per round), so a round can be replayed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Verbosity, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Flaky
from hypothesis.stateful import run_state_machine_as_test

from harness.connection.connect import Connection
from harness.exploration.budgets import CLOCK_ALLOWANCE_DAYS, Budget, BudgetSpent
from harness.exploration.checks import Check
from harness.exploration.machine import Context, Halted, PromiseBroken, conversation_class
from harness.exploration.minimise.reproduction import reproduction
from harness.exploration.model import Step, digest
from harness.source_model import promises as P

STEPS_PER_CONVERSATION = 6
MAX_ROUNDS = 50  # one per promise at most, and a bound


@dataclass
class Counterexample:
    promise: str
    level: str
    kind: str
    words: str
    who: str
    detail: str
    steps: list[Step]
    shrunk: bool  # False: the shrinking's time share ran out, this is the smallest seen
    found_at: int = 0  # the counted conversation in which it was first broken (the reach it took)
    feature: str = ""
    commands: list[str] = field(default_factory=list)


@dataclass
class Exploration:
    seed: int
    budget_s: float
    elapsed_s: float = 0.0
    exchanges: int = 0
    conversations: int = 0
    checks: dict[str, int] = field(default_factory=dict)
    counterexamples: list[Counterexample] = field(default_factory=list)
    not_explored: list[str] = field(default_factory=list)
    digest: str = ""
    database: str = ""
    error: str = ""
    drawn: list[str] = field(default_factory=list)
    conversations_budget: int | None = None


def not_explored(connection: Connection) -> list[str]:
    """What a target's capabilities leave unexplored, in words."""
    caps = connection.driver.capabilities
    missing = []
    if "smtp-submission" not in caps:
        missing.append("Mimecast for Outlook and Mac, attachments, Bcc and unknown definitions (no smtp-submission)")
    if "mpp" not in caps:
        missing.append("sending from the Mimecast Personal Portal and the MPP column (no mpp)")
    if "sm-portal" not in caps:
        missing.append("replies, opening and printing in the SM Portal, the attributes (no sm-portal)")
    if "clock" not in caps:
        missing.append("moving the target's clock: Never Expire over time (no clock)")
    if "admin-console" not in caps:
        missing.append("the definitions in the Administration Console (no admin-console)")
    if not getattr(connection.driver, "sends_bcc", False):
        missing.append("Bcc recipients (the driver does not send a Bcc)")
    if not getattr(connection.driver, "sends_raw", False):
        missing.append("enclosed messages and malformed mail (the driver sends no raw message)")
    return missing


def _settings(database: Path | None) -> settings:
    return settings(
        max_examples=100_000,
        derandomize=False,  # the exploration's own seed decides, whatever profile is loaded
        stateful_step_count=STEPS_PER_CONVERSATION,
        deadline=None,
        database=DirectoryBasedExampleDatabase(str(database)) if database else None,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
        report_multiple_bugs=False,
    )


def _found(context: Context, check: Check, steps: list[Step], shrunk: bool, exploration: Exploration) -> None:
    promise = P.promise(check.promise)
    context.ignored.add(check.promise)
    if any(c.promise == check.promise for c in exploration.counterexamples):
        return
    found = Counterexample(
        check.promise, check.level, promise.kind, promise.words, check.who, check.detail, steps, shrunk
    )
    found.found_at = context.first_broken.get(check.promise, context.budget.drawn)
    found.feature, found.commands = reproduction(found.promise, steps, context.connection.profile, exploration.seed)
    exploration.counterexamples.append(found)


def explore(
    connection: Connection,
    *,
    seed: int,
    budget_s: float,
    folder: Path | None = None,
    conversations: int | None = None,
) -> Exploration:
    """Explore the target of ``connection`` for ``budget_s`` seconds with ``seed`` (and at most
    ``conversations`` conversations, when given); ``folder`` keeps the example database (None: none kept)."""
    exploration = Exploration(seed, budget_s, not_explored=not_explored(connection))
    exploration.conversations_budget = conversations
    exploration.database = str(folder / "examples") if folder else ""
    if folder:
        (folder / "examples").mkdir(parents=True, exist_ok=True)  # kept with the run, found examples or none
    budget = Budget(budget_s, conversations)
    context = Context(connection, budget)
    started = time.monotonic()
    if not {"smtp-submission", "mpp"} & connection.driver.capabilities:
        exploration.error = "nothing to explore: the target can send neither by SMTP submission nor from the MPP"
        return exploration
    for round_number in range(MAX_ROUNDS):
        if budget.spent():
            break
        machine: Any = hypothesis_seed(seed + round_number)(conversation_class(context))
        database = folder / "examples" / f"round-{round_number}" if folder else None
        context.last_failure = None
        try:
            run_state_machine_as_test(machine, settings=_settings(database))
            break
        except PromiseBroken as broken:
            last: tuple[list[Step], Check] = context.last_failure or ([], broken.check)
            _found(context, last[1], last[0], True, exploration)
        except BudgetSpent:
            break
        except Flaky:  # the target answered a replayed conversation otherwise: keep the smallest seen, go on
            if context.last_failure is not None:
                steps, check = context.last_failure
                _found(context, check, steps, False, exploration)
        except Halted as halted:
            exploration.error = str(halted)
            break
        finally:
            budget.stop_shrinking()
    for key, (steps, check) in list(context.smallest.items()):
        if key not in context.ignored:  # broken, but not shrunk before the time ran out: the smallest seen
            _found(context, check, steps, False, exploration)
    if context.clock_refused:
        exploration.not_explored.append(f"the clock moved further: the target refused ({context.clock_refused})")
    elif context.clock_moved_days >= CLOCK_ALLOWANCE_DAYS:
        exploration.not_explored.append(
            f"the clock moved past {CLOCK_ALLOWANCE_DAYS} days in total (the exploration's allowance: the target's "
            "clock only moves forward, and the scenarios of later runs need theirs)"
        )
    exploration.elapsed_s = round(time.monotonic() - started, 2)
    exploration.exchanges = context.exchanges
    exploration.conversations = context.conversations
    exploration.checks = dict(sorted(context.checked.items()))
    exploration.digest = digest(context.drawn)
    exploration.drawn = list(context.drawn)
    return exploration
