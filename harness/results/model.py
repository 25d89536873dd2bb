"""The results data model and its JSON form (schema ``smlite-results/1``).

Collection (harness/conformance/plugin.py) fills these objects; rendering
(harness/report/) reads them; neither knows the other. docs/results.schema.json is the
normative form of the JSON (docs/results-schema.md is generated from it). What a status or a
level does to the verdict is asked of harness/policy.py, never decided here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from harness import policy
from harness.files import atomic_write_text

SCHEMA = "smlite-results/1"

# The statuses are the policy's (harness/policy.py); named here too for the readers of results.
PASSED, FAILED = policy.PASSED, policy.FAILED
NOT_APPLICABLE, NOT_SPECIFIED, HARNESS_ERROR = policy.NOT_APPLICABLE, policy.NOT_SPECIFIED, policy.HARNESS_ERROR
STATUSES = policy.SCENARIO_STATUSES
CELL_OBSERVED, CELL_NOT_RUN = policy.CELL_OBSERVED, policy.CELL_NOT_RUN


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

    def fails(self) -> bool:
        """Whether this scenario counts against the source (harness/policy.py)."""
        return policy.scenario_fails(self.status)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScenarioResult:
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
class ExploredCounterexample:
    """A promise of the source a generated conversation broke, shrunk to its smallest exchange."""

    promise: str  # harness/source_model/promises.py
    level: str  # source | derived | contract (as judged)
    kind: str
    words: str  # the source's words it rests on
    who: str
    detail: str
    steps: list[str] = field(default_factory=list)  # the conversation, one action a line
    shrunk: bool = True  # False: the smallest seen before shrinking's time ran out
    feature: str = ""  # the reproduction as a Gherkin feature
    commands: list[str] = field(default_factory=list)  # … and as `smlite simulate` commands

    def counts_against_source(self) -> bool:
        return policy.counts_against_source(policy.FAILED, self.level)


@dataclass
class Exploration:
    """One bounded exploration: generated conversations checked against the source's promises."""

    seed: int
    budget_s: float
    elapsed_s: float = 0.0
    exchanges: int = 0  # actions made on the target
    conversations: int = 0
    promises_checked: dict[str, int] = field(default_factory=dict)  # promise -> checks made
    counterexamples: list[ExploredCounterexample] = field(default_factory=list)
    not_explored: list[str] = field(default_factory=list)  # what the target's capabilities left out
    digest: str = ""  # of the exchanges drawn: same seed, same target, same digest
    database: str = ""  # Hypothesis's example database, kept with the run
    error: str = ""  # why the exploration stopped early (the run is then incomplete)
    conversations_budget: int | None = None  # at most this many drawn (None: the time budget alone)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Exploration:
        data = dict(data)
        known = {f.name for f in fields(ExploredCounterexample)}
        data["counterexamples"] = [
            ExploredCounterexample(**{k: v for k, v in c.items() if k in known})
            for c in data.get("counterexamples", [])
        ]
        return cls(**{k: v for k, v in data.items() if k in {f.name for f in fields(cls)}})


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
    secrets_revealed: bool = False  # --reveal-secrets: nothing masked (the report says so)


@dataclass
class RunResults:
    run: RunInfo
    scenarios: list[ScenarioResult] = field(default_factory=list)
    missing: list[MissingScenario] = field(default_factory=list)
    schema: str = SCHEMA
    explorations: list[Exploration] = field(default_factory=list)  # optional: absent when none ran

    @property
    def complete(self) -> bool:
        """Every selected scenario reported, and none of them hit a harness error."""
        explored = not any(e.error for e in self.explorations)
        return bool(self.scenarios) and not self.missing and not self.counts()[HARNESS_ERROR] and explored

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for scenario in self.scenarios:
            counts[scenario.status] = counts.get(scenario.status, 0) + 1
        return counts

    def contract_differences(self) -> list[CellResult]:
        """Checks of the contract's own choices (recognition signals) the target does not meet.

        Reported beside the verdict; the verdict rests on source and derived checks only."""
        return [c for s in self.scenarios for c in s.cells if policy.is_contract_difference(c.status, c.level)]

    def failing(self) -> list[ScenarioResult]:
        """The scenarios that count against the source (harness/policy.py)."""
        return [s for s in self.scenarios if s.fails()]

    def explored_failing(self) -> list[ExploredCounterexample]:
        """Counterexamples of exploration that count against the source (harness/policy.py)."""
        return [c for e in self.explorations for c in e.counterexamples if c.counts_against_source()]

    def judged(self) -> policy.Verdict:
        return policy.run_verdict(
            failed=len(self.failing()) + len(self.explored_failing()),
            complete=self.complete,
            not_applicable=self.counts()[NOT_APPLICABLE],
            selection=self.run.selection,
        )

    def verdict(self) -> str:
        return self.judged().text

    def contract_line(self) -> str:
        """e.g. "contract: 2 differences" ("contract: no differences" when there are none)."""
        return policy.contract_line(len(self.contract_differences()))

    def exit_code(self) -> int:
        """0 conformant; 1 any scenario counts against the source; 2 incomplete (missing scenarios, harness errors)."""
        return self.judged().exit_code

    def per_table(self) -> dict[str, dict[str, int]]:
        table_counts: dict[str, dict[str, int]] = {}
        for scenario in self.scenarios:
            row = table_counts.setdefault(scenario.table, dict.fromkeys(STATUSES, 0))
            row[scenario.status] += 1
        return table_counts

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.explorations:
            del data["explorations"]  # optional: a run without exploration writes what it always wrote
        data["summary"] = {
            "verdict": self.verdict(),
            "counts": self.counts(),
            "contract_differences": len(self.contract_differences()),
            "per_table": self.per_table(),
            "exit_code": self.exit_code(),
        }
        return data

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResults:
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not an smlite results file (schema {data.get('schema')!r}, want {SCHEMA!r})")
        return cls(
            run=RunInfo(**data["run"]),
            scenarios=[ScenarioResult.from_dict(s) for s in data.get("scenarios", [])],
            missing=[MissingScenario(**m) for m in data.get("missing", [])],
            explorations=[Exploration.from_dict(e) for e in data.get("explorations", [])],
        )

    @classmethod
    def load(cls, path: Path) -> RunResults:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
