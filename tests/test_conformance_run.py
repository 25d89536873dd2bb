"""The conformance suite end to end: real Mailpit, real gateway, real SMTP/HTTP.

Green against the reference gateway; red against deliberately broken variants,
on the right scenario and cell, with the delivered email as evidence; and the
kill rate over every variant is 100%.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness import results as R
from harness.cli.explore import explore_in_run
from harness.conformance.runner import RunOptions, run
from harness.conformance.selfcheck import check_variant
from harness.gateway.variants import ALTERNATIVES, VARIANTS

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    code, results, index = run(RunOptions(reports_dir=tmp_path_factory.mktemp("reports"), seed=4242, quiet=True))
    return code, results, index


def test_reference_gateway_is_conformant(reference_run):
    code, results, _index = reference_run
    failed = [(s.name, s.message) for s in results.scenarios if s.status in (R.FAILED, R.HARNESS_ERROR)]
    assert failed == []
    assert code == 0 and results.verdict() == "Conformant"


def test_every_source_row_ran_and_passed(reference_run):
    _, results, _ = reference_run
    per_table = results.per_table()
    for table, cases in (("T1", 6), ("T2", 2), ("T3", 6)):  # every source case, plus realistic mail
        assert per_table[table][R.PASSED] + per_table[table][R.NOT_SPECIFIED] == sum(per_table[table].values())
        assert per_table[table][R.PASSED] >= cases  # contract-only scenarios: not specified by the source
    assert per_table["definitions"][R.PASSED] >= 8
    refs = {ref for s in results.scenarios if s.status == R.PASSED for ref in s.refs}
    assert {"T1-r1", "T2-r1", "T2-r2", "T3-r1", "T3-r2", "T3-r3", "T3-r4", "T3-r5", "T3-r6"} <= refs


def test_silent_cells_are_observed_never_judged(reference_run):
    _, results, _ = reference_run
    silent = [s for s in results.scenarios if s.table == "other"]
    assert silent and all(s.status == R.NOT_SPECIFIED for s in silent)
    for scenario in results.scenarios:
        for cell in scenario.cells:
            if cell.level == "contract":
                assert cell.status == R.PASSED, (scenario.name, cell)  # the reference makes the contract's choices
            elif cell.standing == "not-specified":
                assert cell.status == R.CELL_OBSERVED, (scenario.name, cell)
            elif scenario.status == R.PASSED:
                assert cell.status == R.PASSED, (scenario.name, cell)


def test_report_files_are_written(reference_run):
    _, _results, index = reference_run
    folder = index.parent
    for name in ("index.html", "results.json", "junit.xml", "cucumber.json"):
        assert (folder / name).stat().st_size > 0, name
    assert R.RunResults.load(folder / "results.json").verdict() == "Conformant"
    assert (folder.parent / "latest").resolve() == folder.resolve()


def test_a_broken_variant_fails_the_right_cell_with_the_email_as_evidence(tmp_path):
    code, results, index = run(RunOptions(variant="mpp-external-banner", reports_dir=tmp_path, quiet=True, select="T1"))
    from tests.schemas import check_run_directory

    check_run_directory(index.parent)  # a failing run's three files validate and agree too
    assert code == 1 and results.verdict() == "Not conformant"
    failed = [s for s in results.scenarios if s.status == R.FAILED]
    assert {s.name for s in results.scenarios if s.status not in (R.PASSED, R.NOT_SPECIFIED)} == {
        s.name for s in failed
    }
    assert all("Mimecast Personal Portal with the External definition" in s.name for s in failed)
    first = "T1-r1 Mimecast Personal Portal with the External definition, to an external recipient"
    failed = sorted(failed, key=lambda s: s.name != first)
    assert failed[0].name == first
    cell = next(c for c in failed[0].cells if c.column == "Mail Box")
    assert (cell.status, cell.expected, cell.observed) == (R.FAILED, "Notification", "Email with banner")
    evidence = {e.id: e for e in failed[0].evidence}
    email = evidence[cell.evidence[0]]
    assert email.kind == "email" and email.data["classification"] == "Email with banner"
    assert email.data["mailpit_id"] and "banner" in email.data["rule"]


def test_seed_replays_the_same_people(tmp_path):
    names = []
    for _ in range(2):
        _, results, _ = run(RunOptions(reports_dir=tmp_path, seed=7, quiet=True, select="T3 and r1", report=False))
        names.append(
            [
                c.recipient.split(" (")[0] + c.recipient.split(", ")[-1].split(".")[0]
                for s in results.scenarios
                for c in s.cells
            ]
        )
    assert names[0] == names[1] and names[0]


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_broken_variant_is_caught(variant, tmp_path):
    """As `smlite selfcheck` checks it: the scenarios, then a whole run exploring a counted number of
    conversations (seed 1: the same draws every time, however loaded the machine, so a miss is the suite's,
    not the dice's nor the clock's)."""
    outcome = check_variant(variant, tmp_path, seed=1, explorer=explore_in_run)
    assert outcome.caught, f"{variant} ({VARIANTS[variant]}) was not caught: {outcome.verdict}"
    print(f"{variant}: caught by {outcome.caught_by[0]}")


@pytest.mark.slow
@pytest.mark.parametrize("alternative", list(ALTERNATIVES))
def test_every_choice_the_source_allows_is_accepted_as_a_contract_difference(alternative, tmp_path):
    code, results, _ = run(RunOptions(variant=alternative, reports_dir=tmp_path, quiet=True, seed=77))
    assert code == 0 and results.verdict() == "Conformant", results.verdict()
    assert results.contract_differences(), "the alternative left no trace among the contract differences"
    assert all(c.level == "contract" for c in results.contract_differences())


def test_selfcheck_prints_the_kill_rate(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli.main",
            "selfcheck",
            "--variant",
            "print-allowed",
            "read-receipt",
            "--reports-dir",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "kill rate: 2/2 = 100%" in completed.stdout
    # one line per variant as it finishes, then the report a person can open
    assert "[ 1/2] print-allowed" in completed.stderr and "[ 2/2] read-receipt" in completed.stderr
    (folder,) = tmp_path.glob("selfcheck-*")
    data = json.loads((folder / "selfcheck.json").read_text(encoding="utf-8"))
    assert [(v["variant"], v["caught"]) for v in data["variants"]] == [("print-allowed", True), ("read-receipt", True)]
    assert all(v["caught_by"] and v["seconds"] > 0 for v in data["variants"])
    assert data["reference"]["verdict"] == "Conformant"
    assert "print-allowed" in (folder / "index.html").read_text(encoding="utf-8")
    assert f"report: {folder / 'index.html'}" in completed.stdout


@pytest.mark.browser
def test_a_real_broken_run_in_chromium_and_compared_with_the_reference(reference_run, tmp_path):
    from harness.report.compare import compare_rows, write_comparison
    from tests.report.browser_check import check_report_in_browser

    _, reference, _ = reference_run
    code, broken, index = run(RunOptions(variant="table2-swapped", reports_dir=tmp_path, quiet=True, seed=4242))
    assert code == 1
    seen = check_report_in_browser(index)
    assert seen["ok"], seen["problems"]
    assert seen["verdict"] == "Not conformant"
    assert set(seen["failed_cells"]) == {"T2-r1 / Mail Box", "T2-r2 / Mail Box"}
    assert seen["detail_visible"] and seen["subject_visible"]
    assert seen["non_local_requests"] == [] and seen["xss"] == 0
    assert (index.parent / "screenshot.png").stat().st_size > 10_000

    cells = compare_rows(reference, broken)["cells"]
    differing = [row.key for row in cells if row.differs]
    assert {"T2-r1 / Mail Box", "T2-r2 / Mail Box"} <= set(differing)
    assert [row.differs for row in cells] == sorted((row.differs for row in cells), reverse=True)
    page = write_comparison(reference, broken, tmp_path / "compare")
    assert page.read_text(encoding="utf-8").index("T2-r1") < page.read_text(encoding="utf-8").index("T3-r1")


def test_two_workers_give_the_same_results_as_one(reference_run, tmp_path):
    """pytest-xdist: scenarios never see each other's mail, and every result reaches the controller."""
    _, one_worker, _ = reference_run
    code, two_workers, _ = run(RunOptions(reports_dir=tmp_path, seed=4242, quiet=True, workers=2))
    assert code == 0 and two_workers.verdict() == "Conformant"
    assert {s.id: s.status for s in two_workers.scenarios} == {s.id: s.status for s in one_worker.scenarios}
    assert len({s.worker for s in two_workers.scenarios}) == 2


def test_a_real_runs_files_match_their_schemas_and_each_other(reference_run):
    """results.json against docs/results.schema.json, junit.xml against junit-10.xsd, and one outcome per
    scenario in all three files, with cucumber.json pointing at the feature files' own lines."""
    from tests.schemas import check_run_directory

    _, results, index = reference_run
    check_run_directory(index.parent)
    cucumber = json.loads((index.parent / "cucumber.json").read_text(encoding="utf-8"))
    assert {f["uri"] for f in cucumber} == {f"features/{p.name}" for p in (REPO / "features").glob("*.feature")}
    refs = {c.ref for s in results.scenarios for c in s.cells}
    assert "" not in refs and {"X-mac", "X-mixed", "D-All", "D-External", "D-list"} <= refs
