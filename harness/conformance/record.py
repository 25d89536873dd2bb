"""What one scenario saw: cells checked, evidence gathered, steps run.

Steps write into a ``ScenarioRecord``; the plugin (harness/conformance/plugin.py) ships it
from the worker to the controller inside the test report and turns it into a
``results.ScenarioResult``. Nothing here talks to a target.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from harness.conformance.results import CellResult, Evidence, StepResult


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

    def add_evidence(self, kind: str, title: str, data: dict[str, Any]) -> str:
        evidence_id = f"e{len(self.evidence) + 1}"
        self.evidence.append(Evidence(evidence_id, kind, title, data))
        return evidence_id

    def add_exchange(self, exchange: Any) -> str:
        return self.add_evidence(exchange.channel, f"{exchange.request} → {exchange.status}", {
            "request": exchange.request, "status": exchange.status, "answer": exchange.answer,
            "elapsed_ms": round(exchange.elapsed_s * 1000, 1)})

    def expect(self, expected: str, observed: str) -> None:
        self.expected.append(expected)
        self.observed.append(observed)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
