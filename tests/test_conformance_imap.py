"""The whole suite, Conformant, against the reference gateway observed through IMAP.

The gateway relays to a private Postfix, which delivers over LMTP into a private Dovecot
(harness/sandbox/mailserver.py); no Mailpit is started. The target profile is what a vendor with a hosted
service writes: ``[mailbox] kind = "imap"`` and no ``[mailpit]``. Skipped, saying why, where Debian's
Dovecot and Postfix are missing or the tests do not run as root.
"""

from __future__ import annotations

import time

import pytest

from harness import results as R
from harness.conformance.runner import RunOptions, run
from harness.conformance.simulate import SimulateRequest, simulate
from harness.connection.check import check_profile
from harness.profile.schema import CAPABILITIES, OPTIONAL_EXTRAS, TargetProfile, load, to_toml
from harness.sandbox import mailserver
from harness.sandbox.lifecycle import Sandbox

pytestmark = [pytest.mark.sandbox, pytest.mark.imap]

INTERNAL, EXTERNAL = ["corp.example"], ["example.net", "example.org"]


def write_profile(where, info, path: mailserver.MailPath):
    """What a vendor of a hosted service writes: [target], and [mailbox] kind = "imap" without [mailpit]."""
    profile = TargetProfile(
        name="smlite reference gateway via Postfix and Dovecot",
        driver="reference",
        internal_domains=INTERNAL,
        external_domains=EXTERNAL,
        capabilities=[c for c in CAPABILITIES if c not in OPTIONAL_EXTRAS],
        target={
            "smtp": "{}:{}".format(*info["gateway_smtp"]),
            "http": info["gateway_http"],
            "admin_token": info["admin_token"],
        },
        mailbox=path.mailbox_settings(),
    )
    where.write_text(to_toml(profile, "observed through IMAP"), encoding="utf-8")
    return where


@pytest.fixture(scope="module")
def imap_target(tmp_path_factory):
    """The mail path, the reference gateway relaying into it, and the IMAP profile; all stopped after."""
    if mailserver.available() is not None:
        pytest.skip(f"no IMAP mail path: {mailserver.available()}")
    folder = tmp_path_factory.mktemp("imap-run")
    started = time.perf_counter()
    with mailserver.MailPath(INTERNAL + EXTERNAL) as path:
        mail_path_s = time.perf_counter() - started
        with Sandbox(internal_domains=INTERNAL, relay=(path.host, path.smtp_port)) as sandbox:
            info = sandbox.info()
            profile_path = write_profile(folder / "imap-profile.toml", info, path)
            target = {"folder": folder, "info": info, "profile": profile_path, "path": path, "mail_path_s": mail_path_s}
            yield target
        sessions = set(path._sessions)
    # MailPath.stop() raised already if any were left; this says it again, in the test's words
    assert sessions and mailserver._sessions_members(sessions) == [], "Dovecot or Postfix outlived the tests"


@pytest.fixture(scope="module")
def imap_run(imap_target):
    started = time.perf_counter()
    code, results, index = run(
        RunOptions(
            target=str(imap_target["profile"]), seed=4242, quiet=True, reports_dir=imap_target["folder"] / "reports"
        )
    )
    print(
        f"\nIMAP mail path up in {imap_target['mail_path_s']:.2f}s; suite through IMAP "
        f"{time.perf_counter() - started:.1f}s (results duration_s {results.run.duration_s}s)"
    )
    return {**imap_target, "code": code, "results": results, "index": index}


