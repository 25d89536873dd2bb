"""A partial target: without `clock` and `mpp`, their scenarios are "not applicable", the rest still judged.

End to end against the Acme sandbox with a profile declaring neither: every
scenario tagged @requires:mpp or @requires:clock (and only those) is not
applicable with the missing capability as its reason, nothing fails, the verdict
reads "Conformant (partial: N not applicable)", and the summary lists each one.
"""

from __future__ import annotations

import re
import tomllib

import pytest

from harness import results as R
from harness.files import toml_text

from .vendorkit import smlite

pytestmark = pytest.mark.sandbox  # real Mailpit and gateway processes

MISSING = ("mpp", "clock")


def test_missing_capabilities_make_their_scenarios_not_applicable(acme, tmp_path):
    profile, _, _ = acme
    partial = tmp_path / "partial.toml"
    data = tomllib.loads(profile.read_text())
    data["capabilities"] = ["smtp-submission", "sm-portal", "admin-console", "sm-portal-index"]
    partial.write_text(toml_text(data))
    done = smlite("run", "--target", partial, "--reports-dir", tmp_path / "reports", "-q", timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    results = R.RunResults.load(tmp_path / "reports" / "latest" / "results.json")
    from tests.schemas import check_run_directory

    check_run_directory(tmp_path / "reports" / "latest")  # not applicable agrees in all three files

    needs = {s.id for s in results.scenarios if {f"requires:{c}" for c in MISSING} & set(s.tags)}
    not_applicable = [s for s in results.scenarios if s.status == R.NOT_APPLICABLE]
    assert needs and {s.id for s in not_applicable} == needs
    for scenario in not_applicable:
        missing = [c for c in MISSING if f"requires:{c}" in scenario.tags]
        assert scenario.message == f"not applicable: the target lacks {', '.join(missing)}", scenario.message
    assert results.counts()[R.FAILED] == results.counts()[R.HARNESS_ERROR] == 0
    assert results.counts()[R.PASSED] > 0

    verdict = f"Conformant (partial: {len(needs)} not applicable)"
    assert results.verdict() == verdict and f"verdict: {verdict}" in done.stdout
    listed = re.findall(r"^    n/a  (.+?)  \(the target lacks (.+)\)$", done.stdout, re.M)
    assert sorted(name for name, _ in listed) == sorted(s.name for s in not_applicable)
    assert f"not applicable ({len(needs)}):" in done.stdout
    assert "partial" in (tmp_path / "reports" / "latest" / "index.html").read_text(encoding="utf-8")
    assert sorted(results.run.target["capabilities"]) == [
        "admin-console",
        "sm-portal",
        "sm-portal-index",
        "smtp-submission",
    ]
