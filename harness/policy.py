"""The one judgement policy: what a check's level does to a cell, a scenario and a verdict, and the words for each.

Owns:

* the **levels** of a check: ``source`` (the page states it), ``derived`` (it follows from the page's
  own words), ``contract`` (docs/contract.md chose where the page is silent) and ``observed`` (the page
  is silent: recorded, never judged; written ``""`` in results.json);
* the **statuses** of a cell (passed, failed, observed, not_applicable, not_run) and of a scenario
  (passed, failed, not_applicable, not_specified, harness_error), and the statuses the report *shows*
  (a failure at level contract shows as a contract difference);
* the **rules**: only a failed check at level source or derived counts against the source — it fails
  its cell, its scenario and the verdict; a failed contract check is a contract difference, reported
  beside the verdict and never changing it; an observed cell is never judged. A check whose question
  rests on the contract (a ``@contract`` scenario, table 3 applied to a mixed message's internal
  recipients) is a contract check whatever its cell's standing;
* the **verdict** of a run (Conformant, Conformant (partial …), Not conformant, Incomplete) and its
  exit code, and the verdict of one message (``smlite simulate``), with the words for each.

Every reader asks here: the suite's steps and pytest plugin, ``smlite simulate``, the load sample,
the results model, the report, ``compare``, the dashboard, JUnit and Cucumber. None decides on its
own. Pure functions over strings: nothing here imports the rest of the harness.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

# -- levels ---------------------------------------------------------------------------------------
SOURCE: Final = "source"
DERIVED: Final = "derived"
CONTRACT: Final = "contract"
OBSERVED: Final = "observed"
LEVELS: Final = (SOURCE, DERIVED, CONTRACT, OBSERVED)
JUDGED_AGAINST_SOURCE: Final = frozenset({SOURCE, DERIVED})

# The standing of a cell in harness/source_model/source.py, and the level a check of it has.
STATED, STANDING_DERIVED, NOT_SPECIFIED_STANDING = "stated", "derived", "not-specified"
_LEVEL_OF_STANDING: Final = {STATED: SOURCE, STANDING_DERIVED: DERIVED, NOT_SPECIFIED_STANDING: OBSERVED}

# -- statuses -------------------------------------------------------------------------------------
PASSED: Final = "passed"
FAILED: Final = "failed"
NOT_APPLICABLE: Final = "not_applicable"
NOT_SPECIFIED: Final = "not_specified"
HARNESS_ERROR: Final = "harness_error"
SCENARIO_STATUSES: Final = (PASSED, FAILED, NOT_APPLICABLE, NOT_SPECIFIED, HARNESS_ERROR)
CELL_OBSERVED: Final = "observed"
CELL_NOT_RUN: Final = "not_run"
# What the report shows for a failed contract check, and for a scenario that failed on nothing else.
CONTRACT_DIFFERENCE: Final = "contract_difference"
ABSENT, MISSING = "absent", "missing"

# Shown statuses, worst first: a source cell shows the worst of its scenarios' cells.
SEVERITY: Final = (FAILED, CONTRACT_DIFFERENCE, HARNESS_ERROR, CELL_NOT_RUN, NOT_APPLICABLE, CELL_OBSERVED, PASSED)

# -- words ----------------------------------------------------------------------------------------
LABELS: Final[Mapping[str, str]] = {
    PASSED: "Passed",
    FAILED: "Failed",
    NOT_APPLICABLE: "Not applicable",
    NOT_SPECIFIED: "Not specified",
    HARNESS_ERROR: "Harness error",
    CELL_OBSERVED: "Observed",
    CELL_NOT_RUN: "Not run",
    ABSENT: "Absent",
    CONTRACT_DIFFERENCE: "Contract difference",
    MISSING: "Missing",
}
# One judged column of one recipient, as ``smlite simulate`` prints it.
_JUDGEMENT_WORDS: Final = {PASSED: "matches", CELL_OBSERVED: "observed", NOT_APPLICABLE: "not applicable"}
DIFFERS_FROM_SOURCE: Final = "DIFFERS"
DIFFERS_FROM_CONTRACT: Final = "differs from the contract"
# A scenario's progress mark in the terminal.
MARKS: Final[Mapping[str, str]] = {
    PASSED: "ok",
    FAILED: "FAILED",
    NOT_APPLICABLE: "n/a",
    NOT_SPECIFIED: "observed",
    HARNESS_ERROR: "HARNESS ERROR",
}
LEVEL_WORDS: Final[Mapping[str, str]] = {
    SOURCE: "the source states it",
    DERIVED: "follows from the source's words",
    CONTRACT: "a choice of docs/contract.md, reported beside the verdict",
    OBSERVED: "the source is silent: observed",
}

CONFORMANT: Final = "Conformant"
NOT_CONFORMANT: Final = "Not conformant"
INCOMPLETE: Final = "Incomplete"
EXIT_CONFORMANT, EXIT_NOT_CONFORMANT, EXIT_INCOMPLETE = 0, 1, 2


def level_of(standing: str) -> str:
    """The level of a check of a cell with ``standing`` (stated, derived, not-specified)."""
    return _LEVEL_OF_STANDING.get(standing, OBSERVED)


def written(level: str) -> str:
    """The level as results.json writes it: ``""`` for observed."""
    return "" if level in (OBSERVED, "") else level


def read(level: str | None) -> str:
    """The level results.json wrote (``""`` or absent: observed)."""
    return level if level in (SOURCE, DERIVED, CONTRACT) else OBSERVED


def on_contract(level: str, *, keep_derived: bool = False) -> str:
    """The level of a check whose question rests on docs/contract.md rather than on the source.

    In a ``@contract`` scenario every judged check becomes ``contract``. For a message the tables do not
    cover as a whole (SPEC-READING defect D4: internal and external recipients together), applying table
    3 to its internal recipients is the contract's reading: the table's value becomes ``contract``, while
    a derived check of what they got (``keep_derived``) still follows from the source's own words.
    An observed cell stays observed."""
    level = read(level)
    if level == OBSERVED or (keep_derived and level == DERIVED):
        return level
    return CONTRACT


def counts_against_source(status: str, level: str | None) -> bool:
    """The one rule of conformance: a failed check at level source or derived. Nothing else fails a cell,
    a scenario or a run."""
    return status == FAILED and read(level) in JUDGED_AGAINST_SOURCE


def is_contract_difference(status: str, level: str | None) -> bool:
    """A failed check at level contract: reported beside the verdict, never changing it."""
    return status == FAILED and read(level) == CONTRACT


def cell_status(*, required: bool, matches: bool) -> str:
    """A judged cell's status: a required cell passes or fails; a cell the source leaves blank is observed."""
    if not required:
        return CELL_OBSERVED
    return PASSED if matches else FAILED


