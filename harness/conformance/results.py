"""The results data model and its JSON form (schema ``smlite-results/1``).

Collection (harness/conformance/plugin.py) fills these objects; rendering
(harness/report/) reads them; neither knows the other. docs/results-schema.md
documents the JSON form field by field.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from harness.files import atomic_write_text

SCHEMA = "smlite-results/1"

PASSED, FAILED = "passed", "failed"
NOT_APPLICABLE, NOT_SPECIFIED, HARNESS_ERROR = "not_applicable", "not_specified", "harness_error"
STATUSES = (PASSED, FAILED, NOT_APPLICABLE, NOT_SPECIFIED, HARNESS_ERROR)
# A cell of a scenario: required cells pass or fail; silent cells are "observed".
CELL_OBSERVED, CELL_NOT_RUN = "observed", "not_run"


@dataclass
class Evidence:
    """Something the target produced: a delivered email, an HTTP exchange, a note."""

    id: str
    kind: str  # email | http | mpp | note
    title: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class CellResult:
    ref: str
    column: str
    recipient: str  # the role, e.g. "the external user"
    expected: str | None
    standing: str  # stated | derived | not-specified
    observed: str | None = None
    status: str = CELL_NOT_RUN  # passed | failed | observed | not_applicable | not_run
    evidence: list[str] = field(default_factory=list)
    detail: str = ""
    level: str = ""  # source | derived | contract: what the check rests on ("" for observed cells)


@dataclass
class StepResult:
    keyword: str
    text: str
    status: str  # passed | failed | skipped
    duration_s: float = 0.0


@dataclass
class ScenarioResult:
    id: str
    name: str
    feature: str
    table: str  # T1 | T2 | T3 | definitions | attributes | other
    refs: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    status: str = PASSED
    required: bool = True
    duration_s: float = 0.0
    steps: list[StepResult] = field(default_factory=list)
    expected: str = ""
    observed: str = ""
    message: str = ""
    cells: list[CellResult] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    interpretation: str = ""
    defects: list[str] = field(default_factory=list)
    seed: int | None = None
    worker: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ScenarioResult":
        data = dict(data)
        data["steps"] = [StepResult(**s) for s in data.get("steps", [])]
        data["cells"] = [CellResult(**c) for c in data.get("cells", [])]
        data["evidence"] = [Evidence(**e) for e in data.get("evidence", [])]
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class MissingScenario:
    """A selected scenario that never reported, and why where known (worker crashed, interrupted, ...)."""

    id: str
    name: str
    reason: str


@dataclass
class RunInfo:
    id: str
    target: dict[str, Any]  # name, version, profile, driver, capabilities
    harness_version: str
    source_document: dict[str, str]
    seed: int
    started_at: str
    finished_at: str = ""
    duration_s: float = 0.0
    host: str = ""
    command: list[str] = field(default_factory=list)
    certify: bool = False
    selection: str = ""  # -k expression, if any


@dataclass
class RunResults:
    run: RunInfo
    scenarios: list[ScenarioResult] = field(default_factory=list)
    missing: list[MissingScenario] = field(default_factory=list)
    schema: str = SCHEMA

    @property
    def complete(self) -> bool:
        """Every selected scenario reported, and none of them hit a harness error."""
        return bool(self.scenarios) and not self.missing and not self.counts()[HARNESS_ERROR]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for scenario in self.scenarios:
            counts[scenario.status] = counts.get(scenario.status, 0) + 1
        return counts

    def contract_differences(self) -> list[CellResult]:
        """Checks of the contract's own choices (recognition signals) the target does not meet.

        Reported beside the verdict; the verdict rests on source and derived checks only."""
        return [c for s in self.scenarios for c in s.cells if c.level == "contract" and c.status == FAILED]

    def verdict(self) -> str:
        counts = self.counts()
        if counts[FAILED]:
            return "Not conformant"
        if not self.complete:
            return "Incomplete"
        verdict = "Conformant"
        if counts[NOT_APPLICABLE]:
            verdict += f" (partial: {counts[NOT_APPLICABLE]} not applicable)"
        if self.run.selection:
            verdict += f" — only the scenarios matching -k {self.run.selection!r}"
        return verdict

    def contract_line(self) -> str:
        """e.g. "contract: 2 differences" ("contract: no differences" when there are none)."""
        found = len(self.contract_differences())
        return f"contract: {found or 'no'} difference{'' if found == 1 else 's'}"

    def exit_code(self) -> int:
        """0 every required scenario passed; 1 any failed; 2 incomplete (missing scenarios, harness errors)."""
        counts = self.counts()
        if counts[FAILED]:
            return 1
        return 0 if self.complete else 2

    def per_table(self) -> dict[str, dict[str, int]]:
        table_counts: dict[str, dict[str, int]] = {}
        for scenario in self.scenarios:
            row = table_counts.setdefault(scenario.table, dict.fromkeys(STATUSES, 0))
            row[scenario.status] += 1
        return table_counts

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary"] = {"verdict": self.verdict(), "counts": self.counts(),
                           "contract_differences": len(self.contract_differences()),
                           "per_table": self.per_table(), "exit_code": self.exit_code()}
        return data

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunResults":
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not an smlite results file (schema {data.get('schema')!r}, want {SCHEMA!r})")
        return cls(run=RunInfo(**data["run"]),
                   scenarios=[ScenarioResult.from_dict(s) for s in data.get("scenarios", [])],
                   missing=[MissingScenario(**m) for m in data.get("missing", [])])

    @classmethod
    def load(cls, path: Path) -> "RunResults":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
