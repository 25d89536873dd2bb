"""The whole suite, Conformant, against the reference gateway observed through IMAP (issue 16, part 2).

The gateway relays to a private Postfix, which delivers over LMTP into a private Dovecot
(harness/mailserver.py); no Mailpit is started. The target profile is what a vendor with a hosted
service writes: ``[mailbox] kind = "imap"`` and no ``[mailpit]``. Skipped, saying why, where Debian's
Dovecot and Postfix are missing or the tests do not run as root.
"""

from __future__ import annotations

import time

import pytest

from harness import mailserver
from harness import results as R
from harness.profile import CAPABILITIES, TargetProfile, load, to_toml
from harness.runner import RunOptions, run
from harness.sandbox import Sandbox

pytestmark = [pytest.mark.sandbox, pytest.mark.imap]

INTERNAL, EXTERNAL = ["corp.example"], ["example.net", "example.org"]


@pytest.fixture(scope="module")
def imap_run(tmp_path_factory):
    if mailserver.available() is not None:
        pytest.skip(f"no IMAP mail path: {mailserver.available()}")
    folder = tmp_path_factory.mktemp("imap-run")
    started = time.perf_counter()
    with mailserver.MailPath(INTERNAL + EXTERNAL) as path:
        mail_path_s = time.perf_counter() - started
        sessions = set(path._sessions)
        with Sandbox(internal_domains=INTERNAL, relay=(path.host, path.smtp_port)) as sandbox:
            info = sandbox.info()
            profile = TargetProfile(
                name="smlite reference gateway via Postfix and Dovecot", driver="reference",
                internal_domains=INTERNAL, external_domains=EXTERNAL, capabilities=list(CAPABILITIES),
                target={"smtp": "%s:%d" % info["gateway_smtp"], "http": info["gateway_http"],
                        "admin_token": info["admin_token"]},
                mailbox=path.mailbox_settings())
            profile_path = folder / "imap-profile.toml"
            profile_path.write_text(to_toml(profile, "observed through IMAP"), encoding="utf-8")
            suite_started = time.perf_counter()
            code, results, index = run(RunOptions(target=str(profile_path), reports_dir=folder / "reports",
                                                  seed=4242, quiet=True))
            suite_s = time.perf_counter() - suite_started
            sessions |= path._sessions
    print(f"\nIMAP mail path up in {mail_path_s:.2f}s; suite through IMAP {suite_s:.1f}s "
          f"(results duration_s {results.run.duration_s}s)")
    return {"code": code, "results": results, "index": index, "info": info, "profile": profile_path,
            "sessions": sessions}


def test_the_reference_gateway_is_conformant_through_imap(imap_run):
    results = imap_run["results"]
    failed = [(s.name, s.message) for s in results.scenarios if s.status in (R.FAILED, R.HARNESS_ERROR)]
    assert failed == []
    assert imap_run["code"] == 0 and results.verdict() == "Conformant"
    per_table = results.per_table()
    assert (per_table["T1"][R.PASSED], per_table["T2"][R.PASSED], per_table["T3"][R.PASSED]) == (6, 2, 6)
    assert per_table["definitions"][R.PASSED] >= 8


def test_no_mailpit_was_involved_and_the_evidence_is_imap_mail(imap_run):
    assert imap_run["info"]["mailpit_api"] is None and imap_run["info"]["pids"]["mailpit"] is None
    profile = load(imap_run["profile"])
    assert profile.mailpit == {} and profile.mailbox["kind"] == "imap"
    emails = [e for s in imap_run["results"].scenarios for e in s.evidence if e.kind == "email"]
    assert emails and all("/INBOX/" in e.data["mailpit_id"] for e in emails)  # user/INBOX/validity/uid ids
    settings = imap_run["results"].run.target["profile_settings"]
    assert settings["mailbox"]["password"] == "***"


def test_dovecot_and_postfix_died_with_the_run(imap_run):
    assert imap_run["sessions"] and mailserver._sessions_members(imap_run["sessions"]) == []
