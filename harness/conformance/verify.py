"""``smlite verify BUNDLE``: judge a certificate bundle again, from its own evidence, with this suite.

Owns ``verify_bundle`` (and ``Verification``, what it found). Nothing here reaches a target. In order:

1. **checksums** — every file against ``SHA256SUMS``, every raw message against its own name;
2. **the suite** — the bundle's source sha256 must be this suite's (another suite's bundle is unusable
   here: exit 2, verify it with that version);
3. **completeness** — every scenario this suite collects is in results.json, and nothing else;
4. **cells** — each recorded call of the judge is made again: the expected cells are asked of the
   source model again where the record says which question it was (application, definition, sender and
   recipient), each raw message is classified again with the profile's rules
   (harness/observation/recognition.py), then ``judge()`` (harness/conformance/judge.py) gives every
   cell's status and level, which must equal the results' cells. Cells no judge call gave (console and
   portal checks, derived checks of their own) are counted and left to the policy, and the scenarios
   no judge call decided at all (the definitions' and attributes' step checks) are named as taken as
   recorded — not re-judged from evidence, and said so;
5. **scenarios and verdict** — each scenario's status from its cells with harness/policy.py
   (``scenario_status``; a failure recorded by a step with no cell stands: it counts against the claim),
   and the run's verdict with ``policy.run_verdict``; it must equal the bundle's claim.

Any difference in 1, 3, 4 or 5 refuses the bundle (exit 1). A checksum recomputed by hand does not help:
the cells are judged again from what was observed.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from harness import policy
from harness import results as R
from harness.conformance.certificate import Bundle, checksum_problems, read_bundle, suite_identity
from harness.conformance.judge import Basis, judge
from harness.errors import UsageError
from harness.observation.recognition import classify, item_parts, parts_of
from harness.observation.values import Observation
from harness.profile.origins import declared_origins
from harness.profile.rules import Rules
from harness.results.observations import ObservationRecord
from harness.source_model import source
from harness.source_model.vocabulary import Cell

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Verification:
    files: int = 0
    suite_scenarios: int = 0
    present: int = 0
    records: int = 0
    cells_rejudged: int = 0
    cells_by_policy: int = 0
    reclassified: int = 0
    as_recorded: list[str] = field(default_factory=list)  # scenarios no judge call decided: step checks only
    verdict: str = ""
    claimed: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return not self.problems and self.verdict == self.claimed


def suite_scenarios() -> list[str]:
    """The ids of every scenario this suite has, as ``smlite run`` names them (pytest's collection)."""
    command = [sys.executable, "-m", "pytest", str(REPO / "steps" / "test_conformance.py"), "--collect-only", "-q"]
    command += ["-p", "pytest_bdd.plugin", "-p", "harness.conformance.plugin", "-p", "no:cacheprovider"]
    command += [f"--rootdir={REPO}", "-c", str(REPO / "pyproject.toml"), "-W", "ignore::DeprecationWarning"]
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    ids = [line.strip() for line in done.stdout.splitlines() if "::" in line and not line.startswith(" ")]
    if done.returncode != 0 or not ids:
        raise UsageError("Cannot list the suite's scenarios", (done.stderr or done.stdout).strip()[-300:])
    return ids


def _headers(raw: bytes) -> tuple[str, dict[str, list[str]]]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    headers: dict[str, list[str]] = {}
    for name, value in message.items():
        headers.setdefault(name, []).append(str(value))
    return str(message.get("Subject", "")), headers


def reclassify(column: str, raw: bytes, rules: Rules, origins: list[str], marker: str | None) -> str:
    """The kind of a raw message (Mail Box) or MPP item (its JSON), classified as the suite does."""
    if column == "MPP":
        item = json.loads(raw.decode("utf-8"))
        found = classify(
            item.get("subject", ""),
            item.get("text", ""),
            item.get("html", ""),
            item.get("headers", {}),
            rules,
            marker,
            parts=item_parts(item),
            origins=origins,
            declared=str(item.get("kind") or ""),
        )
        return found.kind
    subject, headers = _headers(raw)
    return classify(subject, "", "", headers, rules, marker, parts=parts_of(raw), origins=origins).kind


def _cells_of(record: ObservationRecord) -> dict[str, Cell]:
    return {column: Cell(c.get("value"), str(c.get("standing"))) for column, c in record.cells.items()}


def _check_record(
    report: Verification, scenario: R.ScenarioResult, record: ObservationRecord, bundle: Bundle, context: dict
) -> None:
    where = f"{scenario.id} ({record.recipient})"
    cells = _cells_of(record)
    question = record.question
    if question.get("application"):
        _ref, oracle = source.expected_cells(
            question["application"],
            question.get("definition", ""),
            bool(question.get("sender_internal")),
            bool(question.get("recipient_internal")),
        )
        if {k: (v.value, v.standing) for k, v in oracle.items()} != {
            k: (v.value, v.standing) for k, v in cells.items()
        }:
            report.problems.append(f"{where}: the expected cells differ from the source's for that message")
            cells = dict(oracle)
    observed: dict[str, Observation | None] = {}
    for column, seen in record.observed.items():
        if seen is None:
            observed[column] = None
            continue
        if seen.raw_sha256 and column in ("Mail Box", "MPP"):  # the SM Portal's answer is kept, not classified
            raw = next((d for n, d in bundle.files.items() if n.startswith(f"messages/{seen.raw_sha256}.")), None)
            if raw is None:
                report.problems.append(f"{where}: {column}: its raw message is not in the bundle")
            else:
                try:
                    kind = reclassify(column, raw, context["rules"], context["origins"], record.marker)
                except (ValueError, UnicodeDecodeError) as exc:
                    kind = f"unreadable ({exc})"
                report.reclassified += 1
                if kind != seen.value:
                    report.problems.append(
                        f"{where}: {column}: recorded {seen.value!r}, its raw message is {kind!r} when classified again"
                    )
        observed[column] = Observation(
            column, seen.value, seen.detail, [], list(seen.links), seen.item_id, list(seen.contract), list(seen.derived)
        )
    try:
        judgements = judge(cells, observed, Basis(record.basis))
    except ValueError:
        report.problems.append(f"{where}: unknown basis {record.basis!r}")
        return
    given = scenario.cells[record.first_cell : record.first_cell + record.cell_count]
    if len(given) != len(judgements) or record.cell_count != len(judgements):
        report.problems.append(f"{where}: the judge gives {len(judgements)} cell(s), the results hold {len(given)}")
        return
    for judged, cell in zip(judgements, given, strict=True):
        report.cells_rejudged += 1
        again = (judged.column, judged.expected, judged.status, judged.level, judged.observed)
        recorded = (cell.column, cell.expected, cell.status, cell.level, cell.observed)
        if again != recorded:
            report.problems.append(f"{where}: {cell.column}: results say {recorded[1:]}, judged again {again[1:]}")


def _scenario_status(scenario: R.ScenarioResult) -> str:
    """The status the policy gives this scenario from its cells (a step's failure without a cell stands)."""
    if scenario.status in (R.NOT_APPLICABLE, R.HARNESS_ERROR):
        return scenario.status
    failing = any(policy.counts_against_source(c.status, c.level) for c in scenario.cells)
    kind = "conformance_failure" if failing or scenario.status == R.FAILED else "passed"
    return policy.scenario_status(
        policy.Outcome(kind), not_specified="not-specified" in scenario.tags, contract="contract" in scenario.tags
    )


def verify_bundle(path: Path, *, scenarios: list[str] | None = None) -> Verification:
    """Judge ``path`` again; ``UsageError`` (exit 2) when it cannot be used at all."""
    bundle = read_bundle(path)
    report = Verification(files=len(bundle.files))
    report.problems += checksum_problems(bundle)
    suite = bundle.json("suite.json")
    mine = suite_identity()
    if not isinstance(suite, dict) or suite.get("source_sha256") != mine["source_sha256"]:
        theirs = suite.get("version") if isinstance(suite, dict) else "?"
        raise UsageError(
            "The bundle was made by another suite",
            f"its source sha256 differs from this suite's (smlite {mine['version']}); verify it with smlite {theirs}",
        )
    try:
        results = R.RunResults.from_dict(bundle.json("results.json"))
        records = {k: [ObservationRecord.from_dict(r) for r in v] for k, v in bundle.json("observations.json").items()}
        profile = bundle.json("profile.json")
        rules = Rules.from_mapping(profile.get("classification"))
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise UsageError("Not a certificate bundle", f"{path}: {type(exc).__name__}: {exc}") from None
    target = SimpleNamespace(target=profile.get("target") or {}, portal_origins=profile.get("portal_origins") or [])
    context = {"rules": rules, "origins": list(declared_origins(target))}
    report.claimed = str(bundle.json("results.json").get("summary", {}).get("verdict", ""))
    if not results.run.certify:
        report.problems.append("results.json is not of a certification run (run.certify is false)")
    wanted = scenarios if scenarios is not None else suite_scenarios()
    by_id = {s.id: s for s in results.scenarios}
    report.suite_scenarios = len(wanted)
    report.present = len(set(wanted) & set(by_id))
    report.problems += [f"scenario missing from the bundle: {sid}" for sid in wanted if sid not in by_id]
    report.problems += [f"scenario not in this suite: {sid}" for sid in by_id if sid not in set(wanted)]
    for scenario in results.scenarios:
        covered: set[int] = set()
        for record in records.get(scenario.id, []):
            report.records += 1
            _check_record(report, scenario, record, bundle, context)
            covered.update(range(record.first_cell, record.first_cell + record.cell_count))
        report.cells_by_policy += len(scenario.cells) - len(covered & set(range(len(scenario.cells))))
        if not records.get(scenario.id) and scenario.status in (R.PASSED, R.FAILED, R.NOT_SPECIFIED):
            report.as_recorded.append(scenario.name)
        again = _scenario_status(scenario)
        if again != scenario.status:
            report.problems.append(f"{scenario.id}: results say {scenario.status}, the policy gives {again}")
            scenario.status = again
    missing = [R.MissingScenario(sid, sid, "not in the bundle") for sid in wanted if sid not in by_id]
    report.verdict = R.RunResults(results.run, results.scenarios, results.missing + missing).verdict()
    if report.verdict != report.claimed:
        report.problems.append(f"the bundle claims {report.claimed!r}; its evidence gives {report.verdict!r}")
    return report


def lines(report: Verification, path: Path) -> list[str]:
    """What ``smlite verify`` prints."""
    out = [
        f"bundle: {path} ({report.files} files)",
        f"suite: {report.present} of this suite's {report.suite_scenarios} scenarios present",
        f"judged again: {report.cells_rejudged} cells from {report.records} recorded observations "
        f"({report.reclassified} raw messages classified again); {report.cells_by_policy} other cells by the policy",
    ]
    if report.as_recorded:
        out.append(
            f"taken as recorded: {len(report.as_recorded)} scenarios decided by step checks that record no "
            "observation (console listings, SM Portal permissions): their status is judged by the policy, "
            "not from evidence"
        )
    out += [f"  REFUSED: {problem}" for problem in report.problems[:40]]
    if len(report.problems) > 40:
        out.append(f"  … and {len(report.problems) - 40} more")
    out.append(f"verdict reached: {report.verdict}")
    out.append(f"bundle claims:   {report.claimed}")
    out.append("certificate holds: the verdict follows from the evidence" if report.holds else "certificate REFUSED")
    return out
