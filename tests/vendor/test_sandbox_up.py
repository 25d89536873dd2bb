"""`smlite sandbox up --gateway-config FILE --write-profile PATH`, and `--mailpit-only`, as docs/vendors.md uses them.

The written profile matches the configuration (domains, banner, subject rule,
the configured ports, the token) and `smlite sandbox status` sees the sandbox;
settings the sandbox owns or the gateway rejects are one message and exit 2;
`--mailpit-only --write-profile` gives a vendor a starter profile whose
[mailpit] is the running Mailpit.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from harness.profile.schema import load

from .vendorkit import REPO, SMLITE, SandboxUp, read_toml, smlite

pytestmark = pytest.mark.sandbox  # real Mailpit and gateway processes


def test_the_written_profile_matches_the_gateway_configuration(acme):
    profile_path, settings_path, sandbox = acme
    settings, profile = read_toml(settings_path), load(profile_path)
    assert profile.name == "Acme SecureMail" and profile.driver == "reference"
    assert profile.internal_domains == ["acme.test", "acme-eu.test"]
    assert profile.classification.banner_text == settings["banner_text"]
    assert profile.classification.notification_subject == r"^\[Acme secure\] .* \(from .*\)"
    assert profile.target["smtp"] == f"127.0.0.1:{settings['smtp_port']}"
    assert profile.target["http"] == f"http://127.0.0.1:{settings['http_port']}"
    output = sandbox.output()
    assert re.search(rf"admin token\s+{re.escape(profile.target['admin_token'])}", output)
    assert re.search(rf"profile\s+{re.escape(str(profile_path))}", output)
    status = smlite("sandbox", "status", env={"XDG_STATE_HOME": str(sandbox.folder / "state")})
    assert status.returncode == 0 and "DOWN" not in status.stdout, status.stdout


def test_settings_the_sandbox_owns_are_refused(tmp_path):
    settings = tmp_path / "gw.toml"
    settings.write_text('internal_domains = ["acme.test"]\nrelay_port = 25\n')
    done = smlite("sandbox", "up", "--gateway-config", settings, env={"XDG_STATE_HOME": str(tmp_path)})
    assert done.returncode == 2 and "the sandbox sets relay_port itself" in done.stderr
    done = smlite(
        "sandbox", "up", "--mailpit-only", "--gateway-config", settings, env={"XDG_STATE_HOME": str(tmp_path)}
    )
    assert done.returncode == 2 and "--gateway-config configures the reference gateway" in done.stderr


def test_settings_the_gateway_rejects_are_its_message_and_exit_2(tmp_path):
    settings = tmp_path / "gw.toml"
    settings.write_text('internal_domains = ["acme.test"]\nnotification_subject = "Secure: {title}"\n')
    done = smlite(
        "sandbox",
        "up",
        "--gateway-config",
        settings,
        "--write-profile",
        tmp_path / "p.toml",
        env={"XDG_STATE_HOME": str(tmp_path)},
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "unknown placeholder(s) ['title']" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "p.toml").exists()


def test_mailpit_only_writes_a_starter_profile(tmp_path):
    starter = tmp_path / "mine.toml"
    sandbox = SandboxUp(tmp_path, "--mailpit-only", "--write-profile", str(starter)).start()
    try:
        profile = load(starter)
        assert profile.mailpit["api"].startswith("http://127.0.0.1:")
        assert "CHANGE-ME" in profile.target["http"] and "CHANGE-ME" in starter.read_text()
        state = read_toml(starter)  # the running Mailpit answers at the written address
        check = smlite("target", "check", starter, timeout=60)
        assert check.returncode == 2 and re.search(r"✓ sandbox Mailpit\s+ok", check.stdout), check.stdout
        assert state["mailpit"]["api"] in sandbox.output()
        for gateway_only in ("gateway SMTP", "MPP", "SM Portal", "Admin Console", "admin token", "None"):
            assert gateway_only not in sandbox.output(), "--mailpit-only printed a part that does not run"
    finally:
        assert sandbox.stop() == 0
    assert not os.path.exists(tmp_path / "state" / "smlite" / "sandbox.json")


def test_named_sandboxes_run_side_by_side(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first = SandboxUp(tmp_path / "a", "--name", "alpha")
    second = SandboxUp(tmp_path / "b", "--name", "beta")
    first.folder = second.folder = tmp_path  # one state folder: the names keep them apart
    first.log, second.log = tmp_path / "a" / "up.log", tmp_path / "b" / "up.log"
    first.start()
    try:
        second.start()
        try:
            env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
            for name in ("alpha", "beta"):
                done = subprocess.run(
                    [*SMLITE, "sandbox", "status", "--name", name],
                    cwd=REPO,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert done.returncode == 0 and done.stdout.count("up  ") == 7, done.stdout
            assert sorted(p.name for p in (tmp_path / "state" / "smlite").iterdir()) == [
                "sandbox-alpha.json",
                "sandbox-beta.json",
            ]
            again = subprocess.run(
                [*SMLITE, "sandbox", "up", "--name", "alpha"],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert again.returncode == 2 and "already running" in again.stderr
        finally:
            assert second.stop() == 0
    finally:
        assert first.stop() == 0