def test_the_reference_gateway_is_conformant_through_imap(imap_run):
    results = imap_run["results"]
    failed = [(s.name, s.message) for s in results.scenarios if s.status in (R.FAILED, R.HARNESS_ERROR)]
    assert failed == []
    # look-alikes of an internal domain have no IMAP mailbox: those scenarios alone are not applicable
    not_applicable = [s.name for s in results.scenarios if s.status == R.NOT_APPLICABLE]
    assert not_applicable and all("domain" in name for name in not_applicable), not_applicable
    assert imap_run["code"] == 0 and results.verdict().startswith("Conformant"), results.verdict()
    per_table = results.per_table()
    for table, cases in (("T1", 6), ("T2", 2), ("T3", 6)):  # every source case, plus realistic mail
        counted = per_table[table][R.PASSED] + per_table[table][R.NOT_SPECIFIED] + per_table[table][R.NOT_APPLICABLE]
        assert counted == sum(per_table[table].values()) and per_table[table][R.PASSED] >= cases
    assert per_table["definitions"][R.PASSED] >= 8


def test_no_mailpit_was_involved_and_the_evidence_is_imap_mail(imap_run):
    assert imap_run["info"]["mailpit_api"] is None and imap_run["info"]["pids"]["mailpit"] is None
    profile = load(imap_run["profile"])
    assert profile.mailpit == {} and profile.mailbox["kind"] == "imap"
    emails = [e for s in imap_run["results"].scenarios for e in s.evidence if e.kind == "email"]
    # user/INBOX/validity/uid ids; a barrier seen only in the MPP view has no mailbox id
    assert emails and all(
        "/INBOX/" in e.data["mailpit_id"]
        for e in emails
        if e.data.get("mailpit_id") is not None or not e.title.startswith("Barrier")
    )
    settings = imap_run["results"].run.target["profile_settings"]
    assert settings["mailbox"]["password"] == "***"


def test_target_check_follows_a_message_into_its_imap_mailbox(imap_target):
    code, lines = check_profile(str(imap_target["profile"]))
    assert code == 0, lines
    by_item = {item: (state, detail) for state, item, detail in lines}
    assert by_item["IMAP mailboxes"][0] == "ok" and "IMAP 127.0.0.1:" in by_item["IMAP mailboxes"][1]
    state, detail = by_item["test message relayed to the sandbox"]
    assert state == "ok" and "arrived in its mailbox as smlite-check-" in detail and "/INBOX/" in detail


def test_simulate_reads_the_recipients_mailboxes_over_imap(imap_target):
    profile = load(imap_target["profile"])
    report = simulate(profile, SimulateRequest("mpp", "External", "ann.sim@corp.example", ["bo.sim@example.net"], []))
    [recipient] = report["recipients"]
    mailbox = next(c for c in recipient["columns"] if c["column"] == "Mail Box")
    assert (mailbox["observed"], mailbox["expected"]) == ("Notification", "Notification"), recipient
    assert recipient["matches"] and mailbox["detail"].startswith("IMAP message bo.sim@example.net/INBOX/")


def test_a_broken_variant_is_caught_through_imap_with_the_mail_as_evidence(imap_target, tmp_path):
    path = imap_target["path"]
    with Sandbox(internal_domains=INTERNAL, relay=(path.host, path.smtp_port), variant="mpp-external-banner") as broken:
        profile = write_profile(tmp_path / "broken.toml", broken.info(), path)
        code, results, _ = run(
            RunOptions(target=str(profile), reports_dir=tmp_path, quiet=True, select="T1", report=False)
        )
    assert code == 1 and results.verdict() == "Not conformant"
    failed = [s for s in results.scenarios if s.status == R.FAILED]
    assert failed and all("Mimecast Personal Portal with the External definition" in s.name for s in failed)
    first = "T1-r1 Mimecast Personal Portal with the External definition, to an external recipient"
    failed = sorted(failed, key=lambda s: s.name != first)
    assert failed[0].name == first
    cell = next(c for c in failed[0].cells if c.column == "Mail Box")
    assert (cell.expected, cell.observed) == ("Notification", "Email with banner")
    email = {e.id: e for e in failed[0].evidence}[cell.evidence[0]]
    assert "/INBOX/" in email.data["mailpit_id"] and "banner" in email.data["rule"]
