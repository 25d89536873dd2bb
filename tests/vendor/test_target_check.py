"""`smlite target check PROFILE` against nothing, a live target, and targets wrong in one way each.

Pointing at nothing: one clear line per failed probe, exit 2, no traceback.
Live (the Acme sandbox of conftest.py): every item ok, exit 0. A wrong token
(the target answers but refuses): exit 1. A target relaying to another Mailpit
than the profile's: the relay line says so, exit 1.
"""

from __future__ import annotations

import re

import pytest

from harness.sandbox.lifecycle import Sandbox

from .vendorkit import free_ports, read_toml, smlite

pytestmark = pytest.mark.sandbox  # real Mailpit and gateway processes

ITEMS = (
    "target reachable",
    "definitions listed",
    "MPP answers",
    "sandbox Mailpit",
    "test message relayed to the sandbox",
)


def lines_of(output: str) -> dict[str, str]:
    """item -> its line, for lines that start with a mark."""
    found = {}
    for line in output.splitlines():
        match = re.match(r"^[✓✗-] (.+?)\s{2,}", line)
        if match:
            found[match.group(1)] = line
    return found


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_a_profile_pointing_at_nothing_gets_one_line_per_failed_probe_and_exit_2(tmp_path):
    http, smtp, mailpit = free_ports(3)  # nothing listens there
    profile = write(
        tmp_path / "nothing.toml",
        f'name = "Nothing"\n[target]\nhttp = "http://127.0.0.1:{http}"\n'
        f'smtp = "127.0.0.1:{smtp}"\nadmin_token = "x"\n[mailpit]\napi = "http://127.0.0.1:{mailpit}"\n',
    )
    done = smlite("target", "check", profile, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr and done.stderr == ""
    lines = lines_of(done.stdout)
    assert lines["profile"].startswith("✓") and lines["driver"].startswith("✓")
    for item in ITEMS:
        line = lines[item]
        assert line.startswith("✗") and "unreachable" in line and line.endswith("connection refused"), line
    assert f"127.0.0.1:{http}/healthz" in lines["target reachable"]
    assert f"127.0.0.1:{smtp}" in lines["test message relayed to the sandbox"]
    assert f"127.0.0.1:{mailpit}" in lines["sandbox Mailpit"]
    assert len(done.stdout.splitlines()) == 2 + len(ITEMS) + 1  # each item one line, then the verdict
    assert done.stdout.splitlines()[-1].startswith("target check failed")


def test_a_bad_profile_is_one_invalid_line_and_exit_2(tmp_path):
    done = smlite("target", "check", write(tmp_path / "bad.toml", 'name = "x"\n[mailpit]\napi = "ftp://x"\n'))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stdout.splitlines()[0].startswith("✗ profile") and "mailpit.api must be an http(s) URL" in done.stdout
    done = smlite("target", "check", tmp_path / "missing.toml")
    assert done.returncode == 2 and "Cannot read target profile" in done.stdout


def test_a_live_target_passes_every_probe(acme):
    profile, _, _ = acme
    done = smlite("target", "check", profile)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = lines_of(done.stdout)
    assert all(lines[item].startswith("✓") for item in ITEMS), done.stdout
    assert "answers as Acme SecureMail" in lines["target reachable"]
    assert "acme.test, acme-eu.test" in lines["profile"]
    assert done.stdout.splitlines()[-1] == "target check passed"


def test_a_target_that_answers_but_refuses_the_token_exits_1(acme, tmp_path):
    profile, _, _ = acme
    wrong = write(
        tmp_path / "wrong-token.toml",
        re.sub(r'admin_token = ".*"', 'admin_token = "not-the-token"', profile.read_text()),
    )
    done = smlite("target", "check", wrong)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = lines_of(done.stdout)
    assert lines["target reachable"].startswith("✓")
    assert lines["test message relayed to the sandbox"].startswith("✓")
    assert "wrong" in lines["definitions listed"] and "status 401" in lines["definitions listed"]
    assert "wrong" in lines["MPP answers"] and "Cannot open an MPP session" in lines["MPP answers"]


def test_a_target_relaying_elsewhere_is_told_where_mail_must_go(acme, tmp_path):
    profile, _, _ = acme
    with Sandbox(with_gateway=False) as other:  # a Mailpit the target does not relay to
        info = other.info()
        text = profile.read_text()
        text = text.replace(read_toml(profile)["mailpit"]["api"], info["mailpit_api"])
        text = text.replace("delivery_timeout_s = 15.0", "delivery_timeout_s = 1.5")
        done = smlite("target", "check", write(tmp_path / "elsewhere.toml", text))
    assert done.returncode == 1, done.stdout + done.stderr
    line = lines_of(done.stdout)["test message relayed to the sandbox"]
    assert line.startswith("✗") and "never reached the sandbox Mailpit" in line
    assert f"does the target relay the mail it delivers to {read_toml(profile)['mailpit']['smtp']}?" in line
