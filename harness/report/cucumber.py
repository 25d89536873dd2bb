"""cucumber.json: the run in the standard Cucumber JSON shape.

features -> elements (scenarios, ``type: scenario``) -> steps, each step with
``result.status`` passed / failed / skipped and ``duration`` in nanoseconds;
tags as ``{"name": "@tag"}``. A scenario whose outcome no step carries (a
harness error before any step, a failure after the last one) gets an
``after`` hook holding that outcome, so tools that read only steps and hooks
agree with results.json.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness.conformance import results as R
from harness.files import atomic_write_text

_STEP_STATUS = {"passed": "passed", "failed": "failed", "skipped": "skipped"}


def _id(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _tags(tags: list[str]) -> list[dict[str, Any]]:
    return [{"name": tag if tag.startswith("@") else f"@{tag}", "line": 1} for tag in tags]


def _scenario_result(scenario: R.ScenarioResult) -> dict[str, Any]:
    status = {R.PASSED: "passed", R.NOT_SPECIFIED: "passed", R.FAILED: "failed",
              R.HARNESS_ERROR: "failed", R.NOT_APPLICABLE: "skipped"}.get(scenario.status, "failed")
    result: dict[str, Any] = {"status": status, "duration": 0}
    if scenario.message and status != "passed":
        result["error_message"] = scenario.message
    return result


def _element(scenario: R.ScenarioResult, feature_id: str, line: int) -> dict[str, Any]:
    steps = []
    for i, step in enumerate(scenario.steps):
        result: dict[str, Any] = {"status": _STEP_STATUS.get(step.status, "skipped"),
                                  "duration": int(round(step.duration_s * 1e9))}
        if step.status == "failed" and scenario.message:
            result["error_message"] = scenario.message
        keyword = step.keyword if step.keyword.endswith(" ") else step.keyword + " "
        steps.append({"keyword": keyword, "name": step.text, "line": line + 1 + i,
                      "match": {"location": scenario.id or scenario.name}, "result": result})
    if not steps and scenario.status == R.NOT_APPLICABLE:
        steps.append({"keyword": "* ", "name": "not applicable: " + (scenario.message or "skipped"),
                      "line": line + 1, "match": {"location": scenario.id}, "result": {"status": "skipped",
                                                                                    "duration": 0}})
    element: dict[str, Any] = {
        "id": f"{feature_id};{_id(scenario.name)}", "keyword": "Scenario", "type": "scenario",
        "name": scenario.name, "description": scenario.interpretation or "", "line": line,
        "tags": _tags(scenario.tags), "steps": steps,
    }
    outcome = _scenario_result(scenario)
    step_statuses = {s["result"]["status"] for s in steps}
    if outcome["status"] == "failed" and "failed" not in step_statuses:
        element["after"] = [{"match": {"location": "smlite outcome"}, "result": outcome}]
    return element


def build_cucumber(results: R.RunResults) -> list[dict[str, Any]]:
    features: dict[str, dict[str, Any]] = {}
    for scenario in results.scenarios:
        name = scenario.feature or scenario.table
        feature = features.get(name)
        if feature is None:
            uri = scenario.id.split("::")[0] if "::" in scenario.id else name
            feature = features[name] = {
                "uri": uri, "id": _id(name), "keyword": "Feature", "name": name, "description": "",
                "line": 1, "tags": _tags([f"table:{scenario.table}"]), "elements": []}
        feature["elements"].append(_element(scenario, feature["id"], 2 + 20 * len(feature["elements"])))
    return list(features.values())


def write_cucumber(results: R.RunResults, path: Path) -> Path:
    return atomic_write_text(path, json.dumps(build_cucumber(results), indent=2, ensure_ascii=False))
