"""The load's conformance sample: sampled messages judged per recipient, exactly as the suite judges.

Owns ``Sample`` (one sampled message: its application, definition, recipients, marker), ``SampleChecker``
(each recipient reached through ``harness.connection.connect``, observed, and judged by
``harness.conformance.judge`` and the one policy, harness/policy.py: only a failed source or derived check
makes the sample non-conforming; a contract difference is counted beside it; a cell the source leaves
blank is only observed) and ``CheckedCell``. Nothing here imports Locust: the checker is plain Python,
run in the load's process under gevent, and in tests without it.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

from harness import policy
from harness.conformance.judge import judge, observe_recipient
from harness.connection.connect import connect
from harness.errors import HarnessError
from harness.observation.observer import Observer
from harness.observation.recognition import NOTHING
from harness.observation.waiting import LatencyTracker
from harness.source_model.source import expected_cells


@dataclass
class Sample:
    seq: int
    application: str
    definition: str
    sender: str
    recipients: list[tuple[str, bool]]  # (address, internal)
    subject: str
    marker: str
    sent_at: float = 0.0


@dataclass
class CheckedCell:
    seq: int
    recipient: str
    ref: str | None
    column: str
    expected: str | None
    standing: str
    observed: str
    status: str  # passed | failed | observed
    detail: str = ""
    level: str = ""  # source | derived | contract | "" (observed): harness/policy.py


@dataclass
class SampleChecker:
    context: Any  # harness.load.user.LoadContext: its profile and run tag
    cells: list[CheckedCell] = field(default_factory=list)
    checked: int = 0
    errors: list[str] = field(default_factory=list)
    latency: LatencyTracker = field(default_factory=LatencyTracker)  # measured so far in the run

    def check(self, sample: Sample) -> None:
        try:
            with connect(self.context.profile, latency=self.latency) as connection:
                observer = connection.observer()
                for address, internal in sample.recipients:
                    self._recipient(observer, sample, address, internal)
            self.checked += 1
        except HarnessError as error:
            self.errors.append(f"[{self.context.tag}-{sample.seq}] {error}")

    def _recipient(self, observer: Observer, sample: Sample, address: str, internal: bool) -> None:
        ref, cells = expected_cells(sample.application, sample.definition, True, internal)
        observed = observe_recipient(observer, address, internal, cells, marker=sample.marker, subject=sample.subject)
        for judged in judge(cells, observed):
            if judged.status == policy.NOT_APPLICABLE:
                continue
            self.cells.append(
                CheckedCell(
                    sample.seq,
                    address,
                    ref,
                    judged.column,
                    judged.expected,
                    judged.standing,
                    judged.observed or "",
                    judged.status,
                    "" if judged.status == policy.PASSED else judged.detail,
                    judged.level,
                )
            )

    def summary(self) -> dict:
        counts = collections.Counter(c.status for c in self.cells)
        against = [c for c in self.cells if policy.counts_against_source(c.status, c.level)]
        differences = [c for c in self.cells if policy.is_contract_difference(c.status, c.level)]
        recipients = {(c.seq, c.recipient) for c in self.cells}
        nothing = sum(1 for c in self.cells if c.column == "Mail Box" and c.observed == NOTHING)
        return {
            "messages": self.checked,
            "recipients": len(recipients),
            "cells": len(self.cells),
            "passed": counts[policy.PASSED],
            "failed": len(against),
            "contract_differences": len(differences),
            "observed": counts[policy.CELL_OBSERVED],
            "mailbox_nothing": nothing,
            "errors": self.errors,
            "failures": [c.__dict__ for c in against][:20],
            "differences": [c.__dict__ for c in differences][:20],
            "refs": sorted({c.ref for c in self.cells if c.ref}),
            "conforming": not against and not self.errors and self.checked > 0,
        }
