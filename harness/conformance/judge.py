"""One judgement of what a recipient got, used by the suite, ``smlite simulate`` and the load sample.

Owns ``observe_recipient()`` (the three columns, observed through the driver and the mailbox,
keyed by column — never by position) and ``judge()`` (each observed column against the source's
cell, at the level harness/policy.py gives it): a required cell (stated or derived) passes or
fails; a cell the source leaves blank is only *observed*; a column the target cannot show (a
capability it does not declare) is *not applicable*, never a failure. ``Basis`` says what the
question itself rests on: the source (a table row), the contract's per-recipient reading of a
message no table covers as a whole (SPEC-READING defect D4), or a ``@contract`` scenario.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness import policy
from harness.observation.observer import Observer
from harness.observation.values import Observation
from harness.source_model.source import COLUMNS, Cell

NOT_OBSERVABLE = "the target lacks the capability to observe this"


class Basis(enum.Enum):
    SOURCE = "source"  # a row of the source's tables
    CONTRACT_READING = "contract reading"  # defect D4: table 3 for a mixed message's internal recipients
    CONTRACT = "contract"  # a @contract scenario: the source is silent, docs/contract.md chose


@dataclass
class Judgement:
    column: str
    expected: str | None
    standing: str
    status: str  # passed | failed | observed | not_applicable
    observed: str | None = None
    detail: str = ""
    evidence: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    level: str = ""  # source | derived | contract ("" for an observed or not applicable cell)

    @property
    def counts_against_source(self) -> bool:
        return policy.counts_against_source(self.status, self.level)


def observe_recipient(
    observer: Observer,
    address: str,
    internal: bool,
    cells: Mapping[str, Cell],
    *,
    marker: str | None,
    subject: str,
    seen_mail: set[str] | None = None,
    seen_mpp: set[str] | None = None,
) -> dict[str, Observation | None]:
    """What ``address`` got in each column of ``cells``; None where the target cannot show it."""
    capabilities = observer.driver.capabilities
    seen_mail = set() if seen_mail is None else seen_mail
    seen_mpp = set() if seen_mpp is None else seen_mpp
    observed: dict[str, Observation | None] = {}
    if "Mail Box" in cells:
        observed["Mail Box"] = observer.mailbox(address, seen_mail, marker)
    if "MPP" in cells:
        observed["MPP"] = (
            None
            if internal and "mpp" not in capabilities
            else observer.mpp(address, internal, seen_mpp, marker, required=cells["MPP"].required)
        )
    if "Message in SM Portal" in cells:
        links = [link for o in observed.values() if o for link in o.links]
        observed["Message in SM Portal"] = (
            observer.sm_portal(address, links, subject, marker) if "sm-portal" in capabilities else None
        )
    return observed


def _level(level: str, basis: Basis) -> str:
    if basis is Basis.CONTRACT:
        return policy.written(policy.on_contract(level))
    if basis is Basis.CONTRACT_READING:
        return policy.written(policy.on_contract(level, keep_derived=True))
    return policy.written(level)


def judge(
    cells: Mapping[str, Cell], observed: Mapping[str, Observation | None], basis: Basis = Basis.SOURCE
) -> list[Judgement]:
    """Each column of ``cells`` against what was observed in that same column.

    A required cell passes when the value matches and no derived check on the same item failed. The
    derived checks of an item (a copy that lacks part of the original, a read-receipt request kept)
    are judgements of their own at level derived. A recognition signal the target does not give is a
    judgement at level contract: reported beside the verdict, never failing the cell.
    """
    judgements = []
    for column in (c for c in COLUMNS if c in cells):
        cell, seen = cells[column], observed.get(column)
        if seen is None:
            judgements.append(
                Judgement(
                    column,
                    cell.value,
                    cell.standing,
                    policy.NOT_APPLICABLE,
                    None,
                    NOT_OBSERVABLE,
                    level=_level(policy.level_of(cell.standing), basis),
                )
            )
            continue
        level = policy.level_of(cell.standing)
        matches = seen.value == cell.value
        status = policy.cell_status(required=cell.required, matches=matches)
        detail = seen.detail
        if status == policy.PASSED and seen.derived:
            status, level, detail = policy.FAILED, policy.DERIVED, "; ".join(seen.derived) + f" — {seen.detail}"
        judgements.append(
            Judgement(
                column, cell.value, cell.standing, status, seen.value, detail, list(seen.evidence), _level(level, basis)
            )
        )
        if not cell.required:
            continue
        if not matches and seen.derived:
            # the value differs, and what the copy carries is a question of its own
            judgements.append(
                Judgement(
                    column,
                    "no derived check failing",
                    policy.STANDING_DERIVED,
                    policy.FAILED,
                    "; ".join(seen.derived),
                    seen.detail,
                    [],
                    _level(policy.DERIVED, basis),
                )
            )
        for difference in seen.contract if matches else ():
            judgements.append(
                Judgement(
                    column,
                    "the contract's recognition signals",
                    cell.standing,
                    policy.FAILED,
                    difference,
                    difference,
                    [],
                    policy.CONTRACT,
                )
            )
    return judgements


def failures(judgements: list[Judgement]) -> list[Judgement]:
    """The judgements that count against the source (harness/policy.py)."""
    return [j for j in judgements if j.counts_against_source]
