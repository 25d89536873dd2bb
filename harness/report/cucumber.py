"""cucumber.json: the run in the standard Cucumber JSON shape.

features -> elements (scenarios, ``type: scenario``) -> steps, each step with
``result.status`` passed / failed / skipped and ``duration`` in nanoseconds;
tags as ``{"name": "@tag", "line": n}`` (the feature file's own tags, inherited ones included). ``uri`` is the feature file
(``features/….feature``) and every ``line`` is the file's own (the Examples
row for an outline, as Cucumber writes it), found by harness/report/locations.py;
a scenario no feature file holds keeps its node id's file as ``uri`` and has no
``line``.

Outcomes agree with results.json (docs/report.md, "One outcome, three files"):
passed -> every step passed; failed -> the failing step failed;
harness_error -> failed, the message starting "harness error"; not_applicable
-> its steps skipped; not_specified -> its steps as they ran, except that a
step that failed is written skipped (the source is silent, so nothing is judged),
and an ``after`` hook with status skipped saying "not specified by the source".
A scenario whose outcome no step carries (a harness error before any step, a
failure after the last one) gets an ``after`` hook holding that outcome, so
tools that read only steps and hooks agree with results.json.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness import policy
from harness import results as R
from harness.files import atomic_write_text
from harness.report import explored
from harness.report.locations import FEATURES_DIR, Location, locate, step_lines

_STEP_STATUS = {"passed": "passed", "failed": "failed", "skipped": "skipped"}
# results.json status -> the status Cucumber tools derive for the scenario (failed > skipped > passed)
SCENARIO_STATUS = {
    R.PASSED: "passed",
    R.FAILED: "failed",
    R.HARNESS_ERROR: "failed",
    R.NOT_APPLICABLE: "skipped",
    R.NOT_SPECIFIED: "skipped",
}
NOT_SPECIFIED_MESSAGE = "not specified by the source: observed only, never judged"


def _id(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _tags(tags: list[str], lines: dict[str, int] | None = None) -> list[dict[str, Any]]:
    out = []
    for tag in tags:
        name = tag if tag.startswith("@") else f"@{tag}"
        entry: dict[str, Any] = {"name": name}
        if lines and name in lines:
            entry["line"] = lines[name]
        out.append(entry)
    return out


def _message(scenario: R.ScenarioResult) -> str:
    if scenario.status == R.HARNESS_ERROR:
        return "harness error (says nothing about the target): " + (scenario.message or "the check could not run")
    if scenario.status == R.NOT_SPECIFIED:
        observed = "; ".join(f"{c.ref} {c.column}: {c.observed}" for c in scenario.cells if c.observed is not None)
        return (
            NOT_SPECIFIED_MESSAGE
            + (f" ({observed})" if observed else "")
            + (f"; {scenario.message}" if scenario.message else "")
        )
    return scenario.message


def _element(scenario: R.ScenarioResult, feature_id: str, location: Location | None) -> dict[str, Any]:
    lines = step_lines(location, [s.text for s in scenario.steps]) if location else [None] * len(scenario.steps)
    silent = scenario.status == R.NOT_SPECIFIED
    steps = []
    for step, line in zip(scenario.steps, lines):
        status = _STEP_STATUS.get(step.status, "skipped")
        if silent and status == "failed":
            status = "skipped"
        if scenario.status == R.NOT_APPLICABLE:
            status = "skipped"
        result: dict[str, Any] = {"status": status, "duration": round(step.duration_s * 1e9)}
        if step.status == "failed" and (scenario.message or silent):
            result["error_message"] = _message(scenario)
        keyword = step.keyword if step.keyword.endswith(" ") else step.keyword + " "
        entry: dict[str, Any] = {"keyword": keyword, "name": step.text}
        if line is not None:
            entry["line"] = line
        entry.update({"match": {"location": scenario.id or scenario.name}, "result": result})
        steps.append(entry)
    if not steps and scenario.status == R.NOT_APPLICABLE:
        entry = {"keyword": "* ", "name": "not applicable: " + (scenario.message or "skipped")}
        if location:
            entry["line"] = location.line
        entry.update({"match": {"location": scenario.id}, "result": {"status": "skipped", "duration": 0}})
        steps.append(entry)
    element: dict[str, Any] = {
        "id": f"{feature_id};{_id(scenario.name)}" + (f";;{location.row}" if location and location.row else ""),
        "keyword": location.keyword if location else "Scenario",
        "type": "scenario",
        "name": scenario.name,
        "description": scenario.interpretation or "",
    }
    if location:
        element["line"] = location.line
    # the file's own tags where the file is known (results' tags may carry markers, e.g. a skip)
    element["tags"] = [{"name": n, "line": line} for n, line in location.tags] if location else _tags(scenario.tags)
    element["steps"] = steps
    wanted = SCENARIO_STATUS.get(scenario.status, "failed")
    shown = {s["result"]["status"] for s in steps}
    if (wanted == "failed" and "failed" not in shown) or (wanted == "skipped" and (silent or "skipped" not in shown)):
        element["after"] = [
            {
                "match": {"location": "smlite outcome"},
                "result": {"status": wanted, "duration": 0, "error_message": _message(scenario)},
            }
        ]
    return element


def build_cucumber(results: R.RunResults, features_dir: Path = FEATURES_DIR) -> list[dict[str, Any]]:
    features: dict[str, dict[str, Any]] = {}
    for scenario in results.scenarios:
        location = locate(scenario.id, scenario.feature, scenario.name, features_dir)
        key = location.feature.uri if location else (scenario.feature or scenario.table)
        feature = features.get(key)
        if feature is None:
            name = location.feature.name if location else (scenario.feature or scenario.table)
            feature = features[key] = {
                "uri": location.feature.uri if location else scenario.id.split("::")[0] or name,
                "id": _id(name),
                "keyword": "Feature",
                "name": name,
                "description": location.feature.description if location else "",
            }
            if location:
                feature["line"] = location.feature.line
            feature["tags"] = (
                [{"name": t, "line": n} for t, n in location.feature.tags]
                if location
                else _tags([f"table:{scenario.table}"])
            )
            feature["elements"] = []
        feature["elements"].append(_element(scenario, feature["id"], location))
    return list(features.values()) + ([_explored_feature(results)] if results.explorations else [])


_EXPLORED_STATUS = {policy.PASSED: "passed", policy.FAILED: "failed", policy.CONTRACT_DIFFERENCE: "skipped"}


def _explored_feature(results: R.RunResults) -> dict[str, Any]:
    """The feature ``explored``: one scenario per promise exploration checked (harness/report/explored.py)."""
    elements = []
    for outcome in explored.outcomes(results):
        result: dict[str, Any] = {"status": _EXPLORED_STATUS[outcome.status], "duration": 0}
        if outcome.message:
            result["error_message"] = outcome.message + "\n" + outcome.detail
        step = {
            "keyword": "* ",
            "name": f"the promise {outcome.promise} holds ({outcome.checks} checks)",
            "match": {"location": f"explored:{outcome.promise}"},
            "result": result,
        }
        elements.append(
            {
                "id": f"explored;{_id(outcome.promise)}",
                "keyword": "Scenario",
                "type": "scenario",
                "name": outcome.promise,
                "description": "",
                "tags": [{"name": "@explored"}],
                "steps": [step],
            }
        )
    description = "; ".join(f"seed {e.seed}, {e.exchanges} exchanges, digest {e.digest}" for e in results.explorations)
    return {
        "uri": explored.SUITE,
        "id": explored.SUITE,
        "keyword": "Feature",
        "name": explored.SUITE,
        "description": description,
        "tags": [{"name": "@explored"}],
        "elements": elements,
    }


def write_cucumber(results: R.RunResults, path: Path) -> Path:
    return atomic_write_text(path, json.dumps(build_cucumber(results), indent=2, ensure_ascii=False))
