"""Reading a results.json someone hands us: bounded, validated, then tolerant of fields newer runs may carry.

Owns ``load_results(path)`` and ``BadResults``. A results.json given to ``smlite report``,
``smlite report --compare`` or ``smlite dashboard`` may come from anywhere (a vendor, a CI artifact),
so it is read in this order, each step refusing with one ``BadResults`` line naming the file and why:

1. **size**: a file over ``MAX_RESULTS_BYTES`` (64 MiB; a full run's is about 1 MB) is refused unread;
2. **text**: UTF-8;
3. **nesting**: deeper than ``MAX_RESULTS_DEPTH`` brackets (a real file nests 8 deep) is refused
   before the parser sees it — ``json`` recurses once per level (``json_depth`` scans in one loop);
4. **JSON**: ``NaN``, ``Infinity`` and numbers beyond a float (``1e400``) are refused — JSON has
   none of them, and a NaN duration or count reaches the arithmetic of every page;
5. **schema**: docs/results.schema.json (``smlite-results/1``), members it does not list let through
   for newer harnesses (harness/results/validation.py: how, and why files that passed are
   remembered);
6. **model**: ``RunResults.from_dict`` after setting those unknown members aside.

Runs of older harnesses (no ``missing``, no cell ``level``) load as before.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path
from typing import Any

from harness.results import CellResult, Evidence, MissingScenario, RunInfo, RunResults, StepResult
from harness.results.validation import violations

MAX_RESULTS_BYTES = 64 << 20
MAX_RESULTS_DEPTH = 64
MAX_ERRORS_SHOWN = 3


class BadResults(ValueError):
    """A results.json that cannot be used, and why (one line, the path first)."""

    def __init__(self, path: Path | str, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


def _known(cls: type, data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _scenario(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    trimmed = dict(data)
    for key, cls in (("steps", StepResult), ("cells", CellResult), ("evidence", Evidence)):
        if isinstance(data.get(key), list):
            trimmed[key] = [_known(cls, item) for item in data[key]]
    return trimmed


def results_from_dict(data: dict[str, Any]) -> RunResults:
    if not isinstance(data, dict):
        raise ValueError("not an smlite results file (not a JSON object)")
    trimmed = dict(data)  # fields this harness.results does not know yet are kept aside, not fatal
    if isinstance(data.get("run"), dict):
        trimmed["run"] = _known(RunInfo, data["run"])
    if isinstance(data.get("scenarios"), list):
        trimmed["scenarios"] = [_scenario(s) for s in data["scenarios"]]
    if isinstance(data.get("missing"), list):
        trimmed["missing"] = [_known(MissingScenario, m) for m in data["missing"]]
    return RunResults.from_dict(trimmed)


def json_depth(text: str, stop_at: int | None = None) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text outside strings, in one loop (no recursion).

    Written here rather than shared with harness/profile/reading.py's TOML-and-JSON scanner: the two
    packages sit side by side in the layers and import nothing of each other; JSON alone needs only
    strings and their escapes."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_at is not None and deepest >= stop_at:
                    return deepest
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _not_json(constant: str) -> float:
    raise ValueError(f"{constant} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is beyond a float")
    return value


def read_results_json(path: Path) -> tuple[bytes, Any]:
    """Steps 1 to 4: the bytes of ``path`` and their parsed JSON, or ``BadResults``."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_RESULTS_BYTES + 1)
    except IsADirectoryError:
        raise BadResults(path, "a folder, not a results.json") from None
    except OSError as exc:
        raise BadResults(path, f"cannot read it ({exc.strerror or exc})") from None
    if len(raw) > MAX_RESULTS_BYTES:
        raise BadResults(path, f"larger than {MAX_RESULTS_BYTES >> 20} MiB (a full run's results.json is about 1 MB)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadResults(path, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if json_depth(text, stop_at=MAX_RESULTS_DEPTH + 1) > MAX_RESULTS_DEPTH:
        raise BadResults(path, f"nested deeper than {MAX_RESULTS_DEPTH} levels (a results.json nests 8)")
    try:
        return raw, json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except RecursionError:
        raise BadResults(path, "nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise BadResults(path, f"not JSON ({exc.msg}, line {exc.lineno} column {exc.colno})") from None
    except ValueError as exc:  # NaN, Infinity, 1e400, an integer of thousands of digits
        raise BadResults(path, f"not JSON: {str(exc)[:200]}") from None


def load_results(path: Path) -> RunResults:
    """A results.json, read safely and validated (module docstring); ``BadResults`` when it cannot be used."""
    raw, data = read_results_json(path)
    if not isinstance(data, dict) or data.get("schema") != "smlite-results/1":
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise BadResults(path, f"not an smlite results file (schema {str(found)[:60]!r}, wanted 'smlite-results/1')")
    errors = violations(raw, data)
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise BadResults(path, "violates docs/results.schema.json: " + "; ".join(errors[:MAX_ERRORS_SHOWN]) + more)
    try:
        return results_from_dict(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadResults(path, f"not an smlite results file ({type(exc).__name__}: {str(exc)[:200]})") from None
