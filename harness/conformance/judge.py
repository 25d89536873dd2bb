"""One judgement of what a recipient got, used by the suite, ``smlite simulate`` and ``smlite load``.

Owns: ``observe_recipient()`` (the three columns, observed through the driver and the mailbox,
keyed by column — never by position) and ``judge()`` (each observed column against the source's
cell): a required cell (stated or derived) passes or fails; a cell the source leaves blank is
only *observed*; a column the target cannot show (a capability it does not declare) is *not
applicable*, never a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from harness.conformance import results as R
from harness.conformance.observe import Observation, Observer
from harness.spec.source import COLUMNS, DERIVED, STATED, Cell

LEVELS = {STATED: "source", DERIVED: "derived"}
NOT_OBSERVABLE = "the target lacks the capability to observe this"


@dataclass
class Judgement:
    column: str
    expected: str | None
    standing: str
    status: str  # passed | failed | observed | not_applicable
    observed: str | None = None
    detail: str = ""
    evidence: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    level: str = ""  # source | derived | contract ("" for an observed cell)

    def __post_init__(self) -> None:
        self.level = self.level or LEVELS.get(self.standing, "")


def observe_recipient(observer: Observer, address: str, internal: bool, cells: Mapping[str, Cell], *,
                      marker: str | None, subject: str, seen_mail: set[str] | None = None,
                      seen_mpp: set[str] | None = None) -> dict[str, Observation | None]:
    """What ``address`` got in each column of ``cells``; None where the target cannot show it."""
    capabilities = observer.driver.capabilities
    seen_mail = set() if seen_mail is None else seen_mail
    seen_mpp = set() if seen_mpp is None else seen_mpp
    observed: dict[str, Observation | None] = {}
    if "Mail Box" in cells:
        observed["Mail Box"] = observer.mailbox(address, seen_mail, marker)
    if "MPP" in cells:
        observed["MPP"] = None if internal and "mpp" not in capabilities else observer.mpp(
            address, internal, seen_mpp, marker, required=cells["MPP"].required)
    if "Message in SM Portal" in cells:
        links = [link for o in observed.values() if o for link in o.links]
        observed["Message in SM Portal"] = (observer.sm_portal(address, links, subject, marker)
                                            if "sm-portal" in capabilities else None)
    return observed


def judge(cells: Mapping[str, Cell], observed: Mapping[str, Observation | None]) -> list[Judgement]:
    """Each column of ``cells`` against what was observed in that same column.

    A required cell passes when the value matches and no derived check on the same item
    failed. A recognition signal the target does not give (contract) is a judgement of its
    own at level ``contract``: reported beside the verdict, never failing the cell.
    """
    judgements = []
    for column in (c for c in COLUMNS if c in cells):
        cell, seen = cells[column], observed.get(column)
        if seen is None:
            judgements.append(Judgement(column, cell.value, cell.standing, R.NOT_APPLICABLE, None, NOT_OBSERVABLE))
            continue
        detail = seen.detail
        if not cell.required:
            status = R.CELL_OBSERVED
        elif seen.value != cell.value:
            status = R.FAILED
        elif seen.derived:
            status, detail = R.FAILED, "; ".join(seen.derived) + f" — {seen.detail}"
        else:
            status = R.PASSED
        level = "derived" if status == R.FAILED and seen.value == cell.value and seen.derived else ""
        judgements.append(Judgement(column, cell.value, cell.standing, status, seen.value, detail,
                                    list(seen.evidence), level))
        for difference in seen.contract if cell.required and seen.value == cell.value else ():
            judgements.append(Judgement(column, "the contract's recognition signals", cell.standing, R.FAILED,
                                        difference, difference, [], "contract"))
    return judgements
