"""What one scenario saw: cells checked, evidence gathered, steps run.

Steps write into a ``ScenarioRecord``; the plugin (harness/conformance/plugin.py) ships it
from the worker to the controller inside the test report and turns it into a
``results.ScenarioResult``. ``add_judgement`` also keeps what each call of the judge was given
(harness/results/observations.py: the cells, the observed columns, their raw messages), so that
``smlite verify`` can judge it again; it records, and changes no judgement. Nothing here talks to a
target.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.results import CellResult, Evidence, StepResult
from harness.results.observations import ObservationRecord, ObservedColumn, message_digest


@dataclass
class ScenarioRecord:
    cells: list[CellResult] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    observed: list[str] = field(default_factory=list)
    seed: int | None = None
    refs: list[str] = field(default_factory=list)
    name: str = ""
    feature: str = ""
    observations: list[ObservationRecord] = field(default_factory=list)
    messages: dict[str, bytes] = field(default_factory=dict)  # sha256 -> raw, for the observations

    def add_evidence(self, kind: str, title: str, data: dict[str, Any]) -> str:
        evidence_id = f"e{len(self.evidence) + 1}"
        self.evidence.append(Evidence(evidence_id, kind, title, data))
        return evidence_id

    def record_exchange(self, exchange: Any) -> None:
        """The driver's recorder: every exchange with the target becomes evidence."""
        self.add_exchange(exchange)

    def add_exchange(self, exchange: Any) -> str:
        return self.add_evidence(
            exchange.channel,
            f"{exchange.request} → {exchange.status}",
            {
                "request": exchange.request,
                "status": exchange.status,
                "answer": exchange.answer,
                "elapsed_ms": round(exchange.elapsed_s * 1000, 1),
            },
        )

    def expect(self, expected: str, observed: str) -> None:
        self.expected.append(expected)
        self.observed.append(observed)

    def add_judgement(
        self,
        recipient: str,
        cells: Mapping[str, Any],
        observed: Mapping[str, Any],
        basis: str,
        cell_count: int,
        *,
        question: Mapping[str, Any] | None = None,
        marker: str | None = None,
    ) -> None:
        """Keep one call of the judge: ``cells`` (source Cells) and ``observed`` (Observations or None)
        as given, and the ``cell_count`` cells it is about to add to this record."""
        columns: dict[str, ObservedColumn | None] = {}
        for column, seen in observed.items():
            if seen is None:
                columns[column] = None
                continue
            raw = bytes(getattr(seen, "raw", b"") or b"")
            digest = message_digest(raw) if raw else ""
            if raw:
                self.messages[digest] = raw
            columns[column] = ObservedColumn(
                seen.value, seen.detail, list(seen.derived), list(seen.contract), list(seen.links), seen.item_id, digest
            )
        self.observations.append(
            ObservationRecord(
                recipient,
                basis,
                {column: {"value": cell.value, "standing": cell.standing} for column, cell in cells.items()},
                columns,
                len(self.cells),
                cell_count,
                dict(question or {}),
                marker,
            )
        )

    def observations_payload(self) -> dict[str, Any]:
        """The observations as the hand-over carries them (raw messages in base64)."""
        return {
            "records": [o.to_dict() for o in self.observations],
            "messages": {k: base64.b64encode(v).decode("ascii") for k, v in self.messages.items()},
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
