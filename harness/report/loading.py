"""Reading results.json for the report and the dashboard, tolerant of optional fields newer runs may carry.

Owns ``load_results(path)``: ``RunResults.from_dict`` after setting aside the fields a newer
harness may have added and this one does not know (a report of a newer run still renders).
Runs of older harnesses (no ``missing``, no cell ``level``) load as before. Errors are the caller's
to word: FileNotFoundError, ValueError (not JSON / not an smlite results
file), KeyError / TypeError (a field missing or of the wrong shape).
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from harness.conformance.results import CellResult, RunInfo, RunResults


def _known(cls: type, data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def results_from_dict(data: dict[str, Any]) -> RunResults:
    if not isinstance(data, dict):
        raise ValueError("not an smlite results file (not a JSON object)")
    trimmed = dict(data)  # fields this harness.conformance.results does not know yet are kept aside, not fatal
    if isinstance(data.get("run"), dict):
        trimmed["run"] = _known(RunInfo, data["run"])
    if isinstance(data.get("scenarios"), list):
        trimmed["scenarios"] = [dict(s, cells=[_known(CellResult, c) for c in s.get("cells", [])])
                                if isinstance(s, dict) else s for s in data["scenarios"]]
    return RunResults.from_dict(trimmed)


def load_results(path: Path) -> RunResults:
    return results_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
