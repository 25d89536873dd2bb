"""The suite over TLS and SMTP AUTH, against real processes.

A sandbox whose reference gateway takes submissions over STARTTLS + AUTH (and
one over implicit TLS + AUTH), HTTPS with the sandbox's own CA; the profile
written for it is the one a vendor would write (smtp_tls, smtp_username,
smtp_password, ca_bundle), and the whole suite runs through it as a
``--target``. Also: a wrong password is a harness error naming the profile
keys (never a failure of the target), the password never reaches the report,
and ``smlite target check`` reports the TLS version, the certificate subject
and expiry, and the AUTH mechanisms offered.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import results as R
from harness.conformance.runner import RunOptions, run
from harness.profile.schema import from_sandbox, to_toml
from harness.sandbox.lifecycle import Sandbox

pytestmark = pytest.mark.sandbox

REPO = Path(__file__).resolve().parent.parent


def _profile(sandbox: Sandbox, path: Path, **changes: str) -> Path:
    profile = from_sandbox(sandbox.info())
    profile.target.update(changes)
    path.write_text(to_toml(profile), encoding="utf-8")
    return path


def _run_suite(profile_path: Path, reports: Path, **options):
    return run(RunOptions(target=str(profile_path), reports_dir=reports, seed=4242, quiet=True, **options))


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_the_suite_is_conformant_over_tls_with_auth(mode, tmp_path):
    with Sandbox(tls=mode, auth=True) as sandbox:
        info = sandbox.info()
        assert info["gateway_http"].startswith("https://") and info["smtp_tls"] == mode
        profile_path = _profile(sandbox, tmp_path / "profile.toml")
        text = profile_path.read_text()
        assert f'smtp_tls = "{mode}"' in text and "smtp_password" in text and "ca_bundle" in text
        code, results, index = _run_suite(profile_path, tmp_path / "reports")
    failed = [(s.name, s.message) for s in results.scenarios if s.status in (R.FAILED, R.HARNESS_ERROR)]
    assert failed == []
    assert code == 0 and results.verdict() == "Conformant"
    t1 = results.per_table()["T1"]
    assert t1[R.PASSED] + t1[R.NOT_SPECIFIED] == sum(t1.values()) and t1[R.PASSED] >= 6
    # the password is masked in every report file, the user name is not
    for report_file in index.parent.iterdir():
        if report_file.is_file():
            assert info["smtp_password"] not in report_file.read_text(errors="replace"), report_file.name
    recorded = (index.parent / "results.json").read_text()
    assert '"smtp_password": "***"' in recorded and info["smtp_username"] in recorded


def test_plain_smtp_to_a_starttls_gateway_is_refused_before_any_mail(tmp_path):
    """The gateway's side: no submission without STARTTLS, no AUTH offered in clear, no mail without AUTH."""
    import smtplib
    import ssl

    with Sandbox(tls="starttls", auth=True) as sandbox:
        info = sandbox.info()
        host, port = info["gateway_smtp"]
        with smtplib.SMTP(host, port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("starttls") and not client.has_extn("auth")
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                client.sendmail("a@corp.example", ["b@example.net"], "Subject: x\r\n\r\nx")
            assert refused.value.smtp_code == 530
            client.starttls(context=ssl.create_default_context(cafile=info["ca_bundle"]))
            client.ehlo()
            assert set(client.esmtp_features["auth"].split()) == {"PLAIN", "LOGIN"}
            with pytest.raises(smtplib.SMTPSenderRefused) as unauthenticated:
                client.sendmail("a@corp.example", ["b@example.net"], "Subject: x\r\n\r\nx")
            assert unauthenticated.value.smtp_code == 530
        assert sandbox.mailbox.count() == 0


def test_a_wrong_password_is_a_harness_error_not_a_target_failure(tmp_path):
    with Sandbox(tls="starttls", auth=True) as sandbox:
        profile_path = _profile(sandbox, tmp_path / "profile.toml", smtp_password="not-the-password")
        code, results, _ = _run_suite(profile_path, tmp_path / "reports", select="T1 and Outlook", exitfirst=True)
    assert results.scenarios, "no scenario ran"
    assert not [s for s in results.scenarios if s.status == R.FAILED], "a set-up error was blamed on the target"
    errors = [s for s in results.scenarios if s.status == R.HARNESS_ERROR]
    assert errors, [(s.name, s.status) for s in results.scenarios]
    assert "SMTP AUTH refused" in errors[0].message and "smtp_password" in errors[0].message
    assert "not-the-password" not in errors[0].message
    assert code != 0


def test_target_check_reports_tls_version_certificate_and_auth_mechanisms(tmp_path):
    with Sandbox(tls="implicit", auth=True) as sandbox:
        profile_path = _profile(sandbox, tmp_path / "profile.toml")
        done = subprocess.run(
            [sys.executable, "-m", "harness.cli.main", "target", "check", str(profile_path)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    https = next(line for line in out.splitlines() if " HTTPS " in line)
    smtp = next(line for line in out.splitlines() if "SMTP submission TLS and AUTH" in line)
    for line in (https, smtp):
        assert line.startswith("✓"), line
        assert re.search(r"TLSv1\.[23]", line), line
        assert "O=smlite reference gateway" in line, line
        assert re.search(r"expires \d{4}-\d\d-\d\d", line), line
    assert "implicit:" in smtp and re.search(r"AUTH offered: (LOGIN PLAIN|PLAIN LOGIN)", smtp), smtp
    assert "logged in as 'submitter'" in smtp


def test_target_check_says_when_the_ca_is_not_trusted(tmp_path):
    with Sandbox(tls="starttls", auth=True) as sandbox:
        profile_path = _profile(sandbox, tmp_path / "profile.toml")
        text = re.sub(r"^ca_bundle = .*\n", "", profile_path.read_text(), flags=re.M)
        profile_path.write_text(text)
        done = subprocess.run(
            [sys.executable, "-m", "harness.cli.main", "target", "check", str(profile_path)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
    assert done.returncode in (1, 2) and "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert re.search(r"✗ HTTPS .*certificate verify failed", done.stdout), done.stdout
    assert re.search(r"✗ SMTP submission TLS and AUTH .*certificate verify failed", done.stdout), done.stdout


def test_sandbox_up_with_tls_and_auth_prints_and_writes_what_a_client_needs(tmp_path):
    """`smlite sandbox up --tls starttls --auth --write-profile P`: status sees every part up over
    HTTPS/STARTTLS, and the written profile passes `target check`."""
    from harness.profile.schema import load
    from tests.vendor.vendorkit import SandboxUp, smlite

    profile_path = tmp_path / "p.toml"
    up = SandboxUp(tmp_path, "--tls", "starttls", "--auth", "--write-profile", str(profile_path)).start()
    try:
        output = up.output()
        assert re.search(r"MPP\s+https://127\.0\.0\.1:\d+/mpp", output), output
        assert re.search(r"SMTP TLS\s+starttls", output) and re.search(r"SMTP AUTH user\s+submitter", output)
        profile = load(profile_path)
        assert profile.target["smtp_tls"] == "starttls" and profile.target["smtp_username"] == "submitter"
        assert profile.target["ca_bundle"].endswith("/tls/ca.pem")
        status = smlite("sandbox", "status", env={"XDG_STATE_HOME": str(tmp_path / "state")})
        assert status.returncode == 0 and "DOWN" not in status.stdout, status.stdout
        check = smlite("target", "check", profile_path, timeout=120)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "starttls: TLSv1." in check.stdout and "logged in as 'submitter'" in check.stdout
    finally:
        assert up.stop() == 0, up.output()


def test_tls_options_without_a_gateway_are_refused(tmp_path):
    from tests.vendor.vendorkit import smlite

    done = smlite("sandbox", "up", "--mailpit-only", "--tls", "implicit", env={"XDG_STATE_HOME": str(tmp_path)})
    assert done.returncode == 2 and "--tls and --auth configure the reference gateway" in done.stderr
    assert "Traceback" not in done.stderr
