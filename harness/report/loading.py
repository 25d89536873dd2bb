"""Reading results.json for the report and the dashboard, tolerant of optional fields newer runs may carry.

Owns ``load_results(path)``: ``RunResults.load`` plus the optional parts that
harness.results may not know yet, kept as plain attributes the report reads
with ``getattr``: the top-level ``missing`` list (scenarios that never
reported) and a cell's ``level`` ("source" | "derived" | "contract"). Runs
without them (today's results.json) load as before. Errors are the caller's
to word: FileNotFoundError, ValueError (not JSON / not an smlite results
file), KeyError / TypeError (a field missing or of the wrong shape).
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from harness.results import CellResult, RunInfo, RunResults


def _known(cls: type, data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def results_from_dict(data: dict[str, Any]) -> RunResults:
    if not isinstance(data, dict):
        raise ValueError("not an smlite results file (not a JSON object)")
    trimmed = dict(data)  # fields this harness.results does not know yet are kept aside, not fatal
    if isinstance(data.get("run"), dict):
        trimmed["run"] = _known(RunInfo, data["run"])
    if isinstance(data.get("scenarios"), list):
        trimmed["scenarios"] = [dict(s, cells=[_known(CellResult, c) for c in s.get("cells", [])])
                                if isinstance(s, dict) else s for s in data["scenarios"]]
    results = RunResults.from_dict(trimmed)
    if not hasattr(results, "missing") or not getattr(results, "missing"):
        results.missing = list(data.get("missing") or [])  # type: ignore[attr-defined]
    for scenario, raw in zip(results.scenarios, data.get("scenarios", [])):
        for cell, raw_cell in zip(scenario.cells, raw.get("cells", []) if isinstance(raw, dict) else []):
            if getattr(cell, "level", None) is None and isinstance(raw_cell, dict) and raw_cell.get("level"):
                cell.level = raw_cell["level"]  # type: ignore[attr-defined]
    return results


def load_results(path: Path) -> RunResults:
    return results_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
