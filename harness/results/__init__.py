"""The results model: what a run found, as data. The engine (harness/conformance/) writes it; the
report (harness/report/) reads it; neither knows the other.

Owns ``model`` (``RunResults``, ``ScenarioResult``, ``CellResult``, ``Evidence``, …, and their JSON
form, schema ``smlite-results/1``), ``loading`` (results.json in, tolerant of fields a newer harness
added), ``masking`` (secrets out of every file and line) and ``observations`` (what each call of the
judge was given, with the raw items it classified, kept for ``smlite verify``). What a status or a level does to the
verdict is harness/policy.py's.
"""

from harness.results.model import (
    CELL_NOT_RUN,
    CELL_OBSERVED,
    FAILED,
    HARNESS_ERROR,
    NOT_APPLICABLE,
    NOT_SPECIFIED,
    PASSED,
    SCHEMA,
    STATUSES,
    CellResult,
    Evidence,
    Exploration,
    ExploredCounterexample,
    MissingScenario,
    RunInfo,
    RunResults,
    ScenarioResult,
    StepResult,
)

__all__ = [
    "CELL_NOT_RUN",
    "CELL_OBSERVED",
    "FAILED",
    "HARNESS_ERROR",
    "NOT_APPLICABLE",
    "NOT_SPECIFIED",
    "PASSED",
    "SCHEMA",
    "STATUSES",
    "CellResult",
    "Evidence",
    "Exploration",
    "ExploredCounterexample",
    "MissingScenario",
    "RunInfo",
    "RunResults",
    "ScenarioResult",
    "StepResult",
]
