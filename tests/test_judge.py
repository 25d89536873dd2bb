"""One judge(): the suite, `smlite simulate` and `smlite load` judge a recipient's cells the same way.

Pure cases on observations made by hand (no network), then the agreement the issue asks for:
against a real target whose profile lacks `mpp`, simulate says "not applicable" for the MPP
cell exactly where the suite reports the scenario not applicable — never "DIFFERS".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness import results as R
from harness.conformance.judge import judge
from harness.files import toml_text
from harness.observation.values import Observation
from harness.source_model import source

REPO = Path(__file__).resolve().parent.parent


def cells(ref: str) -> dict:
    return source.row(ref).cells


def test_each_column_is_judged_against_its_own_cell_never_by_position():
    observed = {
        "Message in SM Portal": Observation("Message in SM Portal", "Yes"),
        "Mail Box": Observation("Mail Box", source.NOTIFICATION),
    }
    judged = {j.column: j for j in judge(cells("T3-r3"), observed)}
    assert judged["Mail Box"].status == R.PASSED and judged["Message in SM Portal"].status == R.PASSED
    assert judged["MPP"].status == R.NOT_APPLICABLE and judged["MPP"].observed is None


def test_a_derived_check_failing_on_the_same_item_fails_the_cell_at_the_derived_level():
    observed = {"Mail Box": Observation("Mail Box", source.BANNER, derived=["asks for a read receipt"])}
    (mail_box,) = [j for j in judge(cells("T3-r1"), observed) if j.column == "Mail Box"]
    assert mail_box.status == R.FAILED and mail_box.level == "derived" and "read receipt" in mail_box.detail


def test_a_missing_recognition_signal_is_a_contract_judgement_beside_a_passing_cell():
    observed = {"Mail Box": Observation("Mail Box", source.NOTIFICATION, contract=["lacks the private marker"])}
    judged = [j for j in judge(cells("T3-r3"), observed) if j.column == "Mail Box"]
    assert [(j.status, j.level) for j in judged] == [(R.PASSED, "source"), (R.FAILED, "contract")]


def test_a_blank_cell_is_only_observed():
    observed = {"MPP": Observation("MPP", "nothing")}
    (mpp,) = [j for j in judge(cells("T1-r1"), observed) if j.column == "MPP"]
    assert mpp.status == R.CELL_OBSERVED and mpp.level == ""


@pytest.mark.sandbox
def test_simulate_and_the_suite_agree_on_a_target_without_mpp(tmp_path):
    from harness.profile.schema import from_sandbox
    from harness.sandbox.lifecycle import Sandbox

    with Sandbox() as sandbox:
        profile = from_sandbox(sandbox.info())
        profile.capabilities = [c for c in profile.capabilities if c != "mpp"]
        path = tmp_path / "no-mpp.toml"
        path.write_text(toml_text({k: v for k, v in profile.to_dict().items() if k != "source_path"}))
        simulated = subprocess.run(
            [
                sys.executable,
                "-m",
                "harness.cli.main",
                "simulate",
                "--target",
                str(path),
                "--json",
                "--app",
                "outlook",
                "--definition",
                "All",
                "--from",
                "a@corp.example",
                "--to",
                "b@corp.example",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert simulated.returncode == 0, simulated.stdout + simulated.stderr
        columns = {c["column"]: c["verdict"] for c in json.loads(simulated.stdout)["recipients"][0]["columns"]}
        assert columns == {"Mail Box": "matches", "MPP": "not applicable", "Message in SM Portal": "matches"}
        suite = subprocess.run(
            [
                sys.executable,
                "-m",
                "harness.cli.main",
                "run",
                "--target",
                str(path),
                "-q",
                "-k",
                "T3-r1 or T3-r3",
                "--reports-dir",
                str(tmp_path / "reports"),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert suite.returncode == 0, suite.stdout + suite.stderr
    results = R.RunResults.load(tmp_path / "reports" / "latest" / "results.json")
    by_ref = {s.refs[0]: s for s in results.scenarios if len(s.refs) == 1 and s.name.startswith("T3-r")}
    assert by_ref["T3-r3"].status == R.NOT_APPLICABLE
    mpp_cells = [c for c in by_ref["T3-r1"].cells if c.column == "MPP"]
    assert mpp_cells and all(c.status == R.NOT_APPLICABLE for c in mpp_cells)