# -- scenarios ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """How a scenario ended, before the policy turns it into a status."""

    kind: str  # passed | conformance_failure | not_applicable | harness_error
    message: str = ""


def scenario_status(outcome: Outcome, *, not_specified: bool, contract: bool) -> str:
    """The status a scenario reports.

    ``not_specified``: the source is silent on what the scenario checks (``@not-specified``): it passes
    as *not specified*, never as passed. ``contract``: it checks a choice of docs/contract.md
    (``@contract``): whatever happened, its status is *not specified* — its failure is a contract
    difference (see ``contract_cell_status``) — unless it could not run at all."""
    if outcome.kind == "not_applicable":
        return NOT_APPLICABLE
    if outcome.kind == "harness_error":
        return HARNESS_ERROR
    if contract:
        return NOT_SPECIFIED
    if outcome.kind == "conformance_failure":
        return FAILED
    return NOT_SPECIFIED if not_specified else PASSED


def contract_cell_status(outcome: Outcome) -> str | None:
    """The status of the contract check a ``@contract`` scenario stands for (None when it never ran)."""
    return {"passed": PASSED, "conformance_failure": FAILED}.get(outcome.kind)


def required(*, not_specified: bool, contract: bool) -> bool:
    """Whether a scenario's result can decide the verdict."""
    return not (not_specified or contract)


def scenario_fails(status: str) -> bool:
    """A scenario counts against the source when it failed: the engine fails a scenario only for a check
    at level source or derived (``counts_against_source``), never for a contract difference."""
    return status == FAILED


def shown_cell_status(status: str, level: str | None, scenario_status: str) -> str:
    """A scenario's cell as the report shows it: a cell its scenario never reached takes the scenario's
    reason; a failed contract check is a contract difference."""
    if status == CELL_NOT_RUN and scenario_status in (HARNESS_ERROR, NOT_APPLICABLE):
        return scenario_status
    if is_contract_difference(status, level):
        return CONTRACT_DIFFERENCE
    return status


def worst(statuses: Iterable[str]) -> str:
    """The worst of shown statuses (``not_run`` for none)."""
    present = set(statuses)
    return next((s for s in SEVERITY if s in present), CELL_NOT_RUN)


def judgement_words(status: str, level: str | None) -> str:
    """One judged column of one recipient in words: matches, DIFFERS, differs from the contract, …"""
    if status == FAILED:
        return DIFFERS_FROM_CONTRACT if read(level) == CONTRACT else DIFFERS_FROM_SOURCE
    return _JUDGEMENT_WORDS.get(status, status)


# -- verdicts -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    kind: str  # Conformant | Not conformant | Incomplete
    text: str  # what the terminal, the report and results.json say
    exit_code: int

    @property
    def conformant(self) -> bool:
        return self.kind == CONFORMANT


def run_verdict(*, failed: int, complete: bool, not_applicable: int = 0, selection: str = "") -> Verdict:
    """A run's verdict. ``failed``: scenarios that count against the source; ``complete``: every selected
    scenario reported and none hit a harness error. Conformant only for a complete run without a failure."""
    if failed:
        return Verdict(NOT_CONFORMANT, NOT_CONFORMANT, EXIT_NOT_CONFORMANT)
    if not complete:
        return Verdict(INCOMPLETE, INCOMPLETE, EXIT_INCOMPLETE)
    text = CONFORMANT
    if not_applicable:
        text += f" (partial: {not_applicable} not applicable)"
    if selection:
        text += f" — only the scenarios matching -k {selection!r}"
    return Verdict(CONFORMANT, text, EXIT_CONFORMANT)


def message_verdict(judgements: Iterable[tuple[str, str | None]], *, accepted: bool = True) -> Verdict:
    """The verdict on one message's recipients (``smlite simulate``): ``judgements`` are (status, level)
    of every judged column. Contract differences are listed beside it and never change it."""
    if not accepted:
        return Verdict(NOT_CONFORMANT, "refused by the target", EXIT_NOT_CONFORMANT)
    if any(counts_against_source(status, level) for status, level in judgements):
        return Verdict(NOT_CONFORMANT, "DIFFERS from the source", EXIT_NOT_CONFORMANT)
    return Verdict(CONFORMANT, "matches the source", EXIT_CONFORMANT)


def contract_line(differences: int) -> str:
    """e.g. "contract: 2 differences" ("contract: no differences" when there are none)."""
    return f"contract: {differences or 'no'} difference{'' if differences == 1 else 's'}"


CONTRACT_NOTE: Final = "choices of docs/contract.md, not of the source; they never change the verdict"
