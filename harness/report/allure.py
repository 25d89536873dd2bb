"""Allure results: one ``<uuid>-result.json`` per scenario and its ``<uuid>-attachment.*`` files.

Owns ``write_allure(results, observations, out_dir, mask)``. Each scenario becomes an Allure test
result with its steps (as they ran, with their times), its status (passed, failed; a harness error
is *broken*; not applicable and not specified are *skipped* with the reason, as in junit.xml), labels
(``ref`` per source reference, ``level`` per level its cells were judged at, ``tag``, the table as
``parentSuite``, the source row(s) as ``suite``, the feature as ``subSuite``), parameters (seed,
interpretation), and attachments: the ``.eml`` of every observed mail (masked by ``mask``), every
HTTP / SMTP exchange and MPP item as text (masked in results already, as in the report), the
expected and observed text, and a picture of what the recipient saw where there is one.

Written from the results model, not with allure-pytest-bdd: the suite's scenarios run in the scenario
engine's threads (harness/conformance/engine.py) while pytest only reports their outcomes, so pytest
hooks see neither the steps as they ran nor their evidence; and results.json is where every other output
comes from, so the Allure results say exactly what the report says. The format is Allure's documented
result format (allurereport.org/docs/how-it-works-test-result-file), read by Allure 2 and Allure 3.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import policy
from harness import results as R
from harness.files import atomic_write_text, ensure_dir
from harness.report.evidence import evidence_view
from harness.results.observations import RunObservations

STATUS = {
    R.PASSED: "passed",
    R.FAILED: "failed",
    R.HARNESS_ERROR: "broken",
    R.NOT_APPLICABLE: "skipped",
    R.NOT_SPECIFIED: "skipped",
}
STEP_STATUS = {"passed": "passed", "failed": "failed", "skipped": "skipped"}


def _ms(when: str) -> int:
    try:
        return int(dt.datetime.fromisoformat(when).timestamp() * 1000)
    except ValueError:
        return 0


def _exchange_text(evidence: R.Evidence) -> str:
    view = evidence_view(evidence, evidence.id)
    lines = [f"{label}: {value}" for label, value in view.fields]
    if view.classification:
        lines.append(f"Classification: {view.classification}  ({view.rule})")
    lines += [f"{name}: {value}" for name, value in view.headers]
    for label, text in (("Body", view.body), ("Text", view.text), ("HTML", view.html), ("Excerpt", view.excerpt)):
        if text:
            lines += ["", f"{label}:", text]
    lines += [f"{name}: {value}" for name, value in view.extra]
    return "\n".join(lines) + "\n"


class _Writer:
    def __init__(self, out_dir: Path):
        self.out_dir = ensure_dir(out_dir)
        self.bytes = 0

    def attach(self, name: str, data: bytes, mime: str, extension: str) -> dict[str, str]:
        source = f"{uuid.uuid4()}-attachment.{extension}"
        (self.out_dir / source).write_bytes(data)  # a folder of throw-away inputs: no fsync per file
        self.bytes += len(data)
        return {"name": name, "source": source, "type": mime}


def _labels(scenario: R.ScenarioResult, results: R.RunResults) -> list[dict[str, str]]:
    labels = [
        {"name": "framework", "value": "smlite"},
        {"name": "language", "value": "gherkin"},
        {"name": "parentSuite", "value": scenario.table},
        {"name": "suite", "value": " ".join(r for r in scenario.refs if not r.startswith("X-")) or scenario.table},
        {"name": "subSuite", "value": scenario.feature or scenario.table},
        {"name": "feature", "value": scenario.feature},
        {"name": "host", "value": results.run.host},
        {"name": "severity", "value": "critical" if scenario.required else "minor"},
    ]
    labels += [{"name": "ref", "value": ref} for ref in scenario.refs]
    levels = sorted({policy.read(c.level) for c in scenario.cells})
    labels += [{"name": "level", "value": level} for level in levels]
    labels += [{"name": "tag", "value": tag} for tag in scenario.tags]
    return labels


def _result(
    scenario: R.ScenarioResult,
    results: R.RunResults,
    observations: RunObservations,
    writer: _Writer,
    mask: Callable[[str], str],
    pictures: dict[str, Path],
) -> dict[str, Any]:
    start = _ms(results.run.started_at)
    stop = start + int(scenario.duration_s * 1000)
    steps, at = [], start
    for step in scenario.steps:
        took = int(step.duration_s * 1000)
        steps.append(
            {
                "name": f"{step.keyword.strip()} {step.text}",
                "status": STEP_STATUS.get(step.status, "skipped"),
                "stage": "finished",
                "start": at,
                "stop": at + took,
            }
        )
        at += took
    attachments = []
    for column, record, digest, raw in observations.raw_messages_of(scenario.id):
        if column != "Mail Box":  # an MPP item, the SM Portal's answer: JSON
            data, mime, extension = mask(raw.decode("utf-8", "replace")).encode(), "application/json", "json"
        else:
            data, mime, extension = mask(raw.decode("utf-8", "replace")).encode(), "message/rfc822", "eml"
        attachments.append(
            writer.attach(f"{column} of {record.recipient} ({digest[:8]}).{extension}", data, mime, extension)
        )
    for evidence in scenario.evidence:
        picture = pictures.get(f"{scenario.id}#{evidence.id}")
        if picture is not None and picture.is_file():
            attachments.append(writer.attach(f"{evidence.title} (picture)", picture.read_bytes(), "image/png", "png"))
        title = evidence.title if len(evidence.title) <= 100 else evidence.title[:99] + "…"
        attachments.append(writer.attach(f"{title}.txt", _exchange_text(evidence).encode(), "text/plain", "txt"))
    if scenario.expected or scenario.observed:
        text = f"expected:\n{scenario.expected}\n\nobserved:\n{scenario.observed}\n"
        attachments.append(writer.attach("expected and observed.txt", text.encode(), "text/plain", "txt"))
    details = {"message": scenario.message} if scenario.message else {}
    return {
        "uuid": str(uuid.uuid4()),
        "historyId": hashlib.md5(scenario.id.encode()).hexdigest(),
        "testCaseId": hashlib.md5(scenario.id.encode()).hexdigest(),
        "fullName": scenario.id,
        "name": scenario.name,
        "description": scenario.interpretation,
        "status": STATUS.get(scenario.status, "unknown"),
        "statusDetails": details,
        "stage": "finished",
        "start": start,
        "stop": stop,
        "labels": _labels(scenario, results),
        "parameters": [{"name": "seed", "value": str(scenario.seed)}] if scenario.seed is not None else [],
        "links": [],
        "steps": steps,
        "attachments": attachments,
    }


def write_allure(
    results: R.RunResults,
    observations: RunObservations,
    out_dir: Path,
    mask: Callable[[str], str] = lambda text: text,
    pictures: dict[str, Path] | None = None,
) -> tuple[int, int]:
    """Write the Allure results of a run into ``out_dir``; return (files, bytes) written."""
    writer = _Writer(out_dir)
    for scenario in results.scenarios:
        result = _result(scenario, results, observations, writer, mask, pictures or {})
        text = json.dumps(result, ensure_ascii=False, indent=1)
        (writer.out_dir / f"{result['uuid']}-result.json").write_text(text, encoding="utf-8")
        writer.bytes += len(text.encode())
    target = results.run.target
    environment = {
        "target": target.get("name", ""),
        "target.version": target.get("version", ""),
        "suite.version": results.run.harness_version,
        "verdict": results.verdict(),
        "seed": str(results.run.seed),
        "run": results.run.id,
    }
    lines = "".join(f"{key}={str(value).replace(chr(10), ' ')}\n" for key, value in environment.items())
    atomic_write_text(writer.out_dir / "environment.properties", lines)
    return len(list(writer.out_dir.iterdir())), writer.bytes
