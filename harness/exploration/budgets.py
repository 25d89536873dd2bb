"""Owns: how long exploration may take — the default budget of ``smlite run``, the minimum of a
certification, and the ``Budget`` every step asks whether time is left.

The default keeps a passing ``smlite run`` within about 1.5× the run this round started from (13.5 s
measured, 76 scenarios; its 98 scenarios now take about 9.5 s): ``DEFAULT_SHARE`` of what the scenarios took,
never less than ``MIN_DEFAULT_BUDGET_S``; starting Hypothesis, the last step's overshoot and the report
come on top. ``CLOCK_ALLOWANCE_DAYS`` bounds how far one exploration moves the target's clock. Shrinking a counterexample gets
its own bounded share (``SHRINK_SHARE`` of the budget, at least ``MIN_SHRINK_S``), so a target that
breaks a promise still ends in bounded time.

A budget may also count conversations (``--explore-conversations``): then the reach does not depend on the
machine's speed — same seed, same target, same conversations drawn, however loaded the machine — and the
seconds are only a bound. Only conversations drawn while exploring count; replays while shrinking do not
(their number depends on the time the shrinking gets).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Final

MIN_DEFAULT_BUDGET_S: Final = 3.0
DEFAULT_SHARE: Final = 0.75  # of the scenarios' wall time (the scenarios are faster than the round's start)
CERTIFY_MIN_BUDGET_S: Final = 60.0
CONVERSATION_BOUND_S: Final = 30.0  # the seconds a counted conversation may take before time binds instead
SHRINK_SHARE: Final = 0.5
MIN_SHRINK_S: Final = 5.0
COUNTED_SHRINK_S: Final = 15.0  # shrinking one counterexample of a budget counted in conversations
# how far one exploration may move the target's clock in total: a clock only moves forward, and the
# scenarios of this and later runs against the same target need theirs (28 years a run; the reference
# gateway allows a thousand years). Past it, moving the clock is no longer drawn, and the report says so.
CLOCK_ALLOWANCE_DAYS: Final = 10 * 365


def default_budget(scenarios_wall_s: float, conversations: int | None = None) -> float:
    """The exploration budget of a default ``smlite run`` whose scenarios took ``scenarios_wall_s``; when
    ``conversations`` bound it instead, seconds enough that only a target that hangs reaches them."""
    if conversations is not None:
        return float(max(MIN_DEFAULT_BUDGET_S, conversations * CONVERSATION_BOUND_S))
    return round(max(MIN_DEFAULT_BUDGET_S, DEFAULT_SHARE * max(scenarios_wall_s, 0.0)), 1)


def certify_refusal(budget_s: float | None) -> str:
    """Why a certification cannot run with ``budget_s`` of exploration ("" when it can)."""
    if budget_s is not None and budget_s >= CERTIFY_MIN_BUDGET_S:
        return ""
    given = "the default budget" if budget_s is None else f"{budget_s:g}s"
    return (
        f"--certify explores for at least {CERTIFY_MIN_BUDGET_S:g}s; {given} is less "
        f"(give --explore-budget {CERTIFY_MIN_BUDGET_S:g} or more)"
    )


class BudgetSpent(BaseException):
    """Raised inside a step when the time is up: it leaves Hypothesis at once, unshrunk."""


@dataclass
class Budget:
    seconds: float
    conversations: int | None = None  # None: time alone
    started: float = field(default_factory=time.monotonic)
    shrink_until: float | None = None
    drawn: int = 0  # conversations started while exploring (not while shrinking)

    @property
    def deadline(self) -> float:
        return self.started + self.seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def spent(self) -> bool:
        if self.shrink_until is not None:
            return time.monotonic() >= self.shrink_until
        return self.left() <= 0

    def start_shrinking(self) -> None:
        """A counterexample was found: shrinking it may take its share, even past the exploring deadline (of
        a counted budget, whose seconds are only a bound: ``COUNTED_SHRINK_S`` at most)."""
        if self.shrink_until is None:
            share = SHRINK_SHARE * self.seconds
            if self.conversations is not None:
                share = min(share, COUNTED_SHRINK_S)
            self.shrink_until = time.monotonic() + max(MIN_SHRINK_S, share)

    def stop_shrinking(self) -> None:
        self.shrink_until = None

    def check(self) -> None:
        if self.spent():
            raise BudgetSpent

    def start_conversation(self) -> None:
        """A conversation begins: raises ``BudgetSpent`` when the time or the conversations are spent."""
        self.check()
        if self.shrink_until is not None:
            return
        if self.conversations is not None and self.drawn >= self.conversations:
            raise BudgetSpent
        self.drawn += 1
