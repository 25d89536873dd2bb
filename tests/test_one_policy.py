"""One policy (harness/policy.py): the suite, `smlite simulate` and the load sample reach the same verdict.

The same observations — made by hand, handed out by an observer that reads nothing — go through the
three paths: the suite's step "Erik gets:" with its pytest outcome and the results model, simulate's
per-recipient judgement, and the load sample's checker. A contract-only difference (a notification
without the private marker) is Conformant / "matches the source" / conforming everywhere, listed as a
contract difference each time; a wrong value fails everywhere. Then the same contract-only case live:
`smlite run` and `smlite simulate` against a reference gateway whose notifications lack the marker
both exit 0 and both list the difference.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness import policy
from harness import results as R
from harness.conformance import simulate
from harness.conformance.record import ScenarioRecord
from harness.errors import ConformanceFailure
from harness.load.sample import Sample, SampleChecker
from harness.observation.values import NO_MPP, Observation
from harness.profile.schema import TargetProfile
from harness.source_model import source
from steps.outcome_steps import gets
from steps.world import Sent, World

REPO = Path(__file__).resolve().parent.parent
MARKER_MISSING = "notification lacks the private marker 'Sensitivity: Private'"


class SeenObserver:
    """Hands out fixed observations: the part of an Observer the judging paths call."""

    def __init__(self, mail_box: str, contract: list[str]):
        self.driver = SimpleNamespace(capabilities=frozenset({"smtp-submission", "sm-portal", "mpp"}), recorder=None)
        self.mail_box, self.contract = mail_box, contract

    def mailbox(self, address, seen, marker):
        return Observation(
            "Mail Box", self.mail_box, "by hand", links=["http://t/sm-portal/m/x"], contract=self.contract
        )

    def mpp(self, address, internal, seen, marker, required):
        return Observation("MPP", NO_MPP, "external recipients have no MPP account")

    def sm_portal(self, address, links, subject, marker):
        return Observation("Message in SM Portal", source.YES, "opens")

    def recipients_together(self, marker, addresses):
        pass


PROFILE = TargetProfile(name="by hand", internal_domains=["corp.example"], external_domains=["example.net"])


def through_the_suite(observer: SeenObserver) -> R.RunResults:
    """The step "Erik gets:" of T1-r1, its outcome as the plugin turns it into a status, the run's verdict."""
    record = ScenarioRecord()
    world = World(PROFILE, observer.driver, observer, record, 7, "by-hand")  # type: ignore[arg-type]
    world.ref = "T1-r1"
    ines, erik = world.add_person("Ines", internal=True), world.add_person("Erik", internal=False)
    world.sent.append(Sent(ines, [erik], "outlook", "All", "s", "m", None))  # type: ignore[arg-type]
    row = source.row("T1-r1").cells
    table = [list(source.COLUMNS), [row[c].gherkin() for c in source.COLUMNS]]
    try:
        gets(world, "Erik", table)
        outcome = policy.Outcome("passed")
    except ConformanceFailure as failure:
        outcome = policy.Outcome("conformance_failure", str(failure))
    status = policy.scenario_status(outcome, not_specified=False, contract=False)
    scenario = R.ScenarioResult("t1", "T1-r1 by hand", "T1", "T1", ["T1-r1"], status=status, cells=record.cells)
    run = R.RunInfo("run", {}, "0", {}, 7, "now")
    return R.RunResults(run, [scenario])


def through_simulate(observer: SeenObserver) -> dict:
    recipient = simulate._observe(
        observer, PROFILE, "outlook", "All", "ines@corp.example", "erik@example.net", "s", "m"
    )  # type: ignore[arg-type]
    judged = [(c["status"], c["level"]) for c in recipient["columns"]]
    return {
        "recipient": recipient,
        "verdict": policy.message_verdict(judged),
        "differences": [c for c in recipient["columns"] if policy.is_contract_difference(c["status"], c["level"])],
    }


def through_the_load_sample(observer: SeenObserver) -> dict:
    checker = SampleChecker(SimpleNamespace(profile=PROFILE, tag="t"))  # type: ignore[arg-type]
    checker._recipient(
        observer, Sample(1, "outlook", "All", "ines@corp.example", [], "s", "m"), "erik@example.net", False
    )  # type: ignore[arg-type]
    checker.checked = 1
    return checker.summary()


def test_a_contract_only_difference_is_conformant_on_every_path():
    seen = SeenObserver(source.NOTIFICATION, [MARKER_MISSING])
    suite = through_the_suite(seen)
    assert suite.verdict() == "Conformant" and suite.exit_code() == 0
    assert [c.observed for c in suite.contract_differences()] == [MARKER_MISSING]
    simulated = through_simulate(seen)
    assert simulated["verdict"].text == "matches the source" and simulated["verdict"].exit_code == 0
    assert simulated["recipient"]["verdict"] == "matches the source"
    assert [c["observed"] for c in simulated["differences"]] == [MARKER_MISSING]
    sample = through_the_load_sample(seen)
    assert sample["conforming"] and sample["failed"] == 0 and sample["contract_differences"] == 1


def test_a_value_the_source_forbids_fails_on_every_path():
    seen = SeenObserver(source.BANNER, [])
    suite = through_the_suite(seen)
    assert suite.verdict() == "Not conformant" and suite.exit_code() == 1
    simulated = through_simulate(seen)
    assert simulated["verdict"].text == "DIFFERS from the source" and simulated["verdict"].exit_code == 1
    sample = through_the_load_sample(seen)
    assert not sample["conforming"] and sample["failed"] == 1


@pytest.mark.sandbox
@pytest.mark.slow
def test_run_and_simulate_agree_on_a_target_whose_notifications_lack_the_marker(tmp_path):
    from harness.files import toml_text
    from harness.profile.schema import from_sandbox
    from harness.sandbox.lifecycle import Sandbox

    with Sandbox(variant="no-private-marker") as sandbox:
        profile = from_sandbox(sandbox.info())
        path = tmp_path / "no-marker.toml"
        path.write_text(toml_text({k: v for k, v in profile.to_dict().items() if k != "source_path"}))
        smlite = [sys.executable, "-m", "harness.cli.main"]
        run = subprocess.run(
            [
                *smlite,
                "run",
                "--target",
                str(path),
                "-q",
                "--reports-dir",
                str(tmp_path / "reports"),
                "-k",
                "T1-r1 and Outlook and All and not several and not together and not blind",
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=300,
        )
        simulated = subprocess.run(
            [
                *smlite,
                "simulate",
                "--target",
                str(path),
                "--app",
                "outlook",
                "--definition",
                "All",
                "--from",
                "ines@corp.example",
                "--to",
                "erik@example.net",
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
        )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "verdict: Conformant" in run.stdout
    listed = [line for line in run.stdout.splitlines() if line.startswith("  contract: ")]
    assert re.search(rf"^contract: {len(listed)} differences? ", run.stdout, re.M) and listed
    assert all(line.endswith(MARKER_MISSING) for line in listed), listed
    assert simulated.returncode == 0, simulated.stdout + simulated.stderr
    assert "matches the source" in simulated.stdout and "DIFFERS" not in simulated.stdout
    assert "contract: 1 difference" in simulated.stdout and MARKER_MISSING in simulated.stdout
