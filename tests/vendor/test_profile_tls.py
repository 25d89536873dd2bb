"""The reference driver's TLS and AUTH profile keys, without a target: validated with clear errors,
the password masked in results, the password's variable read from the environment."""

from __future__ import annotations

import pytest

from harness.drivers import load_driver
from harness.errors import UsageError
from harness.profile.schema import from_dict

BASE_TARGET = {"http": "https://127.0.0.1:1", "smtp": "127.0.0.1:2", "admin_token": "t"}


def driver(**target):
    return load_driver(
        from_dict({"name": "Acme", "mailpit": {"api": "http://127.0.0.1:8025"}, "target": {**BASE_TARGET, **target}})
    )


def test_todays_profile_still_means_plain_smtp_and_system_trust():
    d = driver()
    assert (d.smtp_tls, d.smtp_username, d.ca_bundle, d.tls_verify) == ("none", "", "", True)


@pytest.mark.parametrize(
    "target, message",
    [
        ({"smtp_tls": "ssl"}, "target.smtp_tls must be"),
        ({"tls_verify": "no"}, "target.tls_verify must be true or false"),
        ({"ca_bundle": "/no/such/ca.pem"}, "target.ca_bundle: no such file"),
        ({"smtp_username": "u"}, "needs smtp_password or smtp_password_env"),
        ({"smtp_password": "p"}, "smtp_password needs smtp_username"),
        ({"smtp_username": "u", "smtp_password": "p", "smtp_password_env": "X"}, "keep one"),
        ({"smtp_username": "u", "smtp_password_env": "SMLITE_TEST_SURELY_UNSET"}, "is not set in the environment"),
    ],
)
def test_bad_tls_keys_are_usage_errors(target, message):
    with pytest.raises(UsageError, match=message):
        driver(**target)


def test_password_from_the_environment_and_masked_in_results(monkeypatch, tmp_path):
    monkeypatch.setenv("ACME_SMTP_PASSWORD", "from-env")
    ca = tmp_path / "ca.pem"
    ca.write_text("-")
    d = driver(smtp_tls="starttls", smtp_username="probe", smtp_password_env="ACME_SMTP_PASSWORD", ca_bundle=str(ca))
    assert d._smtp_password == "from-env" and d.ca_bundle == str(ca)
    shown = from_dict(
        {
            "name": "A",
            "mailpit": {"api": "http://x:1"},
            "target": {
                **BASE_TARGET,
                "smtp_username": "probe",
                "smtp_password": "hunter2",
                "smtp_password_env": "ACME_SMTP_PASSWORD",
            },
        }
    ).public_dict()["target"]
    assert shown["smtp_password"] == "***" and shown["admin_token"] == "***"
    assert shown["smtp_username"] == "probe" and shown["smtp_password_env"] == "ACME_SMTP_PASSWORD"


def test_sandbox_gateway_settings_leave_tls_to_the_sandbox(tmp_path):
    from harness.profile.schema import gateway_settings_file

    settings = tmp_path / "gw.toml"
    settings.write_text('internal_domains = ["acme.test"]\nsmtp_tls = "implicit"\ntls_cert = "mine.pem"\n')
    with pytest.raises(UsageError, match=r"smtp_tls, tls_cert: .*smlite sandbox up --tls"):
        gateway_settings_file(settings)
