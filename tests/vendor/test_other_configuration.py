"""Nothing is hard-coded to the reference: the whole suite against a differently configured gateway.

The Acme sandbox (conftest.py: `smlite sandbox up --gateway-config
examples/acme-gateway.toml --write-profile`, other internal domains, banner,
notification subject, text and sender, ports from the configuration) must be
Conformant under `smlite run --target acme.toml --certify`, through the
built-in driver and through examples/example_driver.py; and with the default
classification rules instead of Acme's, the same target must fail: the rules
in the profile are what the suite judges by.

The certification run also proves what --certify records: the profile, its
digest and the suite version in results.json, and the banner atop the report.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from harness import __version__
from harness import results as R

from .vendorkit import REPO, example_driver_profile, read_toml, smlite

pytestmark = pytest.mark.sandbox  # real Mailpit and gateway processes


def run_suite(profile, reports, *args):
    done = smlite("run", "--target", profile, "--reports-dir", reports, "--seed", "5150", "-q", *args, timeout=300)
    index = next(iter(re.findall(r"^report: (.+)$", done.stdout, re.M)), None)
    latest = reports / "latest" / "results.json"
    assert index is None or latest.exists(), f"no complete run (latest not written):\n{done.stdout}\n{done.stderr}"
    results = R.RunResults.load(latest) if index else None
    return done, results


@pytest.fixture(scope="module")
def certified(acme, tmp_path_factory):
    profile, _, _ = acme
    reports = tmp_path_factory.mktemp("reports")
    done, results = run_suite(profile, reports, "--certify")
    return profile, done, results, reports / "latest"


def test_the_whole_suite_passes_against_another_configuration(certified):
    _, done, results, _ = certified
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verdict: Conformant  (seed 5150" in done.stdout
    counts = results.counts()
    assert counts[R.FAILED] == counts[R.HARNESS_ERROR] == counts[R.NOT_APPLICABLE] == 0
    per_table = results.per_table()
    for table, cases in (("T1", 6), ("T2", 2), ("T3", 6)):  # every source case, plus realistic mail
        assert per_table[table][R.PASSED] + per_table[table][R.NOT_SPECIFIED] == sum(per_table[table].values())
        assert per_table[table][R.PASSED] >= cases  # contract-only scenarios: not specified by the source


def test_the_other_configuration_was_really_in_effect(certified):
    _, _, results, _ = certified
    emails = [e.data for s in results.scenarios for e in s.evidence if e.kind == "email" and "classification" in e.data]
    notifications = [e for e in emails if e["classification"] == "Notification"]
    banners = [e for e in emails if e["classification"] == "Email with banner"]
    assert notifications and banners
    assert all(e["subject"].startswith("[Acme secure] ") and e["from"] == "no-reply@acme.test" for e in notifications)
    assert all("encrypted message" in e["text"] for e in notifications)
    assert all(e["excerpt"].startswith("[ACME ENCRYPTED] Delivered through Acme SecureMail.") for e in banners)
    domains = {address.rpartition("@")[2] for e in emails for address in re.findall(r"[\w.+-]+@[\w.-]+", e["to"])}
    assert {"acme.test", "acme-eu.test"} <= domains and "corp.example" not in domains
    assert results.run.target["name"] == "Acme SecureMail"


def test_a_certification_run_records_profile_and_suite_version_and_says_so_on_top(certified):
    profile, done, results, folder = certified
    run = results.run
    assert run.certify is True and run.selection == ""
    assert run.harness_version == __version__
    assert run.target["profile"] == str(profile)
    assert run.target["profile_sha256"] == hashlib.sha256(profile.read_bytes()).hexdigest()
    settings = run.target["profile_settings"]
    assert settings["internal_domains"] == ["acme.test", "acme-eu.test"]
    assert settings["target"]["admin_token"] == "***" and settings["classification"]["banner_text"].startswith("[ACME")
    assert sorted(run.target["capabilities"]) == sorted(read_toml(profile)["capabilities"])
    stored = json.loads((folder / "results.json").read_text())
    assert stored["run"]["certify"] is True and stored["summary"]["verdict"] == "Conformant"
    html = (folder / "index.html").read_text(encoding="utf-8")
    body = html[html.index("<body") :]
    assert "Certification run" in body and body.index("Certification run") < body.index("Conformant")
    assert str(profile) in body and f"suite version {__version__}" in body
    assert f"certification run: profile {profile}, suite version {__version__}" in done.stdout
    token = read_toml(profile)["target"]["admin_token"]
    files = [f for f in folder.resolve().rglob("*") if f.is_file()]
    leaks = [f.name for f in files if token in f.read_text(encoding="utf-8", errors="replace")]
    assert leaks == [], "the admin token is written in the report folder"


def test_the_example_driver_passes_the_suite_against_it(acme, tmp_path):
    profile, _, _ = acme
    mine = example_driver_profile(profile, tmp_path / "example-driver.toml")
    done, results = run_suite(mine, tmp_path / "reports")
    assert done.returncode == 0, done.stdout + done.stderr
    # a driver written before real mail existed: the real-mail scenarios, and only they, are not applicable
    assert results.verdict().startswith("Conformant"), results.verdict()
    skipped = {s.name for s in results.scenarios if s.status == R.NOT_APPLICABLE}
    assert skipped and all(" with the " in n and ("internal users" in n or "external recipient" in n) for n in skipped)
    assert results.run.target["driver"] == "examples.example_driver:ExampleDriver"
    assert results.run.target["profile_settings"]["target"]["api_key"] == "***"
    exchanges = [e for s in results.scenarios for e in s.evidence if e.kind == "http"]
    assert exchanges, "the example driver's exchanges are evidence in the report"


def test_with_the_default_rules_the_same_target_fails(acme, tmp_path):
    """The banner text is how an Email with banner is told: the wrong one fails the banner rows. The
    notification subject is only a recognition signal: the wrong one is a contract difference."""
    profile, _, _ = acme
    text = profile.read_text(encoding="utf-8")
    default_rules = tmp_path / "default-rules.toml"
    default_rules.write_text(text[: text.index("[classification]")], encoding="utf-8")
    done, results = run_suite(default_rules, tmp_path / "reports", "-k", "T3-r1 or T3-r2 or T1-r1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert results.verdict() == "Not conformant"
    cells = [c for s in results.scenarios for c in s.cells if c.status == R.FAILED and c.level != "contract"]
    assert cells and {c.observed for c in cells} == {"plain email"}
    assert {c.expected for c in cells} == {"Email with banner"}
    assert any("subject" in c.observed for c in results.contract_differences())


def test_a_driver_next_to_its_profile_is_found_from_anywhere(acme, tmp_path):
    """driver = "acme_driver:ExampleDriver", acme_driver.py beside the profile, smlite started elsewhere."""
    profile, _, _ = acme
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "acme_driver.py").write_text((REPO / "examples" / "example_driver.py").read_text())
    mine = example_driver_profile(profile, vendor / "acme.toml")
    mine.write_text(mine.read_text().replace('"examples.example_driver:ExampleDriver"', '"acme_driver:ExampleDriver"'))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    check = smlite("target", "check", mine, cwd=elsewhere)
    assert check.returncode == 0, check.stdout + check.stderr
    done = smlite(
        "run",
        "--target",
        mine,
        "--reports-dir",
        tmp_path / "reports",
        "-q",
        "-k",
        "definitions",
        cwd=elsewhere,
        timeout=300,
    )
    assert done.returncode == 0 and "verdict: Conformant" in done.stdout, done.stdout + done.stderr
