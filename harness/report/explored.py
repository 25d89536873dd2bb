"""Owns: a run's explorations as the report's three files show them — one outcome per promise explored
(``outcomes``): ``failed`` for a counterexample that counts against the source, ``contract_difference``
for one at level contract, ``passed`` for a promise checked and never broken (harness/policy.py decides
which), the same in index.html's "Explored" section, junit.xml's testsuite ``explored`` and
cucumber.json's feature ``explored``.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness import policy
from harness import results as R

SUITE = "explored"


@dataclass(frozen=True)
class Outcome:
    promise: str
    status: str  # passed | failed | contract_difference
    checks: int
    message: str = ""
    detail: str = ""


def outcomes(results: R.RunResults) -> list[Outcome]:
    """Each promise an exploration of the run checked or broke, in the order of the promises' keys."""
    found: dict[str, Outcome] = {}
    for exploration in results.explorations:
        for promise, checks in exploration.promises_checked.items():
            found.setdefault(promise, Outcome(promise, policy.PASSED, checks))
        for c in exploration.counterexamples:
            status = policy.shown_cell_status(policy.FAILED, c.level, policy.FAILED)
            message = f"{c.promise} ({c.level}) broken for {c.who}: {c.detail.splitlines()[0] if c.detail else ''}"
            detail = "\n".join([c.words, c.detail, "", *c.steps, "", c.feature, *c.commands])
            found[c.promise] = Outcome(
                c.promise, status, exploration.promises_checked.get(c.promise, 1), message, detail
            )
    return [found[k] for k in sorted(found)]


def counts(results: R.RunResults) -> dict[str, int]:
    n = {policy.PASSED: 0, policy.FAILED: 0, policy.CONTRACT_DIFFERENCE: 0}
    for outcome in outcomes(results):
        n[outcome.status] += 1
    return n
